/**
 * Mixture of experts. The router projection is a GEMV like any linear; the top-k choice is a host
 * step (moe_route) that sets the variables expert[layer][j] and writes the k routing weights back
 * to L2, one per word. Every expert's weight tiles are stored as a table in each port's stream
 * (expert e at base + e·stride), so the DMA of slot j reads offset base + stride·expert[layer][j]:
 * a relocation the driver patches right after the host step. Per slot: gate/up GEMVs (biases
 * preloaded), the gated activation (host or SFU), the down GEMV, then out += w_j·y_j with SCALE
 * accm (w_j in the header word). Prefill runs this per token row.
 */
import type { ExpertMatrix, ExpertVector, MoeExpertsOp, MoeRouteOp } from "../../resolver/graph/index.js";
import { expertMatrixView } from "../../resolver/graph/index.js";
import type { DmaPiece, L2Addr } from "../draft.js";
import { unsupportedOp } from "../errors.js";
import { hasCvo } from "../machine.js";
import type { DmaPort, HostOperand } from "../program.js";
import { regionOfPort, type TileRequest } from "../registry.js";
import { portRows } from "../tiles.js";
import { hostBytes, hostOperandOf, type LValue } from "../values.js";
import type { Lower } from "./context.js";
import { accumulationTarget, chunks, type MatSpec, matmul, matSpec, type TileSource } from "./linear.js";
import { spanView } from "./mla.js";
import { expertVar } from "./vars.js";
import { placedVector, vectorOperand } from "./vectors.js";

/** moe_route is lowered with the experts it feeds (per row, right before them). */
export function lowerMoeRoute(L: Lower, op: MoeRouteOp): void {
  const readers = L.an.readers.get(op.outputs[0]!) ?? [];
  if (!readers.every((r) => r.kind === "moe_experts"))
    throw unsupportedOp(op, "its expert indices are read by an op other than moe_experts");
}

interface ExpertTable {
  /** Per port: base offset of expert 0 and bytes per expert. */
  readonly base: Map<DmaPort, { base: number; stride: number }>;
  /** Expert 0's request (and port) → its place inside an expert's block. */
  readonly local: Map<string, { port: DmaPort; offset: number; bytes: number; seg: string }>;
}

const tables = new WeakMap<object, Map<string, ExpertTable>>();

/** A tile of expert 0's matrices (slot GEMVs name expert 0's requests; the offset selects the expert). */
const localKey = (r: TileRequest, port: DmaPort) => JSON.stringify([port, r]);

/** The tile requests one expert's matrix produces, in consumption order (GEMV tiling). */
function requests(L: Lower, mat: MatSpec): { req: TileRequest; port: DmaPort }[] {
  const ports = L.m.enginePorts.gemv;
  const out: { req: TileRequest; port: DmaPort }[] = [];
  for (const nt of chunks(L.m, mat.n))
    for (const kc of chunks(L.m, mat.k)) {
      const split = portRows(nt.width, ports.length);
      ports.forEach((port, j) => {
        const r = split[j]!;
        if (r.count === 0) return;
        out.push({
          port,
          req: {
            tensor: mat.tensor,
            ...(mat.expert !== undefined ? { expert: mat.expert } : {}),
            rows: { start: mat.rowStart + nt.start + r.start, count: r.count },
            cols: { start: kc.start, count: kc.width },
            order: 0,
            group: mat.group,
            transforms: mat.transforms,
          },
        });
      });
    }
  return out;
}

