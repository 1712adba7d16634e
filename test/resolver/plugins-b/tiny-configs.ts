/**
 * Hand-shrunk copies of the shipped real configs (examples/configs): 2–4 layers, hidden 32, a
 * vocabulary of 64, a few experts, windows of 3 tokens, every family feature kept on (softcaps
 * lowered so their tanh bends, AltUp clipping and SwiGLU clamping small enough to act).
 */
import { EXAMPLE_CONFIGS, readConfig, shrink } from "./kit.js";

const ex = (m: string) => readConfig(EXAMPLE_CONFIGS, m);
const V = 64;

export const TINY: Record<string, () => Record<string, unknown>> = {
  gemma2: () =>
    shrink(ex("google__gemma-2-2b-it"), {
      hidden_size: 32,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      intermediate_size: 48,
      vocab_size: V,
      sliding_window: 3,
      query_pre_attn_scalar: 12,
      attn_logit_softcapping: 1.5,
      final_logit_softcapping: 2.5,
    }),
  // Gemma 3 multimodal wrapper (language_model.model.* names) with the 4B's linear RoPE scaling.
  gemma3: () =>
    shrink(ex("google__gemma-3-4b-it"), {
      hidden_size: 32,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      intermediate_size: 40,
      vocab_size: V,
      sliding_window: 3,
      sliding_window_pattern: 2,
      query_pre_attn_scalar: 8,
      rope_scaling: { rope_type: "linear", factor: 8.0 },
      final_logit_softcapping: 4.0,
    }),
  gemma3n: () =>
    shrink(ex("google__gemma-3n-E2B-it"), {
      hidden_size: 32,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      intermediate_size: [48, 40, 48, 40],
      vocab_size: V,
      vocab_size_per_layer_input: V,
      hidden_size_per_layer_input: 4,
      laurel_rank: 4,
      altup_num_inputs: 3,
      altup_coef_clip: 0.2,
      num_kv_shared_layers: 2,
      activation_sparsity_pattern: [0.95, 0.9, 0, 0],
      layer_types: ["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
      sliding_window: 3,
      final_logit_softcapping: 4.0,
    }),
  // Gemma 4 E2B-style: per-layer embeddings, KV sharing with double-wide MLPs, proportional RoPE.
  gemma4: () =>
    shrink(ex("google__gemma-4-E2B-it"), {
      hidden_size: 32,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      head_dim: 8,
      global_head_dim: 16,
      intermediate_size: 24,
      vocab_size: V,
      vocab_size_per_layer_input: V,
      hidden_size_per_layer_input: 4,
      num_kv_shared_layers: 2,
      use_double_wide_mlp: true,
      layer_types: ["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
      sliding_window: 3,
      final_logit_softcapping: 4.0,
    }),
  // Gemma 4 26B-A4B-style: k = v on full layers, global KV heads, dense MLP + routed experts.
  gemma4_moe: () =>
    shrink(ex("google__gemma-4-E2B-it"), {
      hidden_size: 32,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      global_head_dim: 16,
      attention_k_eq_v: true,
      num_global_key_value_heads: 1,
      intermediate_size: 24,
      vocab_size: V,
      hidden_size_per_layer_input: 0,
      num_kv_shared_layers: 0,
      use_double_wide_mlp: false,
      enable_moe_block: true,
      num_experts: 6,
      top_k_experts: 2,
      moe_intermediate_size: 12,
      layer_types: ["sliding_attention", "full_attention", "full_attention"],
      sliding_window: 3,
      final_logit_softcapping: 4.0,
    }),
  // V2-Lite-style (no q LoRA) with group-limited routing, routed scaling and yarn mscale.
  deepseek_v2: () =>
    shrink(ex("deepseek-ai__DeepSeek-V2-Lite"), {
      hidden_size: 32,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      num_key_value_heads: 4,
      intermediate_size: 48,
      moe_intermediate_size: 12,
      n_routed_experts: 8,
      n_shared_experts: 2,
      num_experts_per_tok: 3,
      n_group: 4,
      topk_group: 2,
      topk_method: "group_limited_greedy",
      routed_scaling_factor: 1.5,
      kv_lora_rank: 8,
      qk_nope_head_dim: 8,
      qk_rope_head_dim: 4,
      v_head_dim: 6,
      vocab_size: V,
      first_k_dense_replace: 1,
    }),
  // V3-style: q LoRA, sigmoid + e_score_correction_bias + top-2-sum groups, FP8 config, MTP layer.
  deepseek_v3: () =>
    shrink(ex("deepseek-ai__DeepSeek-V3"), {
      hidden_size: 32,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      num_key_value_heads: 4,
      intermediate_size: 48,
      moe_intermediate_size: 12,
      n_routed_experts: 8,
      n_shared_experts: 1,
      num_experts_per_tok: 3,
      n_group: 4,
      topk_group: 2,
      q_lora_rank: 12,
      kv_lora_rank: 8,
      qk_nope_head_dim: 8,
      qk_rope_head_dim: 4,
      v_head_dim: 6,
      vocab_size: V,
      first_k_dense_replace: 1,
    }),
  gpt_oss: () =>
    shrink(ex("openai__gpt-oss-20b"), {
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      intermediate_size: 12,
      num_local_experts: 4,
      num_experts_per_tok: 2,
      experts_per_token: 2,
      vocab_size: V,
      sliding_window: 3,
      swiglu_limit: 0.6,
      layer_types: ["sliding_attention", "full_attention"],
    }),
};
