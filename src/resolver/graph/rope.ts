/**
 * RoPE frequency schedules as data (`RopeSpec`, carried by every rope op) and the one place their
 * formulas live: the inverse frequencies and the attention factor that HF multiplies into cos/sin.
 * Codegen (cos/sin tables), the golden reference and reports all call these functions.
 *
 * Source of every formula: huggingface/transformers `src/transformers/modeling_rope_utils.py`
 * (`_compute_*_parameters` and `dynamic_rope_update`), transformers 5.x. `dim` below is the rotary
 * width (rotaryDim of the op), i = 0 … dim/2 − 1.
 */

/** Plain RoPE: invFreq_i = θ^(−2i/dim). */
export interface DefaultRope {
  readonly type: "default";
  readonly theta: number;
}
/** Position interpolation: invFreq_i = θ^(−2i/dim) / factor. */
export interface LinearRope {
  readonly type: "linear";
  readonly theta: number;
  readonly factor: number;
}
/**
 * Dynamic NTK: for L = max(seqLen, maxPositionEmbeddings),
 * θ' = θ · (factor·L/maxPos − (factor − 1))^(dim/(dim−2)); invFreq_i = θ'^(−2i/dim).
 * Equal to default RoPE while the sequence fits in maxPositionEmbeddings.
 */
export interface DynamicRope {
  readonly type: "dynamic";
  readonly theta: number;
  readonly factor: number;
  readonly maxPositionEmbeddings: number;
}
/** Llama 3.1: wavelength-dependent interpolation, see `ropeInvFreq`. */
export interface Llama3Rope {
  readonly type: "llama3";
  readonly theta: number;
  readonly factor: number;
  readonly lowFreqFactor: number;
  readonly highFreqFactor: number;
  readonly originalMaxPositionEmbeddings: number;
}
/** YaRN (DeepSeek V2/V3, gpt-oss, Qwen long context), see `ropeInvFreq` and `ropeAttentionFactor`. */
export interface YarnRope {
  readonly type: "yarn";
  readonly theta: number;
  readonly factor: number;
  readonly originalMaxPositionEmbeddings: number;
  readonly betaFast: number;
  readonly betaSlow: number;
  /** Round the correction range outward to integers (HF default true; gpt-oss sets false). */
  readonly truncate: boolean;
  readonly mscale?: number;
  readonly mscaleAllDim?: number;
  readonly attentionFactor?: number;
}
/**
 * LongRoPE / "su" (Phi-3 long context): invFreq_i = 1 / (ext_i · θ^(2i/dim)) with ext = longFactor
 * when seqLen > originalMaxPositionEmbeddings, else shortFactor.
 */
export interface LongRope {
  readonly type: "longrope";
  readonly theta: number;
  readonly shortFactor: readonly number[];
  readonly longFactor: readonly number[];
  readonly originalMaxPositionEmbeddings: number;
  /** maxPositionEmbeddings / originalMaxPositionEmbeddings unless the config states it. */
  readonly factor: number;
  readonly attentionFactor?: number;
}
/**
 * Gemma 4 "proportional": the whole head is the rotary width; the first ⌊p·dim/2⌋ angles use
 * θ^(−2i/dim), the remaining ones have frequency 0 (identity), all divided by factor.
 */
export interface ProportionalRope {
  readonly type: "proportional";
  readonly theta: number;
  readonly factor: number;
  readonly partialRotaryFactor: number;
}

export type RopeSpec =
  | DefaultRope
  | LinearRope
  | DynamicRope
  | Llama3Rope
  | YarnRope
  | LongRope
  | ProportionalRope;

export type RopeType = RopeSpec["type"];

function baseInvFreq(theta: number, dim: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < dim / 2; i++) out.push(theta ** (-(2 * i) / dim));
  return out;
}

/** YaRN's attention-magnitude correction: 0.1·mscale·ln(scale) + 1 for scale > 1, else 1. */
export function yarnGetMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

function llama3InvFreq(s: Llama3Rope, dim: number): number[] {
  const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  return baseInvFreq(s.theta, dim).map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f; // high frequency: kept
    if (wavelen > lowWavelen) return f / s.factor; // low frequency: interpolated
    const smooth =
      (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return ((1 - smooth) * f) / s.factor + smooth * f;
  });
}