/** Builds (once per program) the table of every expert's tiles for the op's matrices. */
function expertTable(L: Lower, op: MoeExpertsOp, mats: (e: number) => MatSpec[]): ExpertTable {
  let byOp = tables.get(L.reg);
  if (!byOp) {
    byOp = new Map();
    tables.set(L.reg, byOp);
  }
  const hit = byOp.get(op.id);
  if (hit) return hit;
  const perExpert = (e: number) => mats(e).flatMap((m) => requests(L, m));
  const first = perExpert(0);
  const base = new Map<DmaPort, { base: number; stride: number }>();
  const local = new Map<string, { port: DmaPort; offset: number; bytes: number; seg: string }>();
  const sizes = new Map<DmaPort, number>();
  const offsets: number[] = [];
  for (const { req, port } of first) {
    const bytes = tileBytesOf(L, req);
    const o = sizes.get(port) ?? 0;
    offsets.push(o);
    sizes.set(port, o + bytes);
  }
  for (const [port, stride] of sizes) {
    const b = L.reg.reserve(regionOfPort(port), "weights", stride * op.numExperts, port);
    base.set(port, { base: b, stride });
  }
  for (let e = 0; e < op.numExperts; e++) {
    const list = e === 0 ? first : perExpert(e);
    list.forEach(({ req, port }, i) => {
      const b = base.get(port)!;
      const seg = L.reg.addSegment(req, port, b.base + e * b.stride + offsets[i]!);
      if (e === 0)
        local.set(localKey(req, port), { port, offset: offsets[i]!, bytes: tileBytesOf(L, req), seg });
    });
  }
  const t = { base, local };
  byOp.set(op.id, t);
  return t;
}

function tileBytesOf(L: Lower, req: TileRequest): number {
  const bytesPerRow = Math.ceil(req.cols.count / L.m.int4PerBeat) * L.m.beatBytes;
  const scales = req.rows.count * (req.group > 0 ? Math.ceil(req.cols.count / req.group) : 1);
  return req.rows.count * bytesPerRow + Math.ceil((scales * L.m.scaleBytes) / L.m.beatBytes) * L.m.beatBytes;
}

/** One expert's matrix; `folded`: it reads the op's input, so a folded norm scales its columns. */
function matrixOf(
  L: Lower,
  op: MoeExpertsOp,
  m: ExpertMatrix,
  e: number,
  n: number,
  k: number,
  folded: boolean,
): MatSpec {
  const view = expertMatrixView(m, e);
  return matSpec(L, view, n, k, folded ? op.id : "");
}

/** A per-expert vector as stored rows: region, offset of expert 0 and the stride between experts. */
function expertVectorStride(
  L: Lower,
  op: MoeExpertsOp,
  v: ExpertVector,
): { region: string; base: number; stride: number } {
  if (v.kind !== "stacked")
    throw unsupportedOp(
      op,
      "per-expert bias tensors stored one per expert cannot be selected by a relocated offset",
      "store expert biases stacked [E, n]",
    );
  const p = placedVector(L, { weight: v.weight });
  return {
    region: p.region,
    base: p.offset + (v.slice?.start ?? 0) * L.m.activationBytes,
    stride: p.rowStride,
  };
}

