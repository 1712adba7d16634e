/**
 * Llama (Llama 2, Llama 3.x with `llama3` RoPE scaling, TinyLlama, SmolLM2 with tied embeddings):
 * the llama-like skeleton as is. transformers `models/llama/modeling_llama.py`
 * (LlamaDecoderLayer: input_layernorm → self_attn → +residual → post_attention_layernorm → mlp →
 * +residual; LlamaMLP: down(silu(gate) · up)). `attention_bias` / `mlp_bias` add biases.
 */

import type { ArchitecturePlugin } from "../plugin.js";
import { buildLlamaLikeModel } from "./common/index.js";

/** TextConfig fields the llama-like plugins read (the ledger's consumed keys). */
export const LLAMA_LIKE_READS = [
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "head_dim",
  "intermediate_size",
  "vocab_size",
  "max_position_embeddings",
  "hidden_act",
  "norm_type",
  "norm_eps",
  "tie_word_embeddings",
  "attention_qkv_bias",
  "attention_out_bias",
  "mlp_bias",
  "layer_types",
  "sliding_window",
  "position_embedding",
  "rope",
  "rope_interleave",
  "layer_head_dim",
  "layer_num_key_value_heads",
] as const;

export const llamaPlugin: ArchitecturePlugin = {
  id: "llama",
  families: ["llama"],
  summary: "Llama 2/3.x, TinyLlama, SmolLM2: pre-norm RMSNorm decoder, GQA, RoPE (llama3 scaling), SwiGLU",
  reads: LLAMA_LIKE_READS,
  build(cfg, b) {
    buildLlamaLikeModel(cfg, b);
  },
};
