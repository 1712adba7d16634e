/**
 * Element-wise ops. On the SFU when the target has the function: GELU (the hardware's sigmoid
 * form, the intended function recorded on the step), SCALE for constant factors and — with the
 * scalar 1.0 in a block's header word — for adds (dst += 1·src, accm); the extension codes
 * (SILU, MUL, ADD, TANH, MAX) when the target declares them. Everything else (SiLU, products,
 * tanh, max on the base target) is a host step on the values' DDR copies.
 */
import type {
  ActivationOp,
  AddOp,
  GluOp,
  MeanOp,
  MulOp,
  MulWeightOp,
  ScaleOp,
  SliceOp,
  SoftcapOp,
  ValueId,
} from "../../resolver/graph/index.js";
import type { DHost } from "../draft.js";
import { hasCvo } from "../machine.js";
import type { HostOperand } from "../program.js";
import { blockWidths, isPacked, type LValue, sliceView } from "../values.js";
import type { Lower } from "./context.js";
import { vectorL2, vectorOperand, viewWidth } from "./vectors.js";

/** Runs `fn` on the host over the DDR copies of `ins`, producing `outs` on the host. */
export function hostOp(
  L: Lower,
  fn: string,
  ins: readonly ValueId[],
  outs: readonly ValueId[],
  attrs: DHost["attrs"],
  extra: readonly HostOperand[] = [],
): HostOperand[] {
  const inputs = [...ins.map((id) => L.host(id)), ...extra];
  const outputs = outs.map((id) => L.hostOut(id));
  L.hostStep(fn, inputs, outputs, { ...attrs, ...(L.rows > 1 ? { rows: L.rows } : {}) });
  outs.forEach((id, i) => {
    L.setHost(id, outputs[i]!);
  });
  return outputs;
}

/** Elements covered by one SFU call over a whole block (all rows; rows are packed). */
const blockLength = (v: LValue, i: number): number => v.rows * v.blocks[i]!.rowWords * 8;

/** A copy of `id` in L2 this op may overwrite (the value itself when it dies here). */
export function writable(L: Lower, id: ValueId, name: string): LValue {
  const own = L.ownable(id);
  if (own) return own;
  const src = L.l2(id);
  const out = L.newValue(name, src.n, src.rows, L.an.unit(id));
  src.blocks.forEach((b, i) => {
    L.copy(b.data, out.blocks[i]!.data, src.rows * b.rowWords, `copy ${id}`);
  });
  return out;
}

/** A value whose blocks all have their own header word (copies a view). */
function withHeaders(L: Lower, id: ValueId): LValue {
  const v = L.l2(id);
  if (v.blocks.every((b) => b.header)) return v;
  const out = L.newValue(`${id} copy`, v.n, v.rows, L.an.unit(id));
  v.blocks.forEach((b, i) => {
    L.copy(b.data, out.blocks[i]!.data, v.rows * b.rowWords, `copy ${id}`);
  });
  return out;
}

/** dst (+)= src · s for every block, with the scalar s written into src's header words. */
export function scaleBlocks(
  L: Lower,
  src: LValue,
  dst: LValue,
  s: number,
  label: string,
  accm: boolean,
): void {
  src.blocks.forEach((b, i) => {
    {
      const h = b.header!;
      if (!(src.buf.scope === "program" && s === 1)) L.setScalar(h, s, label);
      const length = src.rows === 1 ? b.width : blockLength(src, i);
      L.cvo("SCALE", h, dst.blocks[i]!.data, length, label, { accm });
    }
  });
}

/** Can the SFU treat every block of `v` as one vector (single row, or whole-word rows)? */
const sfuFriendly = (L: Lower, v: LValue) => v.rows === 1 || isPacked(L.m, v);

export function lowerAdd(L: Lower, op: AddOp): void {
  const out = op.outputs[0]!;
  if (L.fusedAdds.has(op.id)) {
    const f = [...L.an.accumInto.values()].find((x) => x.add === op.id)!;
    L.setL2(out, L.l2(f.target));
    return;
  }
  if (L.onHostOnly(op.a) && L.onHostOnly(op.b)) {
    hostOp(L, "add", [op.a, op.b], [out], {});
    return;
  }
  const aDies = L.ownable(op.a) !== undefined;
  const [accId, otherId] = aDies || L.ownable(op.b) === undefined ? [op.a, op.b] : [op.b, op.a];
  const probe = L.l2(otherId);
  if (!sfuFriendly(L, probe) || !sfuFriendly(L, L.l2(accId))) {
    hostOp(L, "add", [op.a, op.b], [out], {});
    return;
  }
  const acc = writable(L, accId, out);
  if (hasCvo(L.m, "ADD")) {
    probe.blocks.forEach((b, i) => {
      {
        const len = probe.rows === 1 ? b.width : blockLength(probe, i);
        L.cvo("ADD", b.data, acc.blocks[i]!.data, len, `add ${out}`);
      }
    });
  } else {
    scaleBlocks(L, withHeaders(L, otherId), acc, 1, `add ${out}`, true);
  }
  L.setL2(out, acc);
}

