/**
 * Projections: y = W·x (+ b) as GEMV calls (one row, decode) or GEMM tiles (prefill rows).
 * Tiling is the same in both segments, so they read the same weight tiles: N is cut into tiles of
 * at most min(K limit, GEMV rows per call) rows (aligned to the output's head width), K into chunks
 * of the input's canonical blocks, partial sums merged with accm. Each tile is split over the ports
 * feeding the engine (docs/program.md §4.3), one stream segment per port.
 */
import type { WeightTransform } from "../../layout/types.js";
import type { LinearOp, MatrixView } from "../../resolver/graph/index.js";
import type { DmaPiece, TileUse } from "../draft.js";
import { unsupportedOp } from "../errors.js";
import type { Machine } from "../machine.js";
import type { DmaPort } from "../program.js";
import type { TileRequest } from "../registry.js";
import { portRows } from "../tiles.js";
import { addrOf, blockWidths, type LValue } from "../values.js";
import type { Lower } from "./context.js";
import { loadVector } from "./vectors.js";

export interface MatSpec {
  readonly tensor: string;
  readonly expert?: number;
  /** First logical row of the tensor this matrix starts at. */
  readonly rowStart: number;
  readonly n: number;
  readonly k: number;
  /** First logical column (non-zero for absorbed MLA sub-matrices). */
  readonly colStart?: number;
  readonly group: 0 | 32 | 64 | 128;
  readonly transforms: readonly WeightTransform[];
}

/** Where the bytes of one sub-tile come from (default: the deduplicated weight stream). */
export type TileSource = (req: TileRequest, port: DmaPort) => DmaPiece;

export interface MatmulArgs {
  readonly input: LValue;
  readonly out: LValue;
  readonly mat: MatSpec;
  /** Accumulate every chunk into `out` (residual accm, or a preloaded bias). */
  readonly accumulate: boolean;
  readonly findemax?: boolean;
  readonly label: string;
  readonly source?: TileSource;
  readonly unitIn?: number;
  readonly unitOut?: number;
}

/** Canonical [start, width] chunks of a dimension (tile-sized, aligned to `unit`). */
export function chunks(m: Machine, n: number, unit = 1): { start: number; width: number }[] {
  let s = 0;
  return blockWidths(m, n, 2, unit).map((w) => {
    const c = { start: s, width: w };
    s += w;
    return c;
  });
}

/** Emits the GEMV/GEMM instructions of out (+)= W·input. */
export function matmul(L: Lower, a: MatmulArgs): void {
  const m = L.m;
  const rows = a.input.rows;
  const engine = rows === 1 ? "gemv" : "gemm";
  const ports = m.enginePorts[engine];
  const source: TileSource =
    a.source ??
    ((req, port) => {
      const t = L.reg.tile(req, port);
      return { region: t.region, offset: t.offset, bytes: t.bytes, segmentId: t.id };
    });
  const kcs = chunks(m, a.mat.k, a.unitIn ?? 1);
  for (const nt of chunks(m, a.mat.n, a.unitOut ?? 1)) {
    const dest = addrOf(m, a.out, 0, nt.start);
    if (!dest) throw new Error(`output tile at column ${nt.start} of ${a.out.name} is not addressable`);
    kcs.forEach((kc, ki) => {
      const src = addrOf(m, a.input, 0, kc.start);
      if (!src) throw new Error(`input chunk at column ${kc.start} of ${a.input.name} is not addressable`);
      const tiles: TileUse[] = [];
      const split = portRows(nt.width, ports.length);
      ports.forEach((port, j) => {
        const r = split[j]!;
        if (r.count === 0) return;
        const req: TileRequest = {
          tensor: a.mat.tensor,
          ...(a.mat.expert !== undefined ? { expert: a.mat.expert } : {}),
          rows: { start: a.mat.rowStart + nt.start + r.start, count: r.count },
          cols: { start: (a.mat.colStart ?? 0) + kc.start, count: kc.width },
          order: 0,
          group: a.mat.group,
          transforms: a.mat.transforms,
        };
        tiles.push({ port, pieces: [source(req, port)] });
      });
      const label = `${a.label} n ${nt.start}+${nt.width} k ${kc.start}+${kc.width}`;
      L.push({
        kind: "gemv",
        engine: engine === "gemv" ? "GEMV" : "GEMM",
        dest,
        src,
        findemax: a.findemax ?? false,
        accm: a.accumulate || ki > 0,
        shape: L.fmap(rows, nt.width, kc.width),
        wshape: L.wshape(0, a.mat.group),
        tiles,
        weightSegment: tiles[0]?.pieces[0]?.segmentId ?? "",
        origin: L.origin(label, [a.mat.tensor]),
      });
    });
  }
}

/** Transforms of a weight: transposed storage, pre-quantised storage, folded norms. */
export function weightTransforms(L: Lower, weightId: string, opId?: string): WeightTransform[] {
  const w = L.gi.weights.get(weightId)!;
  const base = w.tiedTo !== undefined ? (L.gi.weights.get(w.tiedTo) ?? w) : w;
  const out: WeightTransform[] = [];
  if (base.dtype.startsWith("F8_")) {
    const scales = L.gi.weights.get(`${base.name}_scale_inv`);
    if (scales) out.push({ kind: "dequant", from: "fp8_block", scales: scales.name });
  }
  if (base.transposed) out.push({ kind: "transpose" });
  if (opId) out.push(...(L.an.colTransforms.get(opId) ?? []));
  return out;
}

