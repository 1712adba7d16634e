/**
 * GPT-2: its own key names (n_embd, n_layer, n_head, n_positions, n_inner, activation_function,
 * layer_norm_epsilon) mapped to the common TextConfig names; learned absolute positions,
 * LayerNorm with bias, biased Conv1D projections. Defaults: transformers GPT2Config.
 */
import { readActivationName } from "../decoder.js";
import type { ErrCtx } from "../errors.js";
import { invalidAt, unsupportedAt } from "../errors.js";
import { F } from "../fields.js";
import type { KeyReader } from "../keys.js";
import type { TextConfig } from "../types.js";

export const GPT2_SHAPE = {
  vocab_size: F.posInt(),
  n_positions: F.posInt(),
  n_ctx: F.posInt(),
  n_embd: F.posInt(),
  n_layer: F.posInt(),
  n_head: F.posInt(),
  n_inner: F.posIntOrNull(),
  activation_function: F.str(),
  layer_norm_epsilon: F.posNum(),
  scale_attn_weights: F.bool(),
  scale_attn_by_inverse_layer_idx: F.bool(),
  tie_word_embeddings: F.bool(),
  bos_token_id: F.tokenIds(),
  eos_token_id: F.tokenIds(),
  pad_token_id: F.tokenIds(),
  torch_dtype: F.strOrNull(),
  dtype: F.strOrNull(),
};

export const GPT2_DEFAULTS = {
  vocab_size: 50257,
  n_positions: 1024,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_inner: null,
  activation_function: "gelu_new",
  layer_norm_epsilon: 1e-5,
  scale_attn_weights: true,
  scale_attn_by_inverse_layer_idx: false,
  tie_word_embeddings: true,
};

export const GPT2_REQUIRED = ["vocab_size", "n_embd", "n_layer", "n_head"] as const;

export function normalizeGpt2(r: KeyReader, ctx: ErrCtx): TextConfig {
  const n = r.req<number>("n_layer", "num_hidden_layers");
  const hidden = r.req<number>("n_embd", "hidden_size");
  const heads = r.req<number>("n_head", "num_attention_heads");
  if (hidden % heads !== 0)
    throw invalidAt(ctx, r.path("n_embd"), `n_embd (${hidden}) must be divisible by n_head (${heads})`);
  const inner = r.get<number | null>("n_inner", "intermediate_size") ?? 4 * hidden;
  const positions = r.req<number>("n_positions", "max_position_embeddings");
  r.touch("n_ctx"); // legacy duplicate of n_positions; the model never reads it
  const actName = r.req<string>("activation_function", "hidden_act");
  const act = readActivationName(actName);
  if (!act)
    throw unsupportedAt(ctx, r.path("activation_function"), `activation "${actName}" is not supported`);
  const head_dim = hidden / heads;
  return {
    model_type: "gpt2",
    family: "gpt2",
    key_naming: "gpt2",
    hidden_size: hidden,
    num_hidden_layers: n,
    num_attention_heads: heads,
    num_key_value_heads: heads,
    head_dim,
    intermediate_size: Array(n).fill(inner),
    vocab_size: r.req<number>("vocab_size", "vocab_size"),
    max_position_embeddings: positions,
    hidden_act: act,
    hidden_act_name: actName,
    norm_type: "layernorm",
    norm_eps: r.req<number>("layer_norm_epsilon", "norm_eps"),
    tie_word_embeddings: r.req<boolean>("tie_word_embeddings", "tie_word_embeddings"),
    attention_bias: true,
    attention_qkv_bias: true,
    attention_out_bias: true,
    mlp_bias: true,
    layer_types: Array(n).fill("full_attention"),
    sliding_window: null,
    position_embedding: "learned",
    rope: {},
    rope_interleave: false,
    attn_logit_softcapping: null,
    final_logit_softcapping: null,
    query_pre_attn_scalar: null,
    attention_scale_one: false,
    use_bidirectional_attention: null,
    layer_head_dim: Array(n).fill(head_dim),
    layer_num_key_value_heads: Array(n).fill(heads),
    layer_kv_shared_from: Array(n).fill(null),
    layer_mlp: Array(n).fill("dense"),
    num_nextn_predict_layers: 0,
    moe: null,
    mla: null,
    gemma3n: null,
    gemma4: null,
    gpt_oss: null,
    gpt2: {
      scale_attn_weights: r.req<boolean>("scale_attn_weights", "gpt2"),
      scale_attn_by_inverse_layer_idx: r.req<boolean>("scale_attn_by_inverse_layer_idx", "gpt2"),
    },
  };
}
