/**
 * The skeleton shared by pre-norm decoders: a residual block (`x + post(block(pre(x)))`, the post
 * norm for Gemma's sandwich norms) and a whole "llama-like" model builder: embedding, N layers of
 * input_layernorm → attention → residual → post_attention_layernorm → MLP (dense or MoE) →
 * residual, final norm, LM head. Families differ only in the options they pass.
 */
import type { TextConfig } from "../../../parser/config/index.js";
import type { GraphBuilder, ValueId } from "../../graph/index.js";
import { type AttentionSpec, attentionBlock } from "./attention.js";
import { type BlockCtx, blockCtx, joinName } from "./context.js";
import { type EmbeddingSpec, lmHead, positionEmbedding, tokenEmbedding } from "./embed.js";
import { type GatedMlpSpec, gatedMlp } from "./mlp.js";
import { type NormSpec, norm } from "./norm.js";

/**
 * x + post(block(pre(x))). `pre`/`post` are optional norms; `keys` are the config keys recorded on
 * the add (default hidden_size).
 */
export function residual(
  ctx: BlockCtx,
  x: ValueId,
  block: (h: ValueId) => ValueId,
  opts: { pre?: NormSpec; post?: NormSpec; name?: string; keys?: readonly string[] } = {},
): ValueId {
  const h = opts.pre ? norm(ctx, x, opts.pre) : x;
  const y = block(h);
  const z = opts.post ? norm(ctx, y, opts.post) : y;
  return ctx.b.add(x, z, { name: opts.name ?? "residual", keys: opts.keys ?? ["hidden_size"] });
}

/** Per-layer options of the llama-like skeleton; every callback gets the layer and its prefix. */
export interface LlamaLikeOptions {
  /** Layer module prefix (default `model.layers.<l>`). */
  readonly layerPrefix?: (l: number) => string;
  readonly embedding?: EmbeddingSpec;
  /** Learned position table added after the token embedding (GPT-2 `wpe.weight`); default none. */
  readonly positionEmbedding?: string;
  /** Norm modules relative to the layer prefix (default input_layernorm, post_attention_layernorm). */
  readonly norms?: { readonly input: string; readonly postAttention: string };
  /** Attention module relative to the layer prefix (default `self_attn`). */
  readonly attentionModule?: string;
  /** Attention options besides layer, prefix and input. */
  readonly attention?: (l: number) => Partial<Omit<AttentionSpec, "layer" | "prefix" | "input">>;
  /**
   * The MLP of layer l given its normalized input; default: the gated MLP `mlp.gate_proj/up_proj/
   * down_proj` with `mlpOptions`.
   */
  readonly mlp?: (h: ValueId, l: number, prefix: string) => ValueId;
  readonly mlpOptions?: (l: number) => Partial<Omit<GatedMlpSpec, "layer" | "prefix" | "input">>;
  /** Final norm module (default `model.norm`). */
  readonly finalNorm?: string;
  /** Untied LM head tensor (default `lm_head.weight`). */
  readonly lmHead?: string;
}

/**
 * Builds the whole llama-like model into `b` (transformers' LlamaDecoderLayer order: pre-norm,
 * attention, residual add, post-attention norm, MLP, residual add). Returns the logits value.
 */
export function buildLlamaLike(ctx: BlockCtx, o: LlamaLikeOptions = {}): ValueId {
  const { cfg, b } = ctx;
  const prefixOf = o.layerPrefix ?? ((l: number) => `model.layers.${l}`);
  const norms = o.norms ?? { input: "input_layernorm", postAttention: "post_attention_layernorm" };
  const { x: embedded, table } = tokenEmbedding(ctx, o.embedding);
  let x = o.positionEmbedding ? positionEmbedding(ctx, embedded, o.positionEmbedding) : embedded;
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = prefixOf(l);
    x = b.inLayer(l, () =>
      b.withKeys(["num_hidden_layers"], () => {
        const afterAttn = residual(
          ctx,
          x,
          (h) =>
            attentionBlock(ctx, {
              ...o.attention?.(l),
              layer: l,
              prefix: joinName(p, o.attentionModule ?? "self_attn"),
              input: h,
            }),
          { pre: { name: joinName(p, norms.input) }, name: "attn_residual" },
        );
        return residual(
          ctx,
          afterAttn,
          (h) =>
            o.mlp
              ? o.mlp(h, l, p)
              : gatedMlp(ctx, { ...o.mlpOptions?.(l), layer: l, prefix: joinName(p, "mlp"), input: h }),
          { pre: { name: joinName(p, norms.postAttention) }, name: "mlp_residual" },
        );
      }),
    );
  }
  return lmHead(ctx, {
    input: x,
    norm: { name: o.finalNorm ?? "model.norm" },
    embedding: table,
    ...(o.lmHead ? { name: o.lmHead } : {}),
  });
}

/** Convenience for plugins: a BlockCtx and the llama-like build in one call. */
export function buildLlamaLikeModel(cfg: TextConfig, b: GraphBuilder, o: LlamaLikeOptions = {}): ValueId {
  return buildLlamaLike(blockCtx(cfg, b), o);
}
