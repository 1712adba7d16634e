/**
 * The data types of the ModelGraph IR other than the ops themselves (see ops.ts): values, weights,
 * views into weights, provenance and the graph container. Everything here is plain JSON data.
 */
import type { Op } from "./ops.js";

/** A dimension of a value: a fixed size, or `"T"`, the number of tokens of the current call. */
export type Dim = number | "T";

/** Identifies a value (an activation) inside one graph, e.g. `"L3.q"`. */
export type ValueId = string;
/** Identifies a weight declaration inside one graph; usually its HF tensor name. */
export type WeightId = string;

/**
 * A value computed per token. Shapes are `["T"]` (token ids) or `["T", n]` (n features per token,
 * row-major; multi-head values are head-major: head h owns columns [h·d, (h+1)·d)).
 */
export interface ValueDecl {
  readonly id: ValueId;
  readonly shape: readonly Dim[];
  /** `int` only for token ids and expert indices; everything else is real-valued. */
  readonly dtype: "float" | "int";
}

/** Storage dtypes as safetensors names them (the whole safetensors `Dtype` enum). */
export const WEIGHT_DTYPES = [
  "F64",
  "F32",
  "F16",
  "BF16",
  "F8_E4M3",
  "F8_E5M2",
  "F8_E8M0",
  "F6_E2M3",
  "F6_E3M2",
  "F4",
  "C64",
  "I64",
  "I32",
  "I16",
  "I8",
  "U64",
  "U32",
  "U16",
  "U8",
  "BOOL",
] as const;
export type WeightDType = (typeof WEIGHT_DTYPES)[number];

/**
 * What a weight is for. The layout stage picks a quantization per role, codegen picks a lowering,
 * reports group parameters by it. `expert_*` are routed experts (per expert or stacked 3-D),
 * `shared_expert_*` the always-on experts of DeepSeek/Qwen-MoE.
 */
export const WEIGHT_ROLES = [
  "embedding",
  "position_embedding",
  "per_layer_embedding",
  "per_layer_model_proj",
  "per_layer_gate",
  "per_layer_proj",
  "lm_head",
  "attn_q",
  "attn_k",
  "attn_v",
  "attn_qkv",
  "attn_o",
  "attn_q_a",
  "attn_q_b",
  "attn_kv_a",
  "attn_kv_b",
  "sinks",
  "mlp_gate",
  "mlp_up",
  "mlp_gate_up",
  "mlp_down",
  "router",
  "expert_gate",
  "expert_up",
  "expert_gate_up",
  "expert_down",
  "shared_expert_gate",
  "shared_expert_up",
  "shared_expert_gate_up",
  "shared_expert_down",
  "altup",
  "laurel",
  "norm",
  "bias",
  "scale",
  "other",
] as const;
export type WeightRole = (typeof WEIGHT_ROLES)[number];

/** A tensor of the checkpoint, named as the checkpoint names it. */
export interface WeightDecl {
  readonly id: WeightId;
  /** HF tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  readonly name: string;
  /** Shape as stored in the checkpoint. */
  readonly shape: readonly number[];
  readonly dtype: WeightDType;
  readonly role: WeightRole;
  /** Decoder layer the tensor belongs to; absent for global tensors. */
  readonly layer?: number;
  /** Stored [in, out] (GPT-2 Conv1D, gpt-oss experts) instead of nn.Linear's [out, in]. */
  readonly transposed?: boolean;
  /**
   * This declaration reads the same stored tensor as another one (tied LM head): same name and
   * shape; it is counted once.
   */
  readonly tiedTo?: WeightId;
  /** Why the weight is declared although no op reads it (silences the verifier). */
  readonly unused?: string;
  /** Config keys that produced this tensor's shape or presence. */
  readonly keys: readonly string[];
}

/** Elements `start, start+step, …` (`count` of them) of one axis. `step` defaults to 1. */
export interface Slice {
  readonly start: number;
  readonly count: number;
  readonly step?: number;
}

/**
 * A 2-D matrix in nn.Linear orientation [out, in], read from a stored weight: the whole tensor, one
 * expert of a stacked 3-D tensor, and/or a slice of its output rows (a fused qkv or gate_up tensor
 * split into its parts; `step: 2` for gpt-oss's interleaved gate/up columns). Transposition comes
 * from the weight's `transposed` flag, never from the view.
 */
export interface MatrixView {
  readonly weight: WeightId;
  /** Index into axis 0 of a stacked [E, …] tensor. */
  readonly expert?: number;
  /** Output rows of the logical [out, in] matrix (default: all). */
  readonly rows?: Slice;
}

/** A vector read from a stored weight (norm weight, bias, scale), optionally from a stacked [E, n] tensor. */
export interface VectorView {
  readonly weight: WeightId;
  readonly expert?: number;
  readonly slice?: Slice;
}

export interface GraphMeta {
  /** `model_type` of the config (`llama`, `gemma3n_text`, …). */
  readonly modelType: string;
  /** Id of the architecture plugin that built the graph. */
  readonly plugin: string;
  readonly numLayers: number;
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /** Free-form notes a plugin wants to keep next to the graph (e.g. simplifications). */
  readonly notes?: readonly string[];
}

/**
 * One model's per-token computation. `ops` run in order; every value is produced by exactly one op
 * (or is the `tokens` input) before it is read. Positions are implicit: a call with T tokens
 * starting at position p processes positions p … p+T-1 (prefill: p = 0, T = prompt length; decode:
 * T = 1 at the next position), with the attention caches holding positions < p.
 */
export interface ModelGraph {
  readonly meta: GraphMeta;
  /** The token-ids input value, shape ["T"], dtype int. */
  readonly tokens: ValueId;
  /** The logits value, shape ["T", vocab]. */
  readonly logits: ValueId;
  readonly weights: readonly WeightDecl[];
  readonly values: readonly ValueDecl[];
  readonly ops: readonly Op[];
}

/** Number of selected elements of a slice, and the last index it touches. */
export function sliceEnd(s: Slice): number {
  return s.start + (s.count - 1) * (s.step ?? 1);
}

/** Index maps for a graph (built once, used by verifier, printer, golden reference, codegen). */
export interface GraphIndex {
  readonly weights: ReadonlyMap<WeightId, WeightDecl>;
  readonly values: ReadonlyMap<ValueId, ValueDecl>;
}

export function indexGraph(g: ModelGraph): GraphIndex {
  return {
    weights: new Map(g.weights.map((w) => [w.id, w])),
    values: new Map(g.values.map((v) => [v.id, v])),
  };
}

/** Feature width of a ["T", n] value (1 for the ["T"] token input). */
export function valueWidth(v: ValueDecl): number {
  const d = v.shape[1];
  return typeof d === "number" ? d : 1;
}
