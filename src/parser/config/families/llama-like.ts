/**
 * Llama-style families: llama, mistral, mixtral, qwen2, qwen3, qwen3_moe, phi3. Defaults are
 * the transformers config classes' (configuration_<family>.py), listed in docs/parser-config.md.
 */
import type { DecoderSpec } from "../decoder.js";
import { plans } from "../decoder.js";
import type { ErrCtx } from "../errors.js";
import { invalidAt } from "../errors.js";
import { F, type Shape } from "../fields.js";
import type { KeyReader } from "../keys.js";
import type { MoeConfig } from "../types.js";

/** Keys every Hugging Face-named decoder shares. */
export const BASE_SHAPE: Shape = {
  vocab_size: F.posInt(),
  hidden_size: F.posInt(),
  intermediate_size: F.intOrIntList(),
  num_hidden_layers: F.posInt(),
  num_attention_heads: F.posInt(),
  num_key_value_heads: F.posIntOrNull(),
  head_dim: F.posIntOrNull(),
  max_position_embeddings: F.posInt(),
  rms_norm_eps: F.posNum(),
  tie_word_embeddings: F.bool(),
  rope_theta: F.posNum(),
  rope_scaling: F.objOrNull(),
  rope_parameters: F.objOrNull(),
  layer_types: F.strListOrNull(),
  per_layer_config: F.objOrNull(),
  bos_token_id: F.tokenIds(),
  eos_token_id: F.tokenIds(),
  pad_token_id: F.tokenIds(),
  torch_dtype: F.strOrNull(),
  dtype: F.strOrNull(),
};

export const CORE_REQUIRED = [
  "vocab_size",
  "hidden_size",
  "intermediate_size",
  "num_hidden_layers",
  "num_attention_heads",
] as const;

const LLAMA_DEFAULTS = {
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: null,
  head_dim: null,
  hidden_act: "silu",
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  attention_bias: false,
  mlp_bias: false,
};

export const llama: DecoderSpec = {
  modelType: "llama",
  family: "llama",
  className: "LlamaConfig",
  shape: { ...BASE_SHAPE, hidden_act: F.str(), attention_bias: F.bool(), mlp_bias: F.bool() },
  defaults: LLAMA_DEFAULTS,
  required: CORE_REQUIRED,
  actKeys: ["hidden_act"],
  plan: (_r, n) => plans.allFull(n),
  rope: { mode: "global", defaultTheta: 10000 },
  bias: "keys",
};

const MISTRAL_DEFAULTS = {
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: null,
  hidden_act: "silu",
  max_position_embeddings: 4096 * 32,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  sliding_window: 4096,
};

export const mistral: DecoderSpec = {
  modelType: "mistral",
  family: "mistral",
  className: "MistralConfig",
  shape: { ...BASE_SHAPE, hidden_act: F.str(), sliding_window: F.posIntOrNull() },
  defaults: MISTRAL_DEFAULTS,
  required: CORE_REQUIRED,
  actKeys: ["hidden_act"],
  plan: plans.windowEverywhere,
  rope: { mode: "global", defaultTheta: 10000 },
  bias: "keys",
};

/** Read a key by its first present spelling; cross-check the others. */
export function aliased<T>(r: KeyReader, ctx: ErrCtx, keys: readonly string[], field: string): T | undefined {
  const present = keys.filter((k) => r.has(k));
  const first = present[0];
  if (first === undefined) return r.get<T>(keys[0] as string, field);
  const v = r.take<T>(first, field);
  for (const k of present.slice(1)) {
    const w = r.take<T>(k, field);
    if (w !== v)
      throw invalidAt(ctx, r.path(k), `${k} (${String(w)}) disagrees with ${first} (${String(v)})`);
  }
  return v;
}

/** MoE on every layer, softmax router, no shared experts (Mixtral, gpt-oss). */
export function simpleMoe(
  n: number,
  expertWidth: number,
  fields: { experts: number; topK: number; norm: boolean; routerBias: boolean },
): { moe: MoeConfig; layer_mlp: "moe"[] } {
  return {
    moe: {
      num_experts: fields.experts,
      num_experts_per_tok: fields.topK,
      moe_intermediate_size: expertWidth,
      n_shared_experts: 0,
      shared_expert_intermediate_size: null,
      norm_topk_prob: fields.norm,
      scoring_func: "softmax",
      topk_method: "greedy",
      n_group: null,
      topk_group: null,
      routed_scaling_factor: 1,
      router_bias: fields.routerBias,
      first_k_dense_replace: 0,
      moe_layer_freq: 1,
      decoder_sparse_step: 1,
      mlp_only_layers: [],
    },
    layer_mlp: Array(n).fill("moe"),
  };
}

