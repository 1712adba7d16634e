/**
 * Mixture-of-experts in the golden reference: expert selection (scores, correction bias, group
 * limits, top-k, normalisation, scaling) and the weighted sum of gated-MLP experts.
 */
import type { MoeExpertsOp, MoeRouteOp } from "../../resolver/graph/index.js";
import { expertMatrixView, expertVectorView } from "../../resolver/graph/index.js";
import { gluElement, sigmoid, softmax } from "./kernels.js";
import { matVec } from "./tensor.js";
import type { LoadedWeights } from "./weights.js";

/** Indices of the k largest values, largest first; ties go to the lower index. */
export function topIndices(values: readonly number[], k: number): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

export interface RouteParams {
  readonly numExperts: number;
  readonly topK: number;
  readonly scoring: "softmax" | "sigmoid";
  readonly normalize: boolean;
  readonly routedScale: number;
  readonly groups?: MoeRouteOp["groups"];
  readonly correctionBias?: ArrayLike<number>;
  readonly perExpertScale?: ArrayLike<number>;
}

/**
 * One token's routing. scores = softmax|sigmoid(logits); choice = scores + bias; with groups, each
 * group is scored (max, or sum of its two best choices), the best `groups.topk` groups are kept and
 * every other expert is excluded; the topK experts by choice are selected; their weights are the
 * scores (without bias), optionally divided by their sum, times routedScale and perExpertScale.
 */
export function route(logits: readonly number[], p: RouteParams): { indices: number[]; weights: number[] } {
  const scores = p.scoring === "softmax" ? softmax(logits) : logits.map(sigmoid);
  let choice = scores.map((s, e) => s + (p.correctionBias ? p.correctionBias[e]! : 0));
  if (p.groups) {
    const size = p.numExperts / p.groups.count;
    const groupScores = Array.from({ length: p.groups.count }, (_, g) => {
      const members = choice.slice(g * size, (g + 1) * size);
      if (p.groups!.score === "max") return Math.max(...members);
      const [a, b] = topIndices(members, 2).map((i) => members[i]!);
      return a! + b!;
    });
    const kept = new Set(topIndices(groupScores, p.groups.topk));
    choice = choice.map((c, e) => (kept.has(Math.floor(e / size)) ? c : Number.NEGATIVE_INFINITY));
  }
  const indices = topIndices(choice, p.topK);
  let weights = indices.map((e) => scores[e]!);
  if (p.normalize) {
    const sum = weights.reduce((a, b) => a + b, 0);
    weights = weights.map((w) => w / sum);
  }
  weights = weights.map(
    (w, n) => w * p.routedScale * (p.perExpertScale ? p.perExpertScale[indices[n]!]! : 1),
  );
  return { indices, weights };
}

/** E_e(x) = down·glu(gate·x + bg, up·x + bu) + bd for expert e. */
export function runExpert(op: MoeExpertsOp, w: LoadedWeights, e: number, x: Float64Array): Float64Array {
  const bias = (v: MoeExpertsOp["gateBias"]) => (v ? w.vector(expertVectorView(v, e)) : undefined);
  const gate = matVec(w.matrix(expertMatrixView(op.gate, e)), x, bias(op.gateBias));
  const up = matVec(w.matrix(expertMatrixView(op.up, e)), x, bias(op.upBias));
  const h = gate.map((g, i) => gluElement(op.act, g, up[i]!));
  return matVec(w.matrix(expertMatrixView(op.down, e)), h, bias(op.downBias));
}

/** Σ_k weights[k] · E_{indices[k]}(x) for one token. */
export function runExperts(
  op: MoeExpertsOp,
  w: LoadedWeights,
  x: Float64Array,
  indices: ArrayLike<number>,
  weights: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(x.length);
  for (let k = 0; k < indices.length; k++) {
    const y = runExpert(op, w, indices[k]!, x);
    for (let i = 0; i < out.length; i++) out[i]! += weights[k]! * y[i]!;
  }
  return out;
}
