/**
 * Gemma 2 (`gemma2`), and the decoder Gemma 3 shares with it: √hidden-scaled embedding,
 * `x̂·(1+w)` RMSNorms before and after both sub-blocks (input_layernorm, post_attention_layernorm,
 * pre_feedforward_layernorm, post_feedforward_layernorm), GQA with scale
 * `query_pre_attn_scalar^-½`, attention-logit softcap, sliding/global layers from `layer_types`,
 * GELU-tanh gated MLP, final norm, tied LM head and final-logit softcap.
 * Source: huggingface/transformers `models/gemma2/modeling_gemma2.py` (Gemma2DecoderLayer,
 * Gemma2Model.forward `normalizer`, Gemma2ForCausalLM.forward).
 */
import type { TextConfig } from "../../parser/config/index.js";
import type { GraphBuilder, ValueId } from "../graph/index.js";
import type { ArchitecturePlugin } from "../plugin.js";
import { attentionBlock, type BlockCtx, blockCtx, gatedMlp, joinName } from "./common/index.js";
import { type GemmaNames, gemmaEmbedding, gemmaHead, requireCausal, sandwich } from "./gemma-common.js";

/** What distinguishes Gemma 3 from Gemma 2 in the shared decoder. */
export interface Gemma2LikeOptions {
  /** Per-head q_norm / k_norm (`x̂·(1+w)`), Gemma 3. */
  readonly qkNorm: boolean;
}

/** Builds embedding → layers → head for Gemma 2/3 and returns the logits value. */
export function buildGemma2Like(ctx: BlockCtx, names: GemmaNames, o: Gemma2LikeOptions): ValueId {
  const { b, cfg } = ctx;
  requireCausal(cfg);
  const { x: embedded, table } = gemmaEmbedding(ctx, names);
  let x = embedded;
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = joinName(names.model, "layers", l);
    x = b.inLayer(l, () => {
      const afterAttn = sandwich(
        ctx,
        x,
        joinName(p, "input_layernorm"),
        joinName(p, "post_attention_layernorm"),
        1,
        (h) =>
          attentionBlock(ctx, {
            layer: l,
            prefix: joinName(p, "self_attn"),
            input: h,
            ...(o.qkNorm
              ? { qNorm: { module: "q_norm", weightOffset: 1 }, kNorm: { module: "k_norm", weightOffset: 1 } }
              : {}),
          }),
        "attn_residual",
      );
      return sandwich(
        ctx,
        afterAttn,
        joinName(p, "pre_feedforward_layernorm"),
        joinName(p, "post_feedforward_layernorm"),
        1,
        (h) => gatedMlp(ctx, { layer: l, prefix: joinName(p, "mlp"), input: h }),
        "mlp_residual",
      );
    });
  }
  return gemmaHead(ctx, names, x, table, 1);
}

/** TextConfig fields the Gemma 2/3 decoder reads. */
export const GEMMA2_READS = [
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "head_dim",
  "layer_head_dim",
  "layer_num_key_value_heads",
  "intermediate_size",
  "vocab_size",
  "hidden_act",
  "norm_eps",
  "tie_word_embeddings",
  "attention_qkv_bias",
  "attention_out_bias",
  "mlp_bias",
  "layer_types",
  "sliding_window",
  "rope",
  "attn_logit_softcapping",
  "final_logit_softcapping",
  "query_pre_attn_scalar",
  "use_bidirectional_attention",
] as const;

export const gemma2Plugin: ArchitecturePlugin = {
  id: "gemma2",
  families: ["gemma2"],
  summary:
    "Gemma 2: sandwich (1+w) RMSNorms, attention and final softcaps, alternating sliding/global layers, GELU-tanh MLP, tied head",
  reads: GEMMA2_READS,
  build(cfg: TextConfig, b: GraphBuilder): void {
    // Gemma 2 checkpoints are Gemma2ForCausalLM: `model.layers.N…`, never wrapped.
    const names: GemmaNames = { model: "model", lmHead: "lm_head.weight", wrapped: false };
    buildGemma2Like(blockCtx(cfg, b), names, { qkNorm: false });
  },
};
