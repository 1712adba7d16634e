/**
 * The op set of the ModelGraph IR: a discriminated union on `kind`. Every op reads named values and
 * weights and defines the values listed in `outputs`. Exact semantics (formula, shapes, attribute
 * meanings) are in docs/graph.md; the float64 reference in src/validate/golden is their executable
 * definition. Keep this list small: a new model feature is first expressed with existing ops, and a
 * new op is added only when a composition would hide its meaning from codegen.
 */
import type { RopeSpec } from "./rope.js";
import type { MatrixView, Slice, ValueId, VectorView, WeightId } from "./types.js";

interface OpBase {
  /** `op<N>`, unique in the graph, in execution order. */
  readonly id: string;
  /** Decoder layer; absent for the embedding prologue and the head. */
  readonly layer?: number;
  /** Config keys whose values produced this op or its attributes. */
  readonly keys: readonly string[];
  readonly outputs: readonly ValueId[];
}

/** out[t] = scale · table[tokens[t]] (table [V, D]). Also the per-layer-embedding lookup. */
export interface EmbeddingOp extends OpBase {
  readonly kind: "embedding";
  readonly tokens: ValueId;
  readonly table: WeightId;
  readonly scale?: number;
}

/** GPT-2 learned positions: out[t] = x[t] + table[p + t] (table [P, D]). */
export interface PositionEmbeddingOp extends OpBase {
  readonly kind: "position_embedding";
  readonly input: ValueId;
  readonly table: WeightId;
}

/**
 * RMSNorm over each contiguous group of `groupSize` features (the whole row, or one head for q/k
 * norms): y = x / sqrt(mean(x²) + eps) · (weightOffset + w); no weight means w = 0, weightOffset 1.
 */
export interface RmsNormOp extends OpBase {
  readonly kind: "rms_norm";
  readonly input: ValueId;
  readonly weight?: VectorView;
  /** 0: `x̂·w` (Llama); 1: `x̂·(1+w)` (Gemma 1–3). */
  readonly weightOffset: 0 | 1;
  readonly eps: number;
  readonly groupSize: number;
}

/** y = (x - mean) / sqrt(var + eps) · w + b, biased variance, over the whole row. */
export interface LayerNormOp extends OpBase {
  readonly kind: "layer_norm";
  readonly input: ValueId;
  readonly weight?: VectorView;
  readonly bias?: VectorView;
  readonly eps: number;
}

/** y = W·x (+ b), W the [out, in] matrix of the view. */
export interface LinearOp extends OpBase {
  readonly kind: "linear";
  readonly input: ValueId;
  readonly weight: MatrixView;
  readonly bias?: VectorView;
}

/**
 * Rotary embedding of each of `heads` heads of width `headDim`, on the `rotaryDim` features that
 * start at `offset` inside the head (the rest pass through). `style` pairs feature i with
 * i + rotaryDim/2 (`half`, HF rotate_half) or 2i with 2i+1 (`interleaved`, GPT-J/DeepSeek). The
 * angles are position · invFreq(rope) and the rotated features are multiplied by the rope's
 * attention factor (yarn/longrope), as HF multiplies cos and sin.
 */
export interface RopeOp extends OpBase {
  readonly kind: "rope";
  readonly input: ValueId;
  readonly heads: number;
  readonly headDim: number;
  readonly offset: number;
  readonly rotaryDim: number;
  readonly style: "half" | "interleaved";
  readonly rope: RopeSpec;
}

/** Which earlier positions a query at position i sees: causal j ≤ i; sliding also i − j < window. */
export type MaskSpec = { readonly kind: "causal" } | { readonly kind: "sliding"; readonly window: number };

/**
 * Keys/values of an attention op: `own` appends k, v (one row per new token) to this layer's cache
 * and attends over it; `shared` writes nothing and attends over the cache of an earlier layer
 * (Gemma 3n / Gemma 4 KV sharing).
 */
export type AttentionKv =
  | { readonly source: "own"; readonly k: ValueId; readonly v: ValueId }
  | { readonly source: "shared"; readonly layer: number };

/**
 * Scaled dot-product attention over the cache of `layer` (own) or `kv.layer` (shared). Query head h
 * reads KV head ⌊h / (heads / kvHeads)⌋. score = scale · q·k, then softcap, then the mask, then a
 * softmax whose denominator also holds exp(sinks[h]) when sinks are given (gpt-oss).
 */
export interface AttentionOp extends OpBase {
  readonly kind: "attention";
  readonly q: ValueId;
  readonly kv: AttentionKv;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vHeadDim: number;
  readonly scale: number;
  readonly mask: MaskSpec;
  readonly softcap?: number;
  readonly sinks?: VectorView;
}

/**
 * DeepSeek multi-head latent attention. The cache holds, per position, the normalised latent
 * c (kvRank) and the roped shared key part kRope (ropeDim). For head h: [k_nope | v] = rows of
 * kvB·c for that head, k = [k_nope | kRope], q_h = q[h] = [q_nope | q_rope] (rope applied before).
 */
