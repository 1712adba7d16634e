/**
 * Stored vectors (norm weights, biases, sinks, scales) where the NPU or the host needs them. The
 * layout stage places them (`vectors` for the ones pinned in L2, `tables` for the others, BF16) and
 * codegen reads them there: the host reads its operands in DDR; the NPU gets a pinned vector's L2
 * copy (loaded once by the load segment, header word 1.0 so that adding it is one SCALE accm) or a
 * per-use copy through an ACP DataMover command.
 */
import type { PlacedTensor } from "../../layout/types.js";
import type { VectorView } from "../../resolver/graph/index.js";
import type { L2Addr, Val } from "../draft.js";
import { planError } from "../errors.js";
import type { HostOperand } from "../program.js";
import { type LValue, placeValue } from "../values.js";
import type { Lower } from "./context.js";

/** Width of a vector view. */
export function viewWidth(L: Lower, v: VectorView): number {
  if (v.slice) return v.slice.count;
  const w = L.gi.weights.get(v.weight);
  const shape = w?.shape ?? [1];
  return shape[shape.length - 1] ?? 1;
}

/** Where the layout stage stores the vector's tensor (BF16 rows). */
export function placedVector(L: Lower, v: VectorView): PlacedTensor {
  const name = L.tensorName(v.weight);
  const p = L.plan.placed(name);
  if (p?.format !== "bf16" || p.layout !== "vector")
    throw planError(
      `codegen reads ${name} as a BF16 vector, but the layout plan stores it ${p ? `as ${p.format} ${p.layout} in ${p.region}` : "as a stream (or not at all)"}`,
      "keep vectors (norm weights, biases, scales, sinks) as bf16 with placement l2 or ddr",
    );
  useRegion(L, p.region);
  return p;
}

/** Declares a placement region in the program's DDR map, with the bytes the layout gives it. */
export function useRegion(L: Lower, region: string): void {
  const r = L.reg.region(region, region === "embedding" ? "embedding" : "weights");
  r.bytes = Math.max(r.bytes, L.plan.regionBytes.get(region) ?? 0);
}

/** Byte offset of element `col` of the view's row (expert) inside its region. */
function elementOffset(L: Lower, p: PlacedTensor, v: VectorView, col: number): number {
  return p.offset + (v.expert ?? 0) * p.rowStride + ((v.slice?.start ?? 0) + col) * L.m.activationBytes;
}

/** A host operand for a vector view (the host reads it in DDR). */
export function vectorOperand(L: Lower, v: VectorView): HostOperand {
  const p = placedVector(L, v);
  if ((v.slice?.step ?? 1) !== 1)
    return {
      region: p.region,
      offset: p.offset + (v.expert ?? 0) * p.rowStride,
      elements: p.cols,
      dtype: "bf16",
    };
  return { region: p.region, offset: elementOffset(L, p, v, 0), elements: viewWidth(L, v), dtype: "bf16" };
}

/** A host operand for a whole stored matrix or vector tensor (e.g. AltUp coefficients, kv_b_proj). */
export function tensorOperand(L: Lower, weightId: string): HostOperand {
  const p = placedVector(L, { weight: weightId });
  return { region: p.region, offset: p.offset, elements: p.rows * p.cols, dtype: "bf16" };
}

/** True when the plan pins the vector's tensor in L2. */
export function isPinned(L: Lower, v: VectorView): boolean {
  return placedVector(L, v).placement === "l2" && v.expert === undefined;
}

/** The pinned L2 copy of a whole stored vector (program scope, loaded by the load segment). */
export function pinnedVector(L: Lower, v: VectorView): LValue {
  const name = L.tensorName(v.weight);
  const p = placedVector(L, v);
  let pin = L.reg.pinned.get(name);
  if (!pin) {
    const words = 1 + Math.ceil(p.cols / L.m.elemsPerWord);
    pin = {
      buf: L.buf(`pinned ${name}`, words, "program"),
      source: { region: p.region, offset: p.offset, elements: p.cols, dtype: "bf16" },
      words,
    };
    L.reg.pinned.set(name, pin);
  }
  return placeValue(L.m, pin.buf, name, p.cols, 1);
}

/**
 * Copies elements [start, start+count) of a vector view to `dest`: from its pinned copy when the
 * start is word aligned, else from DDR with an ACP command (offset relocated per expert).
 */
export function loadVector(
  L: Lower,
  v: VectorView,
  start: number,
  count: number,
  dest: L2Addr,
  label: string,
  expertOffset?: (base: number, rowStride: number) => Val,
): void {
  const epw = L.m.elemsPerWord;
  const first = (v.slice?.start ?? 0) + start;
  if (!expertOffset && isPinned(L, v) && first % epw === 0) {
    const p = pinnedVector(L, v);
    L.copy({ buf: p.buf, word: p.blocks[0]!.data.word + first / epw }, dest, Math.ceil(count / epw), label);
    return;
  }
  const p = placedVector(L, v);
  const base = elementOffset(L, p, v, start);
  L.transfer(
    "host_to_l2",
    dest,
    p.region,
    expertOffset ? expertOffset(base - (v.expert ?? 0) * p.rowStride, p.rowStride) : base,
    count,
    label,
  );
}

/** A vector view in L2 with a header word holding 1.0 (pinned, or loaded into a temp). */
export function vectorL2(L: Lower, v: VectorView, label: string): LValue {
  const n = viewWidth(L, v);
  const s = v.slice?.start ?? 0;
  if (isPinned(L, v) && s % L.m.elemsPerWord === 0 && (v.slice?.step ?? 1) === 1) {
    const p = pinnedVector(L, v);
    if (s === 0 && n === p.n) return p;
    const data = { buf: p.buf, word: p.blocks[0]!.data.word + s / L.m.elemsPerWord };
    return {
      name: p.name,
      n,
      rows: 1,
      buf: p.buf,
      view: true,
      blocks: [{ start: 0, width: n, rowWords: Math.ceil(n / L.m.elemsPerWord), data }],
    };
  }
  const t = L.newValue(`vec ${L.tensorName(v.weight)}`, n, 1);
  loadVector(L, v, 0, n, t.blocks[0]!.data, label);
  L.setScalar(t.blocks[0]!.header!, 1, label);
  return t;
}