export function lowerScale(L: Lower, op: ScaleOp): void {
  const out = op.outputs[0]!;
  if (L.onHostOnly(op.input) || !sfuFriendly(L, L.l2(op.input))) {
    hostOp(L, "scale", [op.input], [out], { factor: op.factor });
    return;
  }
  const src = withHeaders(L, op.input);
  const dst = L.ownable(op.input) ?? L.newValue(out, src.n, src.rows, L.an.unit(out));
  scaleBlocks(L, src, dst, op.factor, `scale ${op.factor}`, false);
  L.setL2(out, dst);
}

export function lowerMean(L: Lower, op: MeanOp): void {
  const out = op.outputs[0]!;
  const ins = op.inputs.map((id) => L.l2(id));
  if (ins.some((v) => !sfuFriendly(L, v))) {
    hostOp(L, "mean", op.inputs, [out], { n: op.inputs.length });
    return;
  }
  const first = ins[0]!;
  const dst = L.newValue(out, first.n, first.rows, L.an.unit(out));
  op.inputs.forEach((id, i) => {
    scaleBlocks(L, withHeaders(L, id), dst, 1 / op.inputs.length, `mean ${out}`, i > 0);
  });
  L.setL2(out, dst);
}

/** Unary SFU function over every block of `src` into `dst`. */
function unaryBlocks(L: Lower, func: string, src: LValue, dst: LValue, label: string, intent?: string): void {
  src.blocks.forEach((b, i) => {
    {
      const len = src.rows === 1 ? b.width : blockLength(src, i);
      L.cvo(func, b.data, dst.blocks[i]!.data, len, label, intent ? { intent } : {});
    }
  });
}

/** Binary extension function dst = f(src, dst) over every block. */
function binaryBlocks(L: Lower, func: string, src: LValue, dst: LValue, label: string): void {
  src.blocks.forEach((b, i) => {
    {
      const len = src.rows === 1 ? b.width : blockLength(src, i);
      L.cvo(func, b.data, dst.blocks[i]!.data, len, label);
    }
  });
}

/**
 * dst ·= src for one decode row, in pieces as wide as a GEMV tile of the projection that produced
 * src: piece k depends only on tile k, so the overlap pass (passes/overlap.ts) can run it on the
 * SFU while the next tiles stream.
 */
function tiledMul(L: Lower, src: LValue, dst: LValue, label: string): void {
  const a = src.blocks[0]!.data;
  const b = dst.blocks[0]!.data;
  let start = 0;
  for (const w of blockWidths(L.m, src.n, 2)) {
    const off = start / L.m.elemsPerWord;
    L.cvo("MUL", { buf: a.buf, word: a.word + off }, { buf: b.buf, word: b.word + off }, w, label);
    start += w;
  }
}

/**
 * cap·tanh(x/cap) in place on one decode row: per piece MUL by a constant 1/cap vector, TANH, MUL by
 * cap. As many pieces as the SFU length limit needs (cvo-split's count), but the last one only three
 * GEMV tiles wide: a piece depends only on the tiles of the projection that wrote it (Gemma's LM
 * head), so the overlap pass runs the earlier pieces' CVOs beside the following tiles and only the
 * short last piece is left after the last tile.
 */
function tiledSoftcap(L: Lower, v: LValue, cap: number, label: string): void {
  const epw = L.m.elemsPerWord;
  const limit = Math.floor(L.m.cvoMaxLength / epw) * epw;
  const k = Math.ceil(v.n / limit);
  const last = Math.max(epw, Math.floor((3 * L.m.tileRows) / epw) * epw);
  // k − 1 equal pieces of at most `limit` before a last piece of about `last` elements (or of what
  // is left when the limit is small: a tiny SFU's pieces are all `limit` wide)
  const spread = Math.ceil((v.n - last) / Math.max(1, k - 1) / epw) * epw;
  const body = k === 1 ? v.n : spread > 0 ? Math.min(limit, spread) : limit;
  const inv = L.reg.constVector(1 / cap, Math.min(body, v.n));
  const mul = L.reg.constVector(cap, Math.min(body, v.n));
  const a = v.blocks[0]!.data;
  for (let start = 0; start < v.n; start += body) {
    const w = Math.min(body, v.n - start);
    const at = { buf: a.buf, word: a.word + start / epw };
    L.cvo("MUL", { buf: L.constBuf(), word: inv.word + 1 }, at, w, `${label} /cap`);
    L.cvo("TANH", at, at, w, `${label} tanh`);
    L.cvo("MUL", { buf: L.constBuf(), word: mul.word + 1 }, at, w, `${label} ·cap`);
  }
}

