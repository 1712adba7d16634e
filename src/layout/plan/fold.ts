/**
 * RMSNorm weights that can be folded into the projections they feed: for y = rms(x)·(o + w) read
 * only by linears (and expert gate/up matrices), W·y = (W·diag(o + w))·rms(x), so scaling the
 * columns of every consumer matrix by (o + w) removes the element-wise multiply (which the v002
 * ISA lacks). Codegen chooses which candidates to fold and passes them as `options.folded`; the
 * image writer applies the `scale_cols` transforms that codegen puts on the segments.
 */
import { type ModelGraph, type Op, opInputs, type WeightId } from "../../resolver/graph/index.js";

export interface FoldCandidate {
  /** The norm weight (HF name). */
  readonly norm: string;
  /** 1 for Gemma's x̂·(1+w), 0 for x̂·w. */
  readonly offset: 0 | 1;
  /** HF names of the matrices whose columns absorb it. */
  readonly into: readonly string[];
  /** The rms_norm op(s) that read the weight. */
  readonly ops: readonly string[];
}

/** Matrices an op applies to `value` (its input), or undefined when it does anything else with it. */
function matricesReading(op: Op, value: string): WeightId[] | undefined {
  if (op.kind === "linear" && op.input === value && !op.weight.rows?.step) return [op.weight.weight];
  if (op.kind === "moe_experts" && op.input === value && op.indices !== value && op.weights !== value) {
    const ws = (m: typeof op.gate) => (m.kind === "stacked" ? [m.weight] : [...m.weights]);
    return [...ws(op.gate), ...ws(op.up)];
  }
  return undefined;
}

/**
 * Every RMSNorm weight whose normalized output is read only by matrix products, with no other use
 * of the weight and of the consumer matrices (a matrix also applied to another input cannot take
 * the scaling). Ordered by norm name.
 */
export function foldableNorms(g: ModelGraph): FoldCandidate[] {
  const readers = new Map<string, Op[]>();
  for (const op of g.ops) {
    for (const v of opInputs(op)) {
      const list = readers.get(v);
      if (list) list.push(op);
      else readers.set(v, [op]);
    }
  }
  const name = new Map(g.weights.map((w) => [w.id, w.name]));
  const weightUses = new Map<string, number>();
  const matrixInputs = new Map<string, Set<string>>();
  for (const op of g.ops) {
    if (op.kind === "rms_norm" && op.weight) {
      const n = name.get(op.weight.weight)!;
      weightUses.set(n, (weightUses.get(n) ?? 0) + 1);
    }
    for (const v of opInputs(op)) {
      for (const m of matricesReading(op, v) ?? []) {
        const n = name.get(m)!;
        const set = matrixInputs.get(n) ?? new Set<string>();
        matrixInputs.set(n, set.add(v));
      }
    }
  }
  const width = new Map(g.values.map((v) => [v.id, v.shape[1]]));
  const out = new Map<string, FoldCandidate>();
  for (const op of g.ops) {
    if (op.kind !== "rms_norm" || !op.weight || op.weight.slice || op.weight.expert !== undefined) continue;
    const out0 = op.outputs[0]!;
    const rs = readers.get(out0) ?? [];
    if (rs.length === 0 || out0 === g.logits) continue;
    const into: string[] = [];
    let ok = true;
    for (const r of rs) {
      const ms = matricesReading(r, out0);
      if (!ms) ok = false;
      else into.push(...ms.map((m) => name.get(m)!));
    }
    const norm = name.get(op.weight.weight)!;
    ok &&= weightUses.get(norm) === 1 && op.groupSize === width.get(out0);
    ok &&= into.every((m) => matrixInputs.get(m)?.size === 1);
    if (!ok) continue;
    out.set(norm, { norm, offset: op.weightOffset, into: [...new Set(into)].sort(), ops: [op.id] });
  }
  return [...out.values()].sort((a, b) => (a.norm < b.norm ? -1 : a.norm > b.norm ? 1 : 0));
}
