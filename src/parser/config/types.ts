/**
 * The normalised configuration types. `TextConfig` is the one shape every supported family maps
 * to; the resolver builds the model graph from it alone. Field names are Hugging Face's
 * snake_case config keys wherever such a key exists, so a ledger entry can name the key.
 * docs/parser-config.md documents every field, its source keys (transformers 4.x and 5.x) and
 * its default.
 */

/** Families pccxc can compile the language model of. */
export type Family =
  | "llama"
  | "mistral"
  | "mixtral"
  | "qwen2"
  | "qwen3"
  | "qwen3_moe"
  | "phi3"
  | "gemma2"
  | "gemma3"
  | "gemma3n"
  | "gemma4"
  | "gpt2"
  | "deepseek_v2"
  | "deepseek_v3"
  | "gpt_oss";

export type LayerType = "full_attention" | "sliding_attention";

/** Activation names after normalisation (the config's own spelling is kept in `hidden_act_name`). */
export type Activation = "silu" | "gelu" | "gelu_tanh" | "relu" | "quick_gelu";

/** RoPE parameters of one layer type, transformers-5 vocabulary (`rope_parameters`). */
export interface RopeParams {
  /** "default" | "linear" | "dynamic" | "yarn" | "longrope" | "llama3" | "proportional" | other. */
  readonly rope_type: string;
  readonly rope_theta: number;
  /** Fraction of the head dimension that is rotated (1 when the config does not say). */
  readonly partial_rotary_factor: number;
  /** Rotated dimensions: floor(head_dim × partial_rotary_factor) (MLA: qk_rope_head_dim). */
  readonly rotary_dim: number;
  readonly factor?: number;
  readonly low_freq_factor?: number;
  readonly high_freq_factor?: number;
  readonly original_max_position_embeddings?: number;
  readonly beta_fast?: number;
  readonly beta_slow?: number;
  readonly mscale?: number;
  readonly mscale_all_dim?: number;
  readonly short_factor?: readonly number[];
  readonly long_factor?: readonly number[];
  readonly attention_factor?: number;
  readonly truncate?: boolean;
}

/** What the MLP of one layer is. "dense+moe": a dense MLP and routed experts, outputs summed (Gemma 4). */
export type LayerMlp = "dense" | "moe" | "dense+moe";

export interface MoeConfig {
  /** Routed experts (num_local_experts / num_experts / n_routed_experts). */
  readonly num_experts: number;
  /** Experts per token (num_experts_per_tok / top_k_experts / experts_per_token). */
  readonly num_experts_per_tok: number;
  /** Width of one routed expert's FFN. */
  readonly moe_intermediate_size: number;
  /** Shared experts run for every token (DeepSeek n_shared_experts; 0 elsewhere). */
  readonly n_shared_experts: number;
  /** Width of the fused shared-expert FFN (moe_intermediate_size × n_shared_experts), null without. */
  readonly shared_expert_intermediate_size: number | null;
  /** Renormalise the top-k routing weights to sum to 1. */
  readonly norm_topk_prob: boolean;
  /** Router score function applied to the logits. */
  readonly scoring_func: "softmax" | "sigmoid";
  /** Expert selection: plain top-k, group-limited top-k, or noaux_tc (bias-corrected, DeepSeek-V3). */
  readonly topk_method: "greedy" | "group_limited_greedy" | "noaux_tc";
  readonly n_group: number | null;
  readonly topk_group: number | null;
  readonly routed_scaling_factor: number;
  /** The router linear layer has a bias (gpt-oss). */
  readonly router_bias: boolean;
  /** Layer-placement keys as read (the per-layer result is `TextConfig.layer_mlp`). */
  readonly first_k_dense_replace: number;
  readonly moe_layer_freq: number;
  readonly decoder_sparse_step: number;
  readonly mlp_only_layers: readonly number[];
}

/** Multi-head latent attention (DeepSeek V2/V3). */
export interface MlaConfig {
  readonly q_lora_rank: number | null;
  readonly kv_lora_rank: number;
  readonly qk_nope_head_dim: number;
  readonly qk_rope_head_dim: number;
  readonly v_head_dim: number;
  /** qk_nope_head_dim + qk_rope_head_dim. */
  readonly qk_head_dim: number;
}

export interface Gemma3nExtras {
  readonly altup_num_inputs: number;
  readonly altup_active_idx: number;
  readonly altup_coef_clip: number | null;
  readonly altup_correct_scale: boolean;
  readonly laurel_rank: number;
  readonly hidden_size_per_layer_input: number;
  readonly vocab_size_per_layer_input: number;
  readonly num_kv_shared_layers: number;
  /** Per layer: target sparsity of the Gaussian top-k activation sparsity (0 = dense). */
  readonly activation_sparsity_pattern: readonly number[];
}