const SFU_ACT: Readonly<Record<string, { func: string; intent?: string }>> = {
  gelu: { func: "GELU", intent: "gelu" },
  gelu_tanh: { func: "GELU", intent: "gelu_tanh" },
  silu: { func: "SILU" },
  tanh: { func: "TANH" },
};

/** Applies activation `fn` on the SFU into a writable copy of `id`, or returns undefined. */
function sfuActivation(L: Lower, fn: string, id: ValueId, name: string): LValue | undefined {
  const v = L.l2(id);
  if (fn === "relu" && hasCvo(L.m, "MAX") && sfuFriendly(L, v)) {
    const dst = writable(L, id, name);
    const zeros = L.reg.constVector(0, Math.max(...v.blocks.map((b) => v.rows * b.rowWords * 8)));
    const z = { buf: L.constBuf(), word: zeros.word + 1 };
    dst.blocks.forEach((b, i) => {
      L.cvo("MAX", z, b.data, v.rows === 1 ? b.width : blockLength(v, i), `relu ${name}`);
    });
    return dst;
  }
  const a = SFU_ACT[fn];
  if (!a || !hasCvo(L.m, a.func)) return undefined;
  const dst = L.ownable(id) ?? L.newValue(name, v.n, v.rows, L.an.unit(id));
  unaryBlocks(L, a.func, v, dst, `${fn} ${name}`, a.intent);
  return dst;
}

export function lowerActivation(L: Lower, op: ActivationOp): void {
  const out = op.outputs[0]!;
  if (!L.onHostOnly(op.input)) {
    const r = sfuActivation(L, op.fn, op.input, out);
    if (r) {
      L.setL2(out, r);
      return;
    }
  }
  hostOp(L, "activation", [op.input], [out], { fn: op.fn });
}

export function lowerGlu(L: Lower, op: GluOp): void {
  const out = op.outputs[0]!;
  const inter = L.an.interleaved.get(op.id);
  const act = op.act;
  const actAttrs: DHost["attrs"] =
    act.fn === "clamped_swiglu" ? { fn: act.fn, alpha: act.alpha, limit: act.limit } : { fn: act.fn };
  if (inter) {
    hostOp(L, "glu", [`${inter.gate.outputs[0]!}#gu`], [out], { ...actAttrs, interleaved: true });
    return;
  }
  if (act.fn !== "clamped_swiglu" && hasCvo(L.m, "MUL") && !L.onHostOnly(op.gate) && !L.onHostOnly(op.up)) {
    const up = L.l2(op.up);
    if (sfuFriendly(L, up)) {
      const g = sfuActivation(L, act.fn, op.gate, out);
      if (g) {
        if (up.rows === 1 && up.blocks.length === 1 && g.blocks.length === 1)
          tiledMul(L, up, g, `glu ${out}`);
        else binaryBlocks(L, "MUL", up, g, `glu ${out}`);
        L.setL2(out, g);
        return;
      }
    }
  }
  hostOp(L, "glu", [op.gate, op.up], [out], actAttrs);
}

export function lowerSoftcap(L: Lower, op: SoftcapOp): void {
  const out = op.outputs[0]!;
  if (["TANH", "MUL"].every((f) => hasCvo(L.m, f)) && !L.onHostOnly(op.input)) {
    const v = L.l2(op.input);
    if (v.rows === 1 && v.blocks.length === 1) {
      const dst = writable(L, op.input, out);
      tiledSoftcap(L, dst, op.cap, `softcap ${out}`);
      L.setL2(out, dst);
      return;
    }
  }
  if (hasCvo(L.m, "TANH") && !L.onHostOnly(op.input) && sfuFriendly(L, L.l2(op.input))) {
    const src = withHeaders(L, op.input);
    const dst = L.ownable(op.input) ?? L.newValue(out, src.n, src.rows, L.an.unit(out));
    scaleBlocks(L, src, dst, 1 / op.cap, `softcap ${out} /cap`, false);
    unaryBlocks(L, "TANH", dst, dst, `softcap ${out} tanh`);
    if (dst.blocks.every((b) => b.header)) scaleBlocks(L, dst, dst, op.cap, `softcap ${out} ·cap`, false);
    else hostOp(L, "scale", [out], [out], { factor: op.cap });
    L.setL2(out, dst);
    return;
  }
  hostOp(L, "softcap", [op.input], [out], { cap: op.cap });
}

