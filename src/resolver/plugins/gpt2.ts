/**
 * GPT-2: learned positions (`wpe`), LayerNorm with bias (`ln_1`, `ln_2`, `ln_f`), Conv1D weights
 * stored [in, out] (`transposed`), the fused `attn.c_attn` split into q/k/v row views, GELU tanh
 * (`gelu_new`) MLP `mlp.c_fc` → `mlp.c_proj`, and the LM head tied to `wte`. The published
 * safetensors name tensors without the `transformer.` module prefix (`h.0.attn.c_attn.weight`,
 * `wte.weight`); the `h.N.attn.bias` causal-mask buffers they also hold are not parameters and are
 * not declared (the attention op's causal mask is their meaning).
 * transformers `models/gpt2/modeling_gpt2.py` (GPT2Block: x + attn(ln_1(x)); x + mlp(ln_2(x))): the
 * llama-like skeleton with GPT-2's module names.
 */
import type { ArchitecturePlugin } from "../plugin.js";
import { blockCtx, buildLlamaLike, plainMlp } from "./common/index.js";

export const gpt2Plugin: ArchitecturePlugin = {
  id: "gpt2",
  families: ["gpt2"],
  summary:
    "GPT-2: learned positions, LayerNorm with bias, transposed Conv1D, fused c_attn, gelu_new, tied head",
  reads: [
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
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
    "position_embedding",
    "gpt2",
  ],
  build(cfg, b) {
    // The published GPT-2 checkpoints are float32 and their config has no torch_dtype.
    const ctx = blockCtx(cfg, b, { defaultDtype: "F32" });
    const hd = cfg.head_dim;
    buildLlamaLike(ctx, {
      layerPrefix: (l) => `h.${l}`,
      embedding: { name: "wte.weight" },
      positionEmbedding: "wpe.weight",
      norms: { input: "ln_1", postAttention: "ln_2" },
      attentionModule: "attn",
      attention: (l) => {
        // GPT2Attention: scores / sqrt(head_dim) if scale_attn_weights; / (layer_idx + 1) if
        // scale_attn_by_inverse_layer_idx.
        let scale = cfg.gpt2?.scale_attn_weights === false ? 1 : hd ** -0.5;
        if (cfg.gpt2?.scale_attn_by_inverse_layer_idx) scale /= l + 1;
        return {
          qkv: { kind: "fused", qkv: "c_attn" },
          o: "c_proj",
          transposed: true,
          rope: null,
          mask: { kind: "causal" },
          scale,
          softcap: null,
        };
      },
      mlp: (h, l, p) =>
        plainMlp(ctx, {
          layer: l,
          prefix: `${p}.mlp`,
          input: h,
          up: "c_fc",
          down: "c_proj",
          transposed: true,
        }),
      finalNorm: "ln_f",
      lmHead: "lm_head.weight",
    });
  },
};