export function lowerMoeExperts(L: Lower, op: MoeExpertsOp): void {
  const route = L.an.producer.get(op.indices);
  if (route?.kind !== "moe_route" || route.outputs[1] !== op.weights)
    throw unsupportedOp(op, "its indices and weights do not come from one moe_route op");
  const layer = op.layer ?? 0;
  const k = route.topK;
  const I = op.intermediate;
  const H = L.width(op.input);
  const epw = L.m.elemsPerWord;
  const interleaved =
    op.gate.kind === op.up.kind &&
    (op.gate.kind === "stacked"
      ? op.gate.weight === (op.up as typeof op.gate).weight
      : op.gate.weights[0] === (op.up as typeof op.gate).weights[0]) &&
    op.gate.rows?.step === 2 &&
    op.up.rows?.step === 2;
  if (!interleaved && ((op.gate.rows?.step ?? 1) !== 1 || (op.up.rows?.step ?? 1) !== 1))
    throw unsupportedOp(op, "strided expert row views other than interleaved gate/up");
  const guMat = (e: number): MatSpec => {
    const base = matrixOf(L, op, { ...op.gate, rows: undefined } as ExpertMatrix, e, 2 * I, H, true);
    return { ...base, rowStart: 0 };
  };
  const mats = (e: number): MatSpec[] =>
    interleaved
      ? [guMat(e), matrixOf(L, op, op.down, e, H, I, false)]
      : [
          matrixOf(L, op, op.gate, e, I, H, true),
          matrixOf(L, op, op.up, e, I, H, true),
          matrixOf(L, op, op.down, e, H, I, false),
        ];
  const table = expertTable(L, op, mats);
  const source = (j: number): TileSource => {
    const v = expertVar(L, layer, j);
    return (req, port): DmaPiece => {
      const loc = table.local.get(localKey(req, port))!;
      const b = table.base.get(port)!;
      return {
        region: regionOfPort(port),
        offset: L.rx(b.base + loc.offset, [[v, b.stride]]),
        bytes: loc.bytes,
        segmentId: loc.seg,
      };
    };
  };
  const x = L.l2(op.input);
  const logits = L.host(route.logits);
  const target = accumulationTarget(L, op.id);
  const out = target ?? L.newValue(op.outputs[0]!, H, x.rows, L.an.unit(op.outputs[0]!));
  const gw = interleaved ? 2 * I : I;
  const mat0 = mats(0);
  for (let t = 0; t < x.rows; t++) {
    const wts = routeRow(L, route, logits, layer, t);
    const xin = L.rowView(x, t);
    const gate = L.newValueWidths(
      `moe gate row ${t}`,
      Array.from({ length: k }, () => gw),
    );
    const up = interleaved
      ? undefined
      : L.newValueWidths(
          `moe up row ${t}`,
          Array.from({ length: k }, () => I),
        );
    for (let j = 0; j < k; j++) {
      const ga = spanView(gate.blocks[j]!.data, gw, epw, "gate");
      if (interleaved) {
        if (op.gateBias)
          expertBiasAt(
            L,
            op,
            { ...op.gateBias, slice: undefined } as ExpertVector,
            0,
            gw,
            ga.blocks[0]!.data,
            layer,
            j,
          );
        matmul(L, {
          input: xin,
          out: ga,
          mat: mat0[0]!,
          accumulate: op.gateBias !== undefined,
          label: `expert slot ${j} gate_up`,
          source: source(j),
        });
        continue;
      }
      const ua = spanView(up!.blocks[j]!.data, I, epw, "up");
      if (op.gateBias) expertBiasAt(L, op, op.gateBias, 0, I, ga.blocks[0]!.data, layer, j);
      if (op.upBias) expertBiasAt(L, op, op.upBias, 0, I, ua.blocks[0]!.data, layer, j);
      matmul(L, {
        input: xin,
        out: ga,
        mat: mat0[0]!,
        accumulate: op.gateBias !== undefined,
        label: `expert slot ${j} gate`,
        source: source(j),
      });
      matmul(L, {
        input: xin,
        out: ua,
        mat: mat0[1]!,
        accumulate: op.upBias !== undefined,
        label: `expert slot ${j} up`,
        source: source(j),
      });
    }
    const act = expertAct(L, op, gate, up, interleaved, I, t);
    for (let j = 0; j < k; j++) {
      const y = L.newValueWidths(
        `moe y row ${t} slot ${j}`,
        out.blocks.map((b) => b.width),
      );
      if (op.downBias)
        for (const b of y.blocks) expertBiasAt(L, op, op.downBias, b.start, b.width, b.data, layer, j);
      matmul(L, {
        input: spanView(act.blocks[j]!.data, I, epw, "act"),
        out: y,
        mat: mat0[interleaved ? 1 : 2]!,
        accumulate: op.downBias !== undefined,
        label: `expert slot ${j} down`,
        source: source(j),
      });
      const dst = L.rowView(out, t);
      y.blocks.forEach((b, i) => {
        L.copy(wts.blocks[j]!.data, b.header!, 1, `expert slot ${j} weight`);
        L.cvo("SCALE", b.header!, dst.blocks[i]!.data, b.width, `expert slot ${j} weighted sum`, {
          accm: target !== undefined || j > 0,
        });
      });
    }
  }
  L.setL2(op.outputs[0]!, out);
}