export function lowerMul(L: Lower, op: MulOp): void {
  const out = op.outputs[0]!;
  const bw = L.width(op.b);
  if (bw === 1 && L.rows === 1 && !L.onHostOnly(op.a) && !L.onHostOnly(op.b)) {
    const a = withHeaders(L, op.a);
    const b = L.l2(op.b);
    const dst = L.ownable(op.a) ?? L.newValue(out, a.n, 1, L.an.unit(out));
    a.blocks.forEach((blk, i) => {
      L.copy(b.blocks[0]!.data, blk.header!, 1, `mul ${out} factor`);
      L.cvo("SCALE", blk.header!, dst.blocks[i]!.data, blk.width, `mul ${out}`);
    });
    L.setL2(out, dst);
    return;
  }
  if (bw !== 1 && hasCvo(L.m, "MUL") && !L.onHostOnly(op.a) && !L.onHostOnly(op.b)) {
    const b = L.l2(op.b);
    if (sfuFriendly(L, b) && sfuFriendly(L, L.l2(op.a))) {
      const dst = writable(L, op.a, out);
      binaryBlocks(L, "MUL", b, dst, `mul ${out}`);
      L.setL2(out, dst);
      return;
    }
  }
  hostOp(L, "mul", [op.a, op.b], [out], { broadcast: bw === 1 });
}

export function lowerMulWeight(L: Lower, op: MulWeightOp): void {
  const out = op.outputs[0]!;
  const n = viewWidth(L, op.weight);
  if (!L.onHostOnly(op.input) && sfuFriendly(L, L.l2(op.input))) {
    if (n === 1 && L.rows === 1) {
      const x = withHeaders(L, op.input);
      const w = vectorL2(L, op.weight, `scalar ${L.tensorName(op.weight.weight)}`);
      const dst = L.ownable(op.input) ?? L.newValue(out, x.n, 1, L.an.unit(out));
      x.blocks.forEach((blk, i) => {
        L.copy(w.blocks[0]!.data, blk.header!, 1, `mul_weight ${out} factor`);
        L.cvo("SCALE", blk.header!, dst.blocks[i]!.data, blk.width, `mul_weight ${out}`);
      });
      L.setL2(out, dst);
      return;
    }
    if (n > 1 && hasCvo(L.m, "MUL")) {
      const dst = writable(L, op.input, out);
      const w = vectorL2(L, op.weight, `weight ${L.tensorName(op.weight.weight)}`);
      for (let t = 0; t < dst.rows; t++)
        for (const b of dst.blocks) {
          const dataW = { buf: w.buf, word: w.blocks[0]!.data.word + b.start / L.m.elemsPerWord };
          const row = { buf: b.data.buf, word: b.data.word + t * b.rowWords };
          L.cvo("MUL", dataW, row, b.width, `mul_weight ${out}`);
        }
      L.setL2(out, dst);
      return;
    }
  }
  hostOp(L, "mul_weight", [op.input], [out], {}, [vectorOperand(L, op.weight)]);
}

export function lowerSlice(L: Lower, op: SliceOp): void {
  const out = op.outputs[0]!;
  if (!L.onHostOnly(op.input)) {
    const v = L.l2(op.input);
    const view = sliceView(L.m, v, op.start, op.count, out);
    if (view) {
      L.setL2(out, view);
      return;
    }
    const epw = L.m.elemsPerWord;
    const blk = v.blocks.find((b) => op.start >= b.start && op.start + op.count <= b.start + b.width);
    if (blk && (op.start - blk.start) % epw === 0) {
      const dst = L.newValue(out, op.count, v.rows, L.an.unit(out));
      const words = Math.ceil(op.count / epw);
      for (let t = 0; t < v.rows; t++) {
        const src = {
          buf: blk.data.buf,
          word: blk.data.word + t * blk.rowWords + (op.start - blk.start) / epw,
        };
        const d = dst.blocks[0]!;
        if (dst.blocks.length !== 1) break;
        L.copy(src, { buf: d.data.buf, word: d.data.word + t * d.rowWords }, words, `slice ${out}`);
      }
      if (dst.blocks.length === 1) {
        L.setL2(out, dst);
        return;
      }
    }
  }
  hostOp(L, "slice", [op.input], [out], { start: op.start, count: op.count });
}