/** YaRN correction range [low, high] over the dim/2 frequency indices (HF find_correction_range). */
export function yarnCorrectionRange(s: YarnRope, dim: number): { low: number; high: number } {
  const corrDim = (rotations: number) =>
    (dim * Math.log(s.originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(s.theta));
  let low = corrDim(s.betaFast);
  let high = corrDim(s.betaSlow);
  if (s.truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  return { low: Math.max(low, 0), high: Math.min(high, dim - 1) };
}

function yarnInvFreq(s: YarnRope, dim: number): number[] {
  const { low, high } = yarnCorrectionRange(s, dim);
  const span = high === low ? 0.001 : high - low; // HF: max += 0.001 to avoid a singularity
  return baseInvFreq(s.theta, dim).map((extrapolated, i) => {
    const ramp = Math.min(1, Math.max(0, (i - low) / span));
    const extrapolationWeight = 1 - ramp;
    const interpolated = extrapolated / s.factor;
    return interpolated * (1 - extrapolationWeight) + extrapolated * extrapolationWeight;
  });
}

function longropeInvFreq(s: LongRope, dim: number, seqLen: number): number[] {
  const ext = seqLen > s.originalMaxPositionEmbeddings ? s.longFactor : s.shortFactor;
  return baseInvFreq(s.theta, dim).map((f, i) => f / (ext[i] ?? Number.NaN));
}

function proportionalInvFreq(s: ProportionalRope, dim: number): number[] {
  const angles = Math.floor((s.partialRotaryFactor * dim) / 2);
  return baseInvFreq(s.theta, dim).map((f, i) => (i < angles ? f / s.factor : 0));
}

/**
 * Inverse frequencies (dim/2 of them) for a rotary width `dim`. `seqLen` is the current sequence
 * length, max(position) + 1 of the call: only `dynamic` and `longrope` depend on it.
 */
export function ropeInvFreq(spec: RopeSpec, dim: number, seqLen = 0): number[] {
  switch (spec.type) {
    case "default":
      return baseInvFreq(spec.theta, dim);
    case "linear":
      return baseInvFreq(spec.theta, dim).map((f) => f / spec.factor);
    case "dynamic": {
      const len = Math.max(seqLen, spec.maxPositionEmbeddings);
      const base =
        spec.theta *
        ((spec.factor * len) / spec.maxPositionEmbeddings - (spec.factor - 1)) ** (dim / (dim - 2));
      return baseInvFreq(base, dim);
    }
    case "llama3":
      return llama3InvFreq(spec, dim);
    case "yarn":
      return yarnInvFreq(spec, dim);
    case "longrope":
      return longropeInvFreq(spec, dim, seqLen);
    case "proportional":
      return proportionalInvFreq(spec, dim);
  }
}

/**
 * The factor HF multiplies into cos and sin (so into the rotated features of both q and k).
 * yarn: attentionFactor, else mscale(f, mscale)/mscale(f, mscaleAllDim) when both are set, else
 * mscale(f). longrope: attentionFactor, else sqrt(1 + ln f / ln originalMax) for f > 1. Others: 1.
 */
export function ropeAttentionFactor(spec: RopeSpec): number {
  if (spec.type === "yarn") {
    if (spec.attentionFactor !== undefined) return spec.attentionFactor;
    if (spec.mscale && spec.mscaleAllDim) {
      return yarnGetMscale(spec.factor, spec.mscale) / yarnGetMscale(spec.factor, spec.mscaleAllDim);
    }
    return yarnGetMscale(spec.factor);
  }
  if (spec.type === "longrope") {
    if (spec.attentionFactor !== undefined) return spec.attentionFactor;
    if (spec.factor <= 1) return 1;
    return Math.sqrt(1 + Math.log(spec.factor) / Math.log(spec.originalMaxPositionEmbeddings));
  }
  return 1;
}

/** Whether the frequencies change with the sequence length (codegen must patch them per call). */
export function ropeDependsOnLength(spec: RopeSpec): boolean {
  return spec.type === "dynamic" || spec.type === "longrope";
}
