/**
 * The element-wise and per-row math of the golden reference, one small function per formula of
 * docs/graph.md, written for clarity (plain loops, float64). Tests check each one against values
 * worked out by hand.
 */
import type { ActFn, GluAct } from "../../resolver/graph/index.js";
import { erf, normalIcdf } from "../../resolver/graph/index.js";

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** HF ACT2FN: silu = x·σ(x); gelu = x·Φ(x) (erf); gelu_tanh = gelu_new / gelu_pytorch_tanh. */
export function activate(fn: ActFn, x: number): number {
  switch (fn) {
    case "silu":
      return x * sigmoid(x);
    case "gelu":
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case "gelu_tanh":
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case "relu":
      return Math.max(0, x);
    case "tanh":
      return Math.tanh(x);
    case "sigmoid":
      return sigmoid(x);
  }
}

/** One element of a gated MLP: act(gate)·up, or gpt-oss's clamped SwiGLU. */
export function gluElement(act: GluAct, gate: number, up: number): number {
  if (act.fn === "clamped_swiglu") {
    const g = Math.min(gate, act.limit);
    const u = Math.min(Math.max(up, -act.limit), act.limit);
    return (u + 1) * g * sigmoid(act.alpha * g);
  }
  return activate(act.fn, gate) * up;
}

export function softcap(x: number, cap: number): number {
  return cap * Math.tanh(x / cap);
}

/** RMSNorm of one group in place-free form: x/√(mean(x²)+eps) · (offset + w). */
export function rmsNorm(
  x: ArrayLike<number>,
  w: ArrayLike<number> | undefined,
  offset: number,
  eps: number,
): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * inv * (w ? offset + w[i]! : 1);
  return out;
}

/** LayerNorm with biased variance: (x − μ)/√(σ² + eps) · w + b. */
export function layerNorm(
  x: ArrayLike<number>,
  w: ArrayLike<number> | undefined,
  b: ArrayLike<number> | undefined,
  eps: number,
): Float64Array {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i]!;
  mean /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i]! - mean) ** 2;
  const inv = 1 / Math.sqrt(v / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i]! - mean) * inv * (w ? w[i]! : 1) + (b ? b[i]! : 0);
  return out;
}

/**
 * Rotates the `2·invFreq.length` features of one head starting at `offset`, for position `pos`:
 * pairs (i, i + d/2) for `half`, (2i, 2i+1) for `interleaved`, angle pos·invFreq[i]; the rotated
 * features are multiplied by `factor` (the rope attention factor). Returns a new array.
 */
export function ropeRotate(
  head: ArrayLike<number>,
  offset: number,
  invFreq: readonly number[],
  pos: number,
  style: "half" | "interleaved",
  factor = 1,
): Float64Array {
  const out = Float64Array.from(head);
  const half = invFreq.length;
  for (let i = 0; i < half; i++) {
    const a = offset + (style === "half" ? i : 2 * i);
    const b = offset + (style === "half" ? i + half : 2 * i + 1);
    const angle = pos * invFreq[i]!;
    const [c, s] = [Math.cos(angle) * factor, Math.sin(angle) * factor];
    out[a] = head[a]! * c - head[b]! * s;
    out[b] = head[b]! * c + head[a]! * s;
  }
  return out;
}

/**
 * Gemma 3n Gaussian top-k: cutoff = mean + std·Φ⁻¹(sparsity) with the population std, then
 * relu(x − cutoff).
 */
export function gaussianTopk(x: ArrayLike<number>, sparsity: number): Float64Array {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i]!;
  mean /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i]! - mean) ** 2;
  const cutoff = mean + Math.sqrt(v / x.length) * normalIcdf(sparsity);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(0, x[i]! - cutoff);
  return out;
}

/**
 * Softmax of `logits`; with a sink logit s, the denominator also holds exp(s) and the result no
 * longer sums to 1 (the sink's share is dropped, as gpt-oss does). Max-subtracted for stability.
 */
export function softmax(logits: readonly number[], sink?: number): number[] {
  let max = sink ?? Number.NEGATIVE_INFINITY;
  for (const l of logits) max = Math.max(max, l);
  const e = logits.map((l) => Math.exp(l - max));
  const denom = e.reduce((a, b) => a + b, 0) + (sink !== undefined ? Math.exp(sink - max) : 0);
  return e.map((x) => x / denom);
}