export interface Gemma4Extras {
  /** Head dim of full-attention layers (global_head_dim, or the common per_layer_config value). */
  readonly global_head_dim: number | null;
  /** KV heads of full-attention layers when attention_k_eq_v (else null: they use num_key_value_heads). */
  readonly num_global_key_value_heads: number | null;
  /** Full-attention layers use the key projection as the value (no v_proj). */
  readonly attention_k_eq_v: boolean;
  readonly use_double_wide_mlp: boolean;
  readonly enable_moe_block: boolean;
  /** 0 disables per-layer embeddings. */
  readonly hidden_size_per_layer_input: number;
  readonly vocab_size_per_layer_input: number;
  readonly num_kv_shared_layers: number;
}

export interface GptOssExtras {
  /** Clamp of the experts' SwiGLU (gate above, up both sides). */
  readonly swiglu_limit: number;
  /** Sigmoid gain of the clamped SwiGLU. */
  readonly swiglu_alpha: number;
  /** Every attention layer has learned per-head sink logits (always true for gpt-oss). */
  readonly attention_sinks: true;
}

export interface Gpt2Extras {
  readonly scale_attn_weights: boolean;
  readonly scale_attn_by_inverse_layer_idx: boolean;
}

/** The normalised language-model configuration, identical for 4.x and 5.x serialisations. */
export interface TextConfig {
  /** The text model's own type, e.g. "gemma3_text" inside a "gemma3" wrapper. */
  readonly model_type: string;
  readonly family: Family;
  /** "gpt2": the file uses GPT-2 key names (n_embd, n_layer, ...) mapped to the names below. */
  readonly key_naming: "hf" | "gpt2";

  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  /** KV heads of ordinary layers (defaulted to num_attention_heads); per layer: layer_num_key_value_heads. */
  readonly num_key_value_heads: number;
  /** Head dim of ordinary layers (explicit, or hidden_size / num_attention_heads); per layer: layer_head_dim. */
  readonly head_dim: number;
  /** Dense MLP width per layer (a scalar key is expanded). */
  readonly intermediate_size: readonly number[];
  readonly vocab_size: number;
  readonly max_position_embeddings: number;

  readonly hidden_act: Activation;
  /** The activation as spelled in the config (e.g. "gelu_pytorch_tanh"). */
  readonly hidden_act_name: string;
  readonly norm_type: "rmsnorm" | "layernorm";
  /** Epsilon of every norm (rms_norm_eps or layer_norm_epsilon). */
  readonly norm_eps: number;
  readonly tie_word_embeddings: boolean;
  /** The config's attention_bias key (false where the family has none). */
  readonly attention_bias: boolean;
  /** Effective biases: q/k/v projections, output projection. */
  readonly attention_qkv_bias: boolean;
  readonly attention_out_bias: boolean;
  readonly mlp_bias: boolean;

  /** Per layer. Derived from sliding_window + pattern rules when the file has no layer_types. */
  readonly layer_types: readonly LayerType[];
  /** Window of sliding_attention layers; null when no layer slides. */
  readonly sliding_window: number | null;
  /** "rope" or GPT-2's learned absolute positions. */
  readonly position_embedding: "rope" | "learned";
  /** RoPE parameters per layer type that occurs in layer_types ({} for learned positions). */
  readonly rope: Readonly<Partial<Record<LayerType, RopeParams>>>;
  /** Rotary pairs are interleaved (x0,x1),(x2,x3)… instead of rotate-half (DeepSeek). */
  readonly rope_interleave: boolean;

  readonly attn_logit_softcapping: number | null;
  readonly final_logit_softcapping: number | null;
  /** Attention scores are scaled by query_pre_attn_scalar^-0.5 (Gemma 2/3); null: head_dim^-0.5, or 1.0 where noted. */
  readonly query_pre_attn_scalar: number | null;
  /** Gemma 3n / Gemma 4 scale attention by 1.0 (q/k norms instead). */
  readonly attention_scale_one: boolean;
  readonly use_bidirectional_attention: "all" | "vision" | null;

  /** Per-layer attention geometry. */
  readonly layer_head_dim: readonly number[];
  readonly layer_num_key_value_heads: readonly number[];
  /** Per layer: index of the layer whose KV cache it reads (KV sharing), or null for its own. */
  readonly layer_kv_shared_from: readonly (number | null)[];
  readonly layer_mlp: readonly LayerMlp[];

