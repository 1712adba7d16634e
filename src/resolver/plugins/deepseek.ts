/**
 * DeepSeek-V2 (`deepseek_v2`, V2 and V2-Lite) and DeepSeek-V3 (`deepseek_v3`): pre-norm decoder
 * with multi-head latent attention (deepseek-mla.ts), dense MLPs on the first
 * `first_k_dense_replace` layers and DeepSeekMoE on the layers the config places experts on
 * (`layer_mlp`: i ≥ first_k_dense_replace and i % moe_layer_freq = 0), final norm, untied head.
 * V3's FP8 checkpoint declares every quantized linear weight as F8_E4M3 with its
 * `weight_scale_inv`; its multi-token-prediction module (`model.layers.61`, num_nextn_predict_layers)
 * is declared unused: it is a speculative-decoding head, not part of next-token prediction.
 * Source: the model repos' `modeling_deepseek.py` (DeepseekV2/V3DecoderLayer, MoEGate, DeepseekV2/
 * V3MoE), deepseek-ai/DeepSeek-V3 README_WEIGHTS.md (MTP layout), transformers `models/deepseek_v3`.
 */
import type { TextConfig } from "../../parser/config/index.js";
import type { GraphBuilder, ValueId } from "../graph/index.js";
import type { ArchitecturePlugin } from "../plugin.js";
import { type BlockCtx, blockCtx, declare, joinName, lmHead, norm, tokenEmbedding } from "./common/index.js";
import { mlaAttention } from "./deepseek-mla.js";
import { type DeepseekVersion, deepseekMlp, deepseekMoe } from "./deepseek-moe.js";

const MTP_REASON =
  "multi-token-prediction module (num_nextn_predict_layers): a speculative-decoding draft head, not part of the next-token forward";

/** The MLP of layer l (dense or MoE per `layer_mlp`), or its declarations only with `unused`. */
function ffn(ctx: BlockCtx, v: DeepseekVersion, l: number, p: string, h: ValueId, unused?: string) {
  const { cfg } = ctx;
  const moe = moeLayer(cfg, l);
  const prefix = joinName(p, "mlp");
  if (moe) return deepseekMoe(ctx, { layer: l, prefix, input: h, version: v, ...(unused ? { unused } : {}) });
  return deepseekMlp(ctx, {
    prefix,
    input: h,
    intermediate: cfg.intermediate_size[l] ?? cfg.intermediate_size[0] ?? 0,
    roles: "mlp",
    widthKeys: ["intermediate_size", "moe.first_k_dense_replace"],
    ...(unused ? { unused } : {}),
  });
}

/** layer_mlp for the stack; the parser's placement rule for layers after it (MTP). */
function moeLayer(cfg: TextConfig, l: number): boolean {
  const known = cfg.layer_mlp[l];
  if (known !== undefined) return known !== "dense";
  const m = cfg.moe;
  return m !== null && l >= m.first_k_dense_replace && l % Math.max(1, m.moe_layer_freq) === 0;
}

/** Declares the tensors of MTP module `i` (layer num_hidden_layers + i), all unused. */
function declareMtp(ctx: BlockCtx, v: DeepseekVersion, i: number): void {
  const { b, cfg } = ctx;
  const l = cfg.num_hidden_layers + i;
  const p = `model.layers.${l}`;
  const H = cfg.hidden_size;
  const V = cfg.vocab_size;
  const u = { unused: MTP_REASON };
  b.inLayer(l, () =>
    b.withKeys(["num_nextn_predict_layers"], () => {
      declare(ctx, `${p}.embed_tokens.weight`, [V, H], "embedding", {
        ...u,
        keys: ["vocab_size", "hidden_size"],
      });
      declare(ctx, `${p}.enorm.weight`, [H], "norm", u);
      declare(ctx, `${p}.hnorm.weight`, [H], "norm", u);
      // eh_proj projects [enorm(embed) | hnorm(hidden)] back to H; stored BF16 in the FP8 release.
      declare(ctx, `${p}.eh_proj.weight`, [H, 2 * H], "other", u);
      declare(ctx, `${p}.input_layernorm.weight`, [H], "norm", u);
      mlaAttention(ctx, { layer: l, prefix: `${p}.self_attn`, input: b.tokens, unused: MTP_REASON });
      declare(ctx, `${p}.post_attention_layernorm.weight`, [H], "norm", u);
      ffn(ctx, v, l, p, b.tokens, MTP_REASON);
      declare(ctx, `${p}.shared_head.norm.weight`, [H], "norm", u);
      declare(ctx, `${p}.shared_head.head.weight`, [V, H], "lm_head", {
        ...u,
        keys: ["vocab_size", "hidden_size"],
      });
    }),
  );
}

function buildDeepseek(cfg: TextConfig, b: GraphBuilder, v: DeepseekVersion): void {
  const ctx = blockCtx(cfg, b);
  const { x: embedded, table } = tokenEmbedding(ctx, { name: "model.embed_tokens.weight" });
  let x = embedded;
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const cur = x;
    x = b.inLayer(l, () => {
      const h = norm(ctx, cur, { name: `${p}.input_layernorm`, kind: "rmsnorm" });
      const a = mlaAttention(ctx, { layer: l, prefix: `${p}.self_attn`, input: h })!;
      const r = b.add(cur, a, { name: "attn_residual" });
      const h2 = norm(ctx, r, { name: `${p}.post_attention_layernorm`, kind: "rmsnorm" });
      const m = ffn(ctx, v, l, p, h2)!;
      return b.add(r, m, { name: "mlp_residual" });
    });
  }
  for (let i = 0; i < cfg.num_nextn_predict_layers; i++) declareMtp(ctx, v, i);
  lmHead(ctx, { input: x, norm: { name: "model.norm", kind: "rmsnorm" }, embedding: table, softcap: null });
}

const DEEPSEEK_READS = [
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "intermediate_size",
  "vocab_size",
  "hidden_act",
  "norm_eps",
  "tie_word_embeddings",
  "attention_bias",
  "layer_types",
  "rope",
  "rope_interleave",
  "layer_mlp",
  "num_nextn_predict_layers",
  "moe",
  "mla",
] as const;

export const deepseekV2Plugin: ArchitecturePlugin = {
  id: "deepseek_v2",
  families: ["deepseek_v2"],
  summary:
    "DeepSeek-V2 / V2-Lite: multi-head latent attention with yarn, dense first layers, DeepSeekMoE (softmax, greedy or group-limited top-k, shared experts)",
  reads: DEEPSEEK_READS,
  build(cfg: TextConfig, b: GraphBuilder): void {
    buildDeepseek(cfg, b, "v2");
  },
};

export const deepseekV3Plugin: ArchitecturePlugin = {
  id: "deepseek_v3",
  families: ["deepseek_v3"],
  summary:
    "DeepSeek-V3: MLA, DeepSeekMoE with sigmoid + bias-corrected group top-k (noaux_tc), FP8 block-scaled weights, MTP module declared unused",
  reads: DEEPSEEK_READS,
  build(cfg: TextConfig, b: GraphBuilder): void {
    buildDeepseek(cfg, b, "v3");
  },
};