export interface MlaAttentionOp extends OpBase {
  readonly kind: "mla_attention";
  readonly q: ValueId;
  readonly latent: ValueId;
  readonly kRope: ValueId;
  readonly kvB: MatrixView;
  readonly heads: number;
  readonly kvRank: number;
  readonly nopeDim: number;
  readonly ropeDim: number;
  readonly vHeadDim: number;
  readonly scale: number;
  readonly mask: MaskSpec;
}

export const ACT_FNS = ["silu", "gelu", "gelu_tanh", "relu", "tanh", "sigmoid"] as const;
/** `gelu` is the exact erf form; `gelu_tanh` is HF's gelu_new / gelu_pytorch_tanh. */
export type ActFn = (typeof ACT_FNS)[number];

export interface ActivationOp extends OpBase {
  readonly kind: "activation";
  readonly input: ValueId;
  readonly fn: ActFn;
}

/**
 * The gating of a gated MLP: act(gate) · up, or gpt-oss's clamped SwiGLU
 * g = min(gate, limit), u = clamp(up, ±limit), (u + 1) · g · σ(alpha · g).
 */
export type GluAct =
  | { readonly fn: ActFn }
  | { readonly fn: "clamped_swiglu"; readonly alpha: number; readonly limit: number };

export interface GluOp extends OpBase {
  readonly kind: "glu";
  readonly gate: ValueId;
  readonly up: ValueId;
  readonly act: GluAct;
}

/** a + b, same shape (residual adds included). */
export interface AddOp extends OpBase {
  readonly kind: "add";
  readonly a: ValueId;
  readonly b: ValueId;
}

/** a · b element-wise; b may be ["T", 1] (one factor per token, broadcast over the row). */
export interface MulOp extends OpBase {
  readonly kind: "mul";
  readonly a: ValueId;
  readonly b: ValueId;
}

/** x · w with a stored vector w of the row's width, or of length 1 (a learned scalar). */
export interface MulWeightOp extends OpBase {
  readonly kind: "mul_weight";
  readonly input: ValueId;
  readonly weight: VectorView;
}

/** x · factor, a constant (embedding scales, 1/√2, router input scales). */
export interface ScaleOp extends OpBase {
  readonly kind: "scale";
  readonly input: ValueId;
  readonly factor: number;
}

/** cap · tanh(x / cap) (Gemma 2 attention and final logits). */
export interface SoftcapOp extends OpBase {
  readonly kind: "softcap";
  readonly input: ValueId;
  readonly cap: number;
}

/** Features [start, start+count) of each row. */
export interface SliceOp extends OpBase {
  readonly kind: "slice";
  readonly input: ValueId;
  readonly start: number;
  readonly count: number;
}

/**
 * Expert selection from router logits [T, E]: outputs the top-k expert indices [T, k] (int) and their
 * weights [T, k]. See docs/graph.md for the exact order of scoring, bias, groups and scaling.
 */
export interface MoeRouteOp extends OpBase {
  readonly kind: "moe_route";
  readonly logits: ValueId;
  readonly numExperts: number;
  readonly topK: number;
  readonly scoring: "softmax" | "sigmoid";
  /** Divide the k selected weights by their sum. */
  readonly normalize: boolean;
  /** Multiplies the final weights (DeepSeek routed_scaling_factor); 1 if none. */
  readonly routedScale: number;
  /** Group-limited routing: keep the `topk` best of `count` equal groups of experts. */
  readonly groups?: { readonly count: number; readonly topk: number; readonly score: "max" | "top2_sum" };
  /** Added to the scores for selection only (DeepSeek-V3 e_score_correction_bias). */
  readonly correctionBias?: VectorView;
  /** Per-expert factor applied to the final weights (Gemma 4). */
  readonly perExpertScale?: VectorView;
}

/** Expert matrices stored one tensor per expert, or as one stacked [E, …] tensor. */
export type ExpertMatrix =
  | { readonly kind: "per_expert"; readonly weights: readonly WeightId[]; readonly rows?: Slice }
  | { readonly kind: "stacked"; readonly weight: WeightId; readonly rows?: Slice };
export type ExpertVector =
  | { readonly kind: "per_expert"; readonly weights: readonly WeightId[]; readonly slice?: Slice }
  | { readonly kind: "stacked"; readonly weight: WeightId; readonly slice?: Slice };

/**
 * out[t] = Σ_k weights[t,k] · E_{indices[t,k]}(x[t]) with each expert a gated MLP
 * E(x) = down · act(gate·x + bg, up·x + bu) + bd.
 */
export interface MoeExpertsOp extends OpBase {
  readonly kind: "moe_experts";
  readonly input: ValueId;
  readonly indices: ValueId;
  readonly weights: ValueId;
  readonly numExperts: number;
  readonly intermediate: number;
  readonly gate: ExpertMatrix;
  readonly up: ExpertMatrix;
  readonly down: ExpertMatrix;
  readonly gateBias?: ExpertVector;
  readonly upBias?: ExpertVector;
  readonly downBias?: ExpertVector;
  readonly act: GluAct;
}