  /** Extra multi-token-prediction layers stored after the main stack (DeepSeek-V3); not in the forward. */
  readonly num_nextn_predict_layers: number;

  readonly moe: MoeConfig | null;
  readonly mla: MlaConfig | null;
  readonly gemma3n: Gemma3nExtras | null;
  readonly gemma4: Gemma4Extras | null;
  readonly gpt_oss: GptOssExtras | null;
  readonly gpt2: Gpt2Extras | null;
}

export type QuantMethod =
  | "fp8"
  | "mxfp4"
  | "gptq"
  | "awq"
  | "modelopt"
  | "bitsandbytes"
  | "compressed-tensors"
  | "unknown";

interface QuantBase {
  readonly path: string;
  /** pccxc can dequantize these weights (and requantize to INT4). */
  readonly supported: boolean;
  /** Why not, and what to do, when unsupported. */
  readonly reason?: string;
  readonly fix?: string;
  /** Module name patterns left unquantized. */
  readonly modules_to_not_convert: readonly string[];
}

export type QuantizationConfig =
  | (QuantBase & {
      readonly method: "fp8";
      readonly fmt: "e4m3" | "e5m2";
      readonly weight_block_size: readonly [number, number];
      readonly activation_scheme: "dynamic" | "static";
    })
  | (QuantBase & { readonly method: "mxfp4" })
  | (QuantBase & {
      readonly method: "gptq";
      readonly bits: number;
      readonly group_size: number;
      readonly desc_act: boolean;
      readonly sym: boolean;
    })
  | (QuantBase & {
      readonly method: "awq";
      readonly bits: number;
      readonly group_size: number;
      readonly zero_point: boolean;
      readonly version: string;
    })
  | (QuantBase & {
      readonly method: "modelopt";
      readonly quant_algo: string;
      readonly producer: string | null;
    })
  | (QuantBase & {
      readonly method: "bitsandbytes";
      readonly bits: 4 | 8;
      readonly bnb_4bit_quant_type: string | null;
    })
  | (QuantBase & { readonly method: "compressed-tensors"; readonly format: string | null })
  | (QuantBase & { readonly method: "unknown"; readonly quant_method: string });

export interface SubConfigSeen {
  readonly present: true;
  readonly path: string;
  readonly model_type: string | null;
}

export interface SpecialTokens {
  readonly bos_token_id: number | null;
  readonly eos_token_id: readonly number[];
  readonly pad_token_id: number | null;
}

export interface ParsedConfig {
  readonly file: string;
  /** Top-level model_type, e.g. "gemma3" for the multimodal wrapper. */
  readonly modelType: string;
  readonly architectures: readonly string[];
  readonly text: TextConfig;
  /** The JSON as read. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** JSON paths of keys the normaliser read. */
  readonly consumedKeys: readonly string[];
  /** JSON paths of keys no supported schema knows: kept in raw, reported, never fatal. */
  readonly unknownKeys: readonly string[];
  /** JSON paths of keys on the documented non-semantic list (ids, dtypes, versions, training-only). */
  readonly nonSemanticKeys: readonly string[];
  /** JSON path → transformers class default filled in for an absent key. */
  readonly defaultsApplied: Readonly<Record<string, unknown>>;
  /** TextConfig field → JSON paths it was read from (for ledgers and `inspect`). */
  readonly fieldSources: Readonly<Record<string, readonly string[]>>;
  readonly serialization: "transformers-4" | "transformers-5";
  readonly transformersVersion: string | null;
  /** torch_dtype (4.x) / dtype (5.x) of the checkpoint, if given. */
  readonly dtype: string | null;
  readonly specialTokens: SpecialTokens;
  readonly quantization?: QuantizationConfig;
  readonly multimodal?: { readonly visionConfig?: SubConfigSeen; readonly audioConfig?: SubConfigSeen };
  /**
   * A model type added by a plugin that spells keys its own way: JSON path in the file → the key
   * of the base family it stands for (`{"$.norm_epsilon": "rms_norm_eps"}`). Absent otherwise.
   */
  readonly keyAliases?: Readonly<Record<string, string>>;
}

export interface GenerationConfig {
  readonly file: string;
  readonly bos_token_id: number | null;
  readonly eos_token_id: readonly number[];
  readonly pad_token_id: number | null;
  readonly do_sample: boolean;
  readonly temperature: number;
  readonly top_p: number;
  readonly top_k: number;
  readonly min_p: number | null;
  readonly repetition_penalty: number;
  readonly max_length: number;
  readonly max_new_tokens: number | null;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly unknownKeys: readonly string[];
  readonly defaultsApplied: Readonly<Record<string, unknown>>;
}
