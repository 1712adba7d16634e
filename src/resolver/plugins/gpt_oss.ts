/**
 * gpt-oss (`gpt_oss`, gpt-oss-20b / 120b): a pre-norm MoE decoder. Attention has biases on q/k/v/o,
 * a learned sink logit per head (in the softmax denominator, dropped from the output), YaRN RoPE
 * (rotate-half pairs, `truncate: false`), and alternates sliding (window 128) / full layers from
 * `layer_types`. The MLP is a router with bias (top-k of the logits, softmax over the k) and
 * stacked experts stored [in, out] with interleaved gate/up columns and biases, gated by the clamped
 * SwiGLU `(clamp(up, ±limit) + 1) · g·σ(alpha·g)`, g = min(gate, limit). The MXFP4 release stores
 * the expert matrices as `*_blocks` / `*_scales` U8 tensors: they are declared next to the logical
 * weights (see common-b.ts `mxfp4Companions`).
 * Source: huggingface/transformers `models/gpt_oss/modular_gpt_oss.py` (GptOssExperts._apply_gate,
 * GptOssTopKRouter, eager_attention_forward with sinks), `integrations/mxfp4.py`; openai/gpt-oss
 * `gpt_oss/torch/model.py` (swiglu, MLPBlock).
 */
import type { TextConfig } from "../../parser/config/index.js";
import type { GraphBuilder } from "../graph/index.js";
import type { ArchitecturePlugin } from "../plugin.js";
import { blockCtx, builderBug, buildLlamaLike, joinName, moeBlock } from "./common/index.js";
import { mxfp4Companions } from "./common-b.js";

export const gptOssPlugin: ArchitecturePlugin = {
  id: "gpt_oss",
  families: ["gpt_oss"],
  summary:
    "gpt-oss: attention sinks, alternating sliding(128)/full layers, YaRN, biased q/k/v/o, top-4 MoE with clamped SwiGLU, MXFP4 experts",
  reads: [
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "layer_head_dim",
    "layer_num_key_value_heads",
    "intermediate_size",
    "vocab_size",
    "norm_eps",
    "tie_word_embeddings",
    "attention_qkv_bias",
    "attention_out_bias",
    "layer_types",
    "sliding_window",
    "rope",
    "moe",
    "gpt_oss",
  ],
  build(cfg: TextConfig, b: GraphBuilder): void {
    const oss = cfg.gpt_oss;
    const moe = cfg.moe;
    if (!oss || !moe)
      throw builderBug(
        "no-gpt-oss",
        `${cfg.model_type}: the gpt_oss/moe blocks of the TextConfig are missing`,
      );
    const ctx = blockCtx(cfg, b);
    const H = cfg.hidden_size;
    const E = moe.num_experts;
    const I = moe.moe_intermediate_size;
    buildLlamaLike(ctx, {
      attention: () => ({ sinks: "sinks", softcap: null }),
      mlp: (h, l, p) => {
        const x = joinName(p, "mlp", "experts");
        const out = moeBlock(ctx, {
          layer: l,
          input: h,
          router: joinName(p, "mlp", "router", "weight"),
          ...(moe.router_bias ? { routerBias: joinName(p, "mlp", "router", "bias") } : {}),
          // top-k of the logits then softmax over the k = softmax over all, renormalised over the k.
          scoring: "softmax",
          normalize: true,
          routedScale: 1,
          experts: {
            kind: "stacked",
            gateUp: joinName(x, "gate_up_proj"),
            gateUpBias: joinName(x, "gate_up_proj_bias"),
            down: joinName(x, "down_proj"),
            downBias: joinName(x, "down_proj_bias"),
            transposed: true,
            interleaved: true,
          },
          act: { fn: "clamped_swiglu", alpha: oss.swiglu_alpha, limit: oss.swiglu_limit },
          routeKeys: ["moe.num_experts", "moe.num_experts_per_tok", "moe.router_bias"],
        });
        // MXFP4 storage is output-major: gate_up [E, 2I, H], down [E, H, I] (the logical weights
        // above are HF's dequantized [E, in, out] transposes).
        mxfp4Companions(ctx, joinName(x, "gate_up_proj"), { experts: E, out: 2 * I, in: H });
        mxfp4Companions(ctx, joinName(x, "down_proj"), { experts: E, out: H, in: I });
        return out;
      },
    });
  },
};