export const mixtral: DecoderSpec = {
  ...mistral,
  modelType: "mixtral",
  family: "mixtral",
  className: "MixtralConfig",
  shape: { ...mistral.shape, num_local_experts: F.posInt(), num_experts_per_tok: F.posInt() },
  defaults: {
    ...MISTRAL_DEFAULTS,
    rms_norm_eps: 1e-5,
    sliding_window: null,
    num_local_experts: 8,
    num_experts_per_tok: 2,
  },
  rope: { mode: "global", defaultTheta: 1e6 },
  // Mixtral: softmax over all experts, top-k, then renormalise (always).
  moe: (r, _ctx, core, inter) =>
    simpleMoe(core.n, inter[0] as number, {
      experts: r.req<number>("num_local_experts", "moe"),
      topK: r.req<number>("num_experts_per_tok", "moe"),
      norm: true,
      routerBias: false,
    }),
};

const QWEN_SHAPE: Shape = {
  ...BASE_SHAPE,
  hidden_act: F.str(),
  use_sliding_window: F.bool(),
  sliding_window: F.posIntOrNull(),
  max_window_layers: F.nonNegInt(),
};

export const qwen2: DecoderSpec = {
  modelType: "qwen2",
  family: "qwen2",
  className: "Qwen2Config",
  shape: QWEN_SHAPE,
  defaults: {
    vocab_size: 151936,
    hidden_size: 4096,
    intermediate_size: 22016,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 32,
    head_dim: null,
    hidden_act: "silu",
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: false,
    use_sliding_window: false,
    sliding_window: 4096,
    max_window_layers: 28,
  },
  required: CORE_REQUIRED,
  actKeys: ["hidden_act"],
  plan: plans.qwen,
  rope: { mode: "global", defaultTheta: 10000 },
  bias: "qwen2",
};

export const qwen3: DecoderSpec = {
  ...qwen2,
  modelType: "qwen3",
  family: "qwen3",
  className: "Qwen3Config",
  shape: { ...QWEN_SHAPE, attention_bias: F.bool() },
  defaults: { ...qwen2.defaults, head_dim: 128, attention_bias: false },
  bias: "keys",
};

export const qwen3_moe: DecoderSpec = {
  ...qwen3,
  modelType: "qwen3_moe",
  family: "qwen3_moe",
  className: "Qwen3MoeConfig",
  shape: {
    ...qwen3.shape,
    num_experts: F.nonNegInt(),
    num_experts_per_tok: F.posInt(),
    moe_intermediate_size: F.posInt(),
    norm_topk_prob: F.bool(),
    decoder_sparse_step: F.posInt(),
    mlp_only_layers: F.intListOrNull(),
  },
  defaults: {
    ...qwen3.defaults,
    hidden_size: 2048,
    intermediate_size: 6144,
    num_hidden_layers: 24,
    num_key_value_heads: 4,
    head_dim: null,
    num_experts: 128,
    num_experts_per_tok: 8,
    moe_intermediate_size: 768,
    norm_topk_prob: false,
    decoder_sparse_step: 1,
    mlp_only_layers: null,
  },
  moe: (r, ctx, core) => {
    const experts = r.req<number>("num_experts", "moe");
    const step = r.req<number>("decoder_sparse_step", "moe");
    const only = r.get<number[] | null>("mlp_only_layers", "moe") ?? [];
    for (const [i, l] of only.entries())
      if (l >= core.n)
        throw invalidAt(
          ctx,
          `${r.path("mlp_only_layers")}[${i}]`,
          `layer ${l} does not exist (${core.n} layers)`,
        );
    const base = simpleMoe(core.n, r.req<number>("moe_intermediate_size", "moe"), {
      experts,
      topK: r.req<number>("num_experts_per_tok", "moe"),
      norm: r.req<boolean>("norm_topk_prob", "moe"),
      routerBias: false,
    });
    // Qwen3MoeDecoderLayer: sparse unless listed in mlp_only_layers, every decoder_sparse_step-th layer.
    const layer_mlp = Array.from({ length: core.n }, (_, i) =>
      !only.includes(i) && experts > 0 && (i + 1) % step === 0 ? ("moe" as const) : ("dense" as const),
    );
    return { moe: { ...base.moe, decoder_sparse_step: step, mlp_only_layers: only }, layer_mlp };
  },
};

export const phi3: DecoderSpec = {
  modelType: "phi3",
  family: "phi3",
  className: "Phi3Config",
  shape: {
    ...BASE_SHAPE,
    hidden_act: F.str(),
    attention_bias: F.bool(),
    sliding_window: F.posIntOrNull(),
    partial_rotary_factor: F.posNum(),
    original_max_position_embeddings: F.posInt(),
  },
  defaults: {
    vocab_size: 32064,
    hidden_size: 3072,
    intermediate_size: 8192,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: null,
    head_dim: null,
    hidden_act: "silu",
    max_position_embeddings: 4096,
    original_max_position_embeddings: 4096,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: false,
    partial_rotary_factor: 1.0,
    sliding_window: null,
    attention_bias: false,
  },
  required: CORE_REQUIRED,
  actKeys: ["hidden_act"],
  plan: plans.windowEverywhere,
  rope: { mode: "global", defaultTheta: 10000, topLevelPartialRotary: true, topLevelOriginalMax: true },
  bias: "keys",
};