/**
 * Gemma 3n AltUp predict over N streams x_0…x_{N-1} with modalities m [T, N]:
 * c = coefs·m (N² values), pred_j = x_j + Σ_i c[j·N + i] · x_i. Outputs N predictions.
 */
export interface AltupPredictOp extends OpBase {
  readonly kind: "altup_predict";
  readonly streams: readonly ValueId[];
  readonly modalities: ValueId;
  readonly coefs: MatrixView;
}

/**
 * Gemma 3n AltUp correct: c = clip(coefs, ±coefClip)·m + 1, innovation = activated − pred_active,
 * out_j = pred_j + c_j · innovation. Outputs N streams.
 */
export interface AltupCorrectOp extends OpBase {
  readonly kind: "altup_correct";
  readonly predictions: readonly ValueId[];
  readonly activated: ValueId;
  readonly modalities: ValueId;
  readonly coefs: MatrixView;
  readonly coefClip?: number;
  readonly activeIndex: number;
}

/** x · rms(reference) / sqrt(max(mean(x²), eps)) (Gemma 3n AltUp stream scaling). */
export interface MagnitudeMatchOp extends OpBase {
  readonly kind: "magnitude_match";
  readonly input: ValueId;
  readonly reference: ValueId;
  readonly eps: number;
}

/** Element-wise mean of N values of one shape. */
export interface MeanOp extends OpBase {
  readonly kind: "mean";
  readonly inputs: readonly ValueId[];
}

/**
 * Gemma 3n activation sparsity: relu(x − (mean(x) + std(x)·Φ⁻¹(sparsity))) per row, population std.
 */
export interface GaussianTopkOp extends OpBase {
  readonly kind: "gaussian_topk";
  readonly input: ValueId;
  readonly sparsity: number;
}

export type Op =
  | EmbeddingOp
  | PositionEmbeddingOp
  | RmsNormOp
  | LayerNormOp
  | LinearOp
  | RopeOp
  | AttentionOp
  | MlaAttentionOp
  | ActivationOp
  | GluOp
  | AddOp
  | MulOp
  | MulWeightOp
  | ScaleOp
  | SoftcapOp
  | SliceOp
  | MoeRouteOp
  | MoeExpertsOp
  | AltupPredictOp
  | AltupCorrectOp
  | MagnitudeMatchOp
  | MeanOp
  | GaussianTopkOp;

export type OpKind = Op["kind"];
export type OpOf<K extends OpKind> = Extract<Op, { kind: K }>;

export const OP_KINDS: readonly OpKind[] = [
  "embedding",
  "position_embedding",
  "rms_norm",
  "layer_norm",
  "linear",
  "rope",
  "attention",
  "mla_attention",
  "activation",
  "glu",
  "add",
  "mul",
  "mul_weight",
  "scale",
  "softcap",
  "slice",
  "moe_route",
  "moe_experts",
  "altup_predict",
  "altup_correct",
  "magnitude_match",
  "mean",
  "gaussian_topk",
];

/** The matrix view of expert e of an expert matrix. */
export function expertMatrixView(m: ExpertMatrix, e: number): MatrixView {
  const w = m.kind === "per_expert" ? m.weights[e] : m.weight;
  if (w === undefined) throw new RangeError(`expert ${e} out of range`);
  const base: MatrixView = m.kind === "per_expert" ? { weight: w } : { weight: w, expert: e };
  return m.rows ? { ...base, rows: m.rows } : base;
}

/** The vector view of expert e of an expert vector. */
export function expertVectorView(v: ExpertVector, e: number): VectorView {
  const w = v.kind === "per_expert" ? v.weights[e] : v.weight;
  if (w === undefined) throw new RangeError(`expert ${e} out of range`);
  const base: VectorView = v.kind === "per_expert" ? { weight: w } : { weight: w, expert: e };
  return v.slice ? { ...base, slice: v.slice } : base;
}

/** The values an op reads, in a fixed order. */
export function opInputs(op: Op): readonly ValueId[] {
  switch (op.kind) {
    case "embedding":
      return [op.tokens];
    case "attention":
      return op.kv.source === "own" ? [op.q, op.kv.k, op.kv.v] : [op.q];
    case "mla_attention":
      return [op.q, op.latent, op.kRope];
    case "glu":
      return [op.gate, op.up];
    case "add":
    case "mul":
      return [op.a, op.b];
    case "moe_route":
      return [op.logits];
    case "moe_experts":
      return [op.input, op.indices, op.weights];
    case "altup_predict":
      return [...op.streams, op.modalities];
    case "altup_correct":
      return [...op.predictions, op.activated, op.modalities];
    case "magnitude_match":
      return [op.input, op.reference];
    case "mean":
      return op.inputs;
    default:
      return [op.input];
  }
}