/** The MatSpec of a matrix view (rows step 1 only), checking the plan streams it as INT4. */
export function matSpec(L: Lower, view: MatrixView, n: number, k: number, opId: string): MatSpec {
  const op = L.op!;
  if ((view.rows?.step ?? 1) !== 1)
    throw unsupportedOp(
      op,
      `a projection reading every ${view.rows?.step}th row of ${L.tensorName(view.weight)} cannot be tiled`,
      "strided row views are lowered only as the interleaved gate/up of a glu",
    );
  const tensor = L.tensorName(view.weight);
  const pol = L.plan.policyOfId(view.weight) ?? L.plan.policy(tensor);
  const tied = L.gi.weights.get(view.weight)?.tiedTo !== undefined;
  if (tied && pol.format !== "int4") {
    // A tied head reads the embedding tensor: its rows stay BF16 for lookups, its tiles are INT4.
    const dflt = L.m.target.file.numeric.weights;
    const group = dflt.scale_granularity === "group" ? ((dflt.group_size ?? 0) as 0 | 32 | 64 | 128) : 0;
    return {
      tensor,
      rowStart: view.rows?.start ?? 0,
      n,
      k,
      group,
      transforms: weightTransforms(L, view.weight, opId),
    };
  }
  if (pol.format !== "int4" || (pol.placement !== "stream" && pol.placement !== "folded"))
    throw unsupportedOp(
      op,
      `the layout plan stores ${tensor} as ${pol.format}/${pol.placement}, but the GEMV/GEMM engines read INT4 weight streams only`,
      "let the layout plan stream projection weights as int4",
    );
  return {
    tensor,
    ...(view.expert !== undefined ? { expert: view.expert } : {}),
    rowStart: view.rows?.start ?? 0,
    n,
    k,
    group: pol.group,
    transforms: weightTransforms(L, view.weight, opId),
  };
}

/** Lowers a linear op (and, for the gate of an interleaved glu, the fused gate/up projection). */
export function lowerLinear(L: Lower, op: LinearOp): void {
  if (L.an.fusedLinears.has(op.id)) {
    lowerInterleaved(L, op);
    return;
  }
  const input = L.l2(op.input);
  const n = L.width(op.outputs[0]!);
  const k = L.width(op.input);
  const mat = matSpec(L, op.weight, n, k, op.id);
  const unitOut = L.an.unit(op.outputs[0]!);
  const target = accumulationTarget(L, op.id);
  const out = target ?? L.newValue(op.outputs[0]!, n, input.rows, unitOut);
  if (op.bias && !target) preloadBias(L, op, out);
  matmul(L, {
    input,
    out,
    mat,
    accumulate: target !== undefined || op.bias !== undefined,
    label: op.outputs[0]!,
    unitIn: L.an.unit(op.input),
    unitOut,
  });
  L.setL2(op.outputs[0]!, out);
}

/** The residual an op may accumulate into (fused add), when it is in L2 and owns its storage. */
export function accumulationTarget(L: Lower, opId: string): LValue | undefined {
  const f = L.an.accumInto.get(opId);
  if (!f || !L.has(f.target)) return undefined;
  const t = L.l2(f.target);
  if (t.view) return undefined;
  L.fusedAdds.add(f.add);
  return t;
}

/** Copies the bias of every row into `out` so that the projection accumulates onto it. */
export function preloadBias(L: Lower, op: LinearOp, out: LValue): void {
  const bias = op.bias!;
  for (let t = 0; t < out.rows; t++) {
    for (const b of out.blocks) {
      const dest = addrOf(L.m, out, t, b.start)!;
      loadVector(L, bias, b.start, b.width, dest, `bias ${L.tensorName(bias.weight)}`);
    }
  }
}

/** gpt-oss style: gate and up are the even/odd rows of one tensor; one projection over all rows. */
function lowerInterleaved(L: Lower, op: LinearOp): void {
  const glu = [...L.an.interleaved.values()].find((x) => x.gate.id === op.id || x.up.id === op.id);
  if (!glu || glu.up.id === op.id) return;
  const input = L.l2(op.input);
  const n = 2 * L.width(op.outputs[0]!);
  const k = L.width(op.input);
  const mat = matSpec(
    L,
    { weight: op.weight.weight, ...(op.weight.expert !== undefined ? { expert: op.weight.expert } : {}) },
    n,
    k,
    op.id,
  );
  const out = L.newValue(`${op.outputs[0]!}#gu`, n, input.rows);
  if (op.bias) {
    const full = {
      weight: op.bias.weight,
      ...(op.bias.expert !== undefined ? { expert: op.bias.expert } : {}),
    };
    for (let t = 0; t < out.rows; t++)
      for (const b of out.blocks)
        loadVector(L, full, b.start, b.width, addrOf(L.m, out, t, b.start)!, "bias gate_up");
  }
  matmul(L, { input, out, mat, accumulate: op.bias !== undefined, label: `${op.outputs[0]!} gate_up` });
  L.setL2(`${op.outputs[0]!}#gu`, out);
}