/** The routing host step of row t: sets expert[layer][j] and returns the k weights in L2. */
function routeRow(L: Lower, route: MoeRouteOp, logits: HostOperand, layer: number, t: number): LValue {
  const k = route.topK;
  for (let j = 0; j < k; j++) expertVar(L, layer, j);
  const wts = L.newValueWidths(
    `moe weights row ${t}`,
    Array.from({ length: k }, () => 1),
  );
  const hb = L.hostBuf(k * L.m.wordBytes);
  const wOp: HostOperand = {
    region: hb.region,
    offset: 0,
    elements: k * L.m.elemsPerWord,
    dtype: "bf16",
    rows: 1,
    blocks: Array.from({ length: k }, () => 1),
  };
  const extra = [
    ...(route.correctionBias ? [vectorOperand(L, route.correctionBias)] : []),
    ...(route.perExpertScale ? [vectorOperand(L, route.perExpertScale)] : []),
  ];
  L.hostStep(
    "moe_route",
    [logits, ...extra],
    [wOp],
    {
      layer,
      numExperts: route.numExperts,
      topK: k,
      scoring: route.scoring,
      normalize: route.normalize,
      routedScale: route.routedScale,
      ...(route.groups
        ? { groups: [route.groups.count, route.groups.topk, route.groups.score === "max" ? 0 : 1] }
        : {}),
      hasBias: route.correctionBias !== undefined,
      hasExpertScale: route.perExpertScale !== undefined,
      row: t,
    },
    `moe_route L${layer} row ${t}`,
  );
  L.writeback(wOp, wts, `moe weights row ${t}`);
  return wts;
}

/** act_j = act(gate_j)·up_j for the k slots: on the SFU with extensions, else one host step. */
function expertAct(
  L: Lower,
  op: MoeExpertsOp,
  gate: LValue,
  up: LValue | undefined,
  interleaved: boolean,
  I: number,
  t: number,
): LValue {
  const fn = op.act.fn;
  const func = fn === "silu" ? "SILU" : fn === "gelu" || fn === "gelu_tanh" ? "GELU" : undefined;
  if (up && func && hasCvo(L.m, func) && hasCvo(L.m, "MUL")) {
    gate.blocks.forEach((b, j) => {
      L.cvo(
        func,
        b.data,
        b.data,
        b.width,
        `expert act row ${t} slot ${j}`,
        func === "GELU" ? { intent: fn } : {},
      );
      L.cvo("MUL", up.blocks[j]!.data, b.data, b.width, `expert act row ${t} slot ${j}`);
    });
    return gate;
  }
  const attrs: Record<string, string | number | boolean> =
    op.act.fn === "clamped_swiglu"
      ? { fn: op.act.fn, alpha: op.act.alpha, limit: op.act.limit }
      : { fn: op.act.fn };
  const g = L.readback(gate, `moe gate row ${t}`);
  const ins = up ? [g, L.readback(up, `moe up row ${t}`)] : [g];
  const act = L.newValueWidths(
    `moe act row ${t}`,
    gate.blocks.map(() => I),
  );
  const o = hostOperandOf(L.m, act, L.hostBuf(hostBytes(L.m, act)).region, 0);
  L.hostStep(
    "glu",
    ins,
    [o],
    { ...attrs, ...(interleaved ? { interleaved: true } : {}) },
    `expert glu row ${t}`,
  );
  L.writeback(o, act, `moe act row ${t}`);
  return act;
}

/** Preloads columns [start, start+count) of slot j's per-expert bias (offset relocated by expert[layer][j]). */
function expertBiasAt(
  L: Lower,
  op: MoeExpertsOp,
  v: ExpertVector,
  start: number,
  count: number,
  dest: L2Addr,
  layer: number,
  j: number,
): void {
  const s = expertVectorStride(L, op, v);
  const off = L.rx(s.base + start * L.m.activationBytes, [[expertVar(L, layer, j), s.stride]]);
  L.transfer("host_to_l2", dest, s.region, off, count, `expert bias slot ${j}`);
}
