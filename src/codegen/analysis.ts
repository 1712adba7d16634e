/**
 * Whole-graph facts lowering decides with, computed once before any step is emitted:
 * - readers and last uses of every value;
 * - RMSNorm weights folded into the columns of the projections they feed (scale_cols): the layout
 *   stage's candidates (`foldedNorms` gives their names, for planLayout's `folded` option);
 * - residual adds fused into the producer of one operand (GEMV accm / SCALE accm into the residual);
 * - gpt-oss style interleaved gate/up projections fused into one GEMV;
 * - the column alignment (unit) each value's layout needs (a head width for per-head consumers);
 * - the head ops (after the last layer), which prefill runs on the last row only.
 */
import { foldableNorms } from "../layout/plan/index.js";
import type { WeightTransform } from "../layout/types.js";
import type { GraphIndex, LinearOp, ModelGraph, Op, RmsNormOp, ValueId } from "../resolver/graph/index.js";
import { opInputs } from "../resolver/graph/index.js";

export interface Fold {
  readonly by: string;
  readonly offset: 0 | 1;
}

export interface Analysis {
  readonly readers: ReadonlyMap<ValueId, readonly Op[]>;
  readonly index: ReadonlyMap<string, number>;
  readonly producer: ReadonlyMap<ValueId, Op>;
  /** Norm op id → the weight folded into its consumers. */
  readonly folds: ReadonlyMap<string, Fold>;
  /** Linear / moe_experts op id → transforms its weight tiles get (scale_cols of a folded norm). */
  readonly colTransforms: ReadonlyMap<string, readonly WeightTransform[]>;
  /** Producer op id → the add it may accumulate into (the residual operand), if fusable. */
  readonly accumInto: ReadonlyMap<string, { readonly add: string; readonly target: ValueId }>;
  /** Glu op id → its interleaved gate/up linears (one GEMV over the fused tensor). */
  readonly interleaved: ReadonlyMap<string, { readonly gate: LinearOp; readonly up: LinearOp }>;
  /** Linear op ids lowered as part of an interleaved glu. */
  readonly fusedLinears: ReadonlySet<string>;
  readonly headOps: ReadonlySet<string>;
  unit(id: ValueId): number;
  /** True when `id` is read by an op after position `index`. */
  liveAfter(id: ValueId, index: number): boolean;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

function foldable(op: RmsNormOp, width: number, readers: readonly Op[], g: ModelGraph): boolean {
  const w = op.weight;
  if (!w || w.slice || w.expert !== undefined || op.groupSize !== width) return false;
  if (op.outputs[0] === g.logits || readers.length === 0) return false;
  return readers.every(
    (r) =>
      (r.kind === "linear" && r.input === op.outputs[0]) ||
      (r.kind === "moe_experts" && r.input === op.outputs[0]),
  );
}

const ELEMENTWISE = new Set([
  "add",
  "mul",
  "scale",
  "softcap",
  "activation",
  "glu",
  "mul_weight",
  "rms_norm",
  "rope",
  "gaussian_topk",
  "magnitude_match",
  "mean",
]);

export function analyse(g: ModelGraph, gi: GraphIndex): Analysis {
  const readers = new Map<ValueId, Op[]>();
  const index = new Map<string, number>();
  const producer = new Map<ValueId, Op>();
  g.ops.forEach((op, i) => {
    index.set(op.id, i);
    for (const v of opInputs(op)) {
      const list = readers.get(v) ?? [];
      list.push(op);
      readers.set(v, list);
    }
    for (const o of op.outputs) producer.set(o, op);
  });
  const width = (id: ValueId) => {
    const d = gi.values.get(id)?.shape[1];
    return typeof d === "number" ? d : 1;
  };
  const lastUse = (id: ValueId) => Math.max(-1, ...(readers.get(id) ?? []).map((r) => index.get(r.id) ?? -1));

  const folds = new Map<string, Fold>();
  const colTransforms = new Map<string, WeightTransform[]>();
  // The layout stage's candidates (src/layout/plan/fold.ts): folding them keeps every stored
  // matrix with one transform, so no tile is stored twice.
  const candidates = new Set(foldableNorms(g).flatMap((c) => c.ops));
  for (const op of g.ops) {
    if (op.kind !== "rms_norm" || !op.weight || !candidates.has(op.id)) continue;
    const out = op.outputs[0]!;
    const rs = readers.get(out) ?? [];
    if (!foldable(op, width(op.input), rs, g)) continue;
    const by = gi.weights.get(op.weight.weight)?.name ?? op.weight.weight;
    folds.set(op.id, { by, offset: op.weightOffset });
    for (const r of rs) {
      const list = colTransforms.get(r.id) ?? [];
      list.push({ kind: "scale_cols", by, offset: op.weightOffset });
      colTransforms.set(r.id, list);
    }
  }

  const accumInto = new Map<string, { add: string; target: ValueId }>();
  g.ops.forEach((op, i) => {
    if (op.kind !== "add") return;
    for (const [acc, other] of [
      [op.a, op.b],
      [op.b, op.a],
    ] as const) {
      const p = producer.get(other);
      if (!p || acc === other || accumInto.has(p.id)) continue;
      if (!((p.kind === "linear" && !p.bias) || p.kind === "moe_experts")) continue;
      if ((readers.get(other) ?? []).length !== 1 || acc === g.tokens) continue;
      if (lastUse(acc) !== i || acc === g.logits) continue;
      const pi = index.get(p.id)!;
      const accProd = producer.get(acc);
      if (!accProd || index.get(accProd.id)! >= pi) continue;
      const between = (readers.get(acc) ?? []).some((r) => {
        const ri = index.get(r.id)!;
        return ri >= pi && ri < i;
      });
      if (between) continue;
      accumInto.set(p.id, { add: op.id, target: acc });
      return;
    }
  });

  const interleaved = new Map<string, { gate: LinearOp; up: LinearOp }>();
  const fusedLinears = new Set<string>();
  for (const op of g.ops) {
    if (op.kind !== "glu") continue;
    const gp = producer.get(op.gate);
    const up = producer.get(op.up);
    if (gp?.kind !== "linear" || up?.kind !== "linear") continue;
    const gr = gp.weight.rows;
    const ur = up.weight.rows;
    if (!gr || !ur || gr.step !== 2 || ur.step !== 2 || gr.start !== 0 || ur.start !== 1) continue;
    if (gp.weight.weight !== up.weight.weight || gp.weight.expert !== up.weight.expert) continue;
    if (gp.input !== up.input || gr.count !== ur.count) continue;
    if ((readers.get(op.gate) ?? []).length !== 1 || (readers.get(op.up) ?? []).length !== 1) continue;
    if (Boolean(gp.bias) !== Boolean(up.bias)) continue;
    if (gp.bias && (gp.bias.weight !== up.bias?.weight || gp.bias.slice?.step !== 2)) continue;
    interleaved.set(op.id, { gate: gp, up });
    fusedLinears.add(gp.id);
    fusedLinears.add(up.id);
  }

  const units = new Map<ValueId, number>();
  const need = (id: ValueId, u: number) => units.set(id, lcm(units.get(id) ?? 1, u));
  for (const op of g.ops) {
    if (op.kind === "attention") {
      need(op.q, op.headDim);
      need(op.outputs[0]!, op.vHeadDim);
      if (op.kv.source === "own") {
        need(op.kv.k, op.headDim);
        need(op.kv.v, op.vHeadDim);
      }
    } else if (op.kind === "mla_attention") {
      need(op.q, op.nopeDim + op.ropeDim);
      need(op.outputs[0]!, op.vHeadDim);
    } else if (op.kind === "rope") {
      need(op.input, op.headDim);
      need(op.outputs[0]!, op.headDim);
    } else if (op.kind === "rms_norm" && op.groupSize < width(op.input)) {
      need(op.input, op.groupSize);
      need(op.outputs[0]!, op.groupSize);
    }
  }
  for (let pass = 0; pass < 4; pass++) {
    for (const op of g.ops) {
      if (!ELEMENTWISE.has(op.kind)) continue;
      const ids = [...opInputs(op), ...op.outputs].filter((v) => width(v) === width(op.outputs[0]!));
      const u = ids.reduce((acc, v) => lcm(acc, units.get(v) ?? 1), 1);
      for (const v of ids) units.set(v, u);
    }
  }

  let lastLayerOp = -1;
  g.ops.forEach((op, i) => {
    if (op.layer !== undefined) lastLayerOp = i;
  });
  const headOps = new Set(
    g.ops.filter((op, i) => i > lastLayerOp && op.layer === undefined).map((o) => o.id),
  );

  return {
    readers,
    index,
    producer,
    folds,
    colTransforms,
    accumInto,
    interleaved,
    fusedLinears,
    headOps,
    unit: (id) => units.get(id) ?? 1,
    liveAfter: (id, i) => lastUse(id) > i || id === g.logits,
  };
}

/** The RMSNorm weights (HF names) codegen folds: pass them to planLayout as `folded`. */
export function foldedNorms(g: ModelGraph): Set<string> {
  return new Set(foldableNorms(g).map((c) => c.norm));
}
