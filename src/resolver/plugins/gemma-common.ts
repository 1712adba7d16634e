/**
 * Pieces shared by the Gemma plugins (2, 3, 3n, 4): tensor-name prefixes of text-only vs
 * multimodal checkpoints, the scaled token embedding, the Gemma sandwich-norm residual, the head,
 * the attention of Gemma 3n / 4, and their per-layer embeddings (PLE) with the per-layer
 * gate/projection tail.
 * Semantics follow huggingface/transformers `models/gemma{2,3,3n,4}/modular_*.py` (docs/resolver.md).
 */
import { unsupported } from "../../diag/index.js";
import type { TextConfig } from "../../parser/config/index.js";
import type { ValueId, WeightId } from "../graph/index.js";
import {
  type AttentionSpec,
  actFnOf,
  attentionBlock,
  type BlockCtx,
  declare,
  joinName,
  lmHead,
  type NormSpec,
  norm,
  residual,
  tokenEmbedding,
} from "./common/index.js";
import { checkpointFormat, isWrapped, roundToDtype } from "./common-b.js";

/** Where the text model's tensors live in a checkpoint. */
export interface GemmaNames {
  /** Prefix of embed_tokens, layers.N, norm: `model`, `language_model.model` or `model.language_model`. */
  readonly model: string;
  /** Full name of an untied LM head. */
  readonly lmHead: string;
  readonly wrapped: boolean;
}

/**
 * Gemma 3 multimodal checkpoints (Gemma3ForConditionalGeneration, transformers 4.50 layout) store
 * `language_model.model.layers.N…` and `language_model.lm_head`; Gemma 3n / 4 wrappers store
 * `model.language_model.layers.N…` and `lm_head`; text-only checkpoints store `model.layers.N…`.
 * Without a registered checkpoint format, `wrappedByDefault` says what the published checkpoints use.
 */
export function gemmaNames(
  ctx: BlockCtx,
  style: "language_model.model" | "model.language_model",
  wrappedByDefault: boolean,
): GemmaNames {
  const wrapped = isWrapped(ctx.b, ctx.cfg.model_type, wrappedByDefault);
  if (!wrapped) return { model: "model", lmHead: "lm_head.weight", wrapped };
  return style === "language_model.model"
    ? { model: "language_model.model", lmHead: "language_model.lm_head.weight", wrapped }
    : { model: "model.language_model", lmHead: "lm_head.weight", wrapped };
}

/** The checkpoint's top-level model_type, for messages. */
export function topModelType(ctx: BlockCtx): string {
  return checkpointFormat(ctx.b).modelType ?? ctx.cfg.model_type;
}

/** Rejects `use_bidirectional_attention: "all"` (the text stack would not be causal). */
export function requireCausal(cfg: TextConfig): void {
  if (cfg.use_bidirectional_attention === "all")
    throw unsupported(
      "resolver/bidirectional-attention",
      `${cfg.model_type}: use_bidirectional_attention makes every layer attend to future tokens, which a causal decoder with a KV cache cannot compute`,
      {
        fix: 'use a checkpoint with use_bidirectional_attention null/false ("vision" only affects image tokens and is accepted)',
      },
    );
}

/**
 * `embed_tokens` looked up and multiplied by √hidden in the weight dtype, as
 * `Gemma3TextScaledWordEmbedding` does (`embed_scale.to(weight.dtype)`: √2048 = 45.2548 → 45.25 in bf16).
 */
export function gemmaEmbedding(ctx: BlockCtx, names: GemmaNames): { x: ValueId; table: WeightId } {
  const scale = roundToDtype(Math.sqrt(ctx.cfg.hidden_size), ctx.dtype);
  return tokenEmbedding(ctx, { name: `${names.model}.embed_tokens.weight`, scale });
}

/** The NormSpec of a Gemma RMSNorm: `x̂·(1+w)` for Gemma 2/3 (offset 1), `x̂·w` for 3n/4 (offset 0). */
function gemmaNorm(name: string, offset: 0 | 1, extra: Partial<NormSpec> = {}): NormSpec {
  return { name, kind: "rmsnorm", weightOffset: offset, ...extra };
}

/** A Gemma RMSNorm (see gemmaNorm). */
export function gnorm(
  ctx: BlockCtx,
  x: ValueId,
  name: string,
  offset: 0 | 1,
  extra: Partial<NormSpec> = {},
): ValueId {
  return norm(ctx, x, gemmaNorm(name, offset, extra));
}

/** x + post(block(pre(x))): Gemma's sandwich norms around a sub-block (the add records no keys). */
export function sandwich(
  ctx: BlockCtx,
  x: ValueId,
  pre: string,
  post: string,
  offset: 0 | 1,
  block: (h: ValueId) => ValueId,
  name: string,
): ValueId {
  return residual(ctx, x, block, {
    pre: gemmaNorm(pre, offset),
    post: gemmaNorm(post, offset),
    name,
    keys: [],
  });
}

/**
 * The attention of Gemma 3n and 4 at layer prefix `p`: q/k norms `x̂·w`, weightless v norm, scale 1,
 * no softcap, and on KV-shared layers the k_proj/v_proj/k_norm the checkpoints still store declared
 * unused (Gemma 3n always has them; Gemma 4 builds no such modules but its released checkpoints
 * store them, see Gemma4TextModel._keys_to_ignore_on_load_unexpected). `extra` adds to the spec.
 */
export function gemmaNormedAttention(
  ctx: BlockCtx,
  layer: number,
  p: string,
  input: ValueId,
  extra: Partial<AttentionSpec> = {},
): ValueId {
  return attentionBlock(ctx, {
    layer,
    prefix: joinName(p, "self_attn"),
    input,
    qNorm: { module: "q_norm" },
    kNorm: { module: "k_norm" },
    vNorm: { module: "v_norm", weight: false },
    ...extra,
    scale: 1,
    softcap: null,
    sharedKvWeights: "declare-unused",
  });
}

/** Final RMSNorm (offset as the family's norms), LM head under the checkpoint's name, final softcap. */
export function gemmaHead(
  ctx: BlockCtx,
  names: GemmaNames,
  x: ValueId,
  table: WeightId,
  offset: 0 | 1,
): ValueId {
  return lmHead(ctx, {
    input: x,
    norm: gemmaNorm(joinName(names.model, "norm"), offset),
    embedding: table,
    name: names.lmHead,
  });
}

export interface PleSpec {
  /** Text model prefix (`model.language_model` …). */
  readonly model: string;
  /** The scaled token embedding [T, H]. */
  readonly embedded: ValueId;
  /** hidden_size_per_layer_input. */
  readonly perLayer: number;
  readonly vocab: number;
  /**
   * Gemma 3n casts its two constant scales to the activation dtype
   * (`per_layer_projection_scale.to(dtype)`, `per_layer_input_scale.to(dtype)`); Gemma 4 multiplies
   * by Python floats.
   */
  readonly roundScales: boolean;
  /** Config keys of the block (gemma3n.* or gemma4.*). */
  readonly keys: readonly string[];
}

/**
 * The per-layer inputs of every layer at once, [T, L·P] (docs/graph.md 4.1):
 * `((rms_P(proj(embed)·H^-½) + embed_per_layer(tokens)·√P) · 2^-½`.
 */
export function perLayerInputs(ctx: BlockCtx, s: PleSpec): ValueId {
  const { b, cfg } = ctx;
  const L = cfg.num_hidden_layers;
  const P = s.perLayer;
  const H = cfg.hidden_size;
  const round = (v: number) => (s.roundScales ? roundToDtype(v, ctx.dtype) : v);
  return b.withKeys(s.keys, () => {
    const table = declare(
      ctx,
      `${s.model}.embed_tokens_per_layer.weight`,
      [s.vocab, L * P],
      "per_layer_embedding",
      {
        keys: ["num_hidden_layers"],
      },
    );
    const tok = b.embedding(b.tokens, table, roundToDtype(Math.sqrt(P), ctx.dtype), { name: "ple_tokens" });
    const proj = declare(
      ctx,
      `${s.model}.per_layer_model_projection.weight`,
      [L * P, H],
      "per_layer_model_proj",
      {
        keys: ["num_hidden_layers", "hidden_size"],
      },
    );
    const raw = b.linear(s.embedded, proj, undefined, { name: "ple_proj_raw" });
    const scaled = b.scale(raw, round(H ** -0.5), { name: "ple_proj_scaled" });
    const normed = gnorm(ctx, scaled, `${s.model}.per_layer_projection_norm`, 0, {
      groupSize: P,
      valueName: "ple_proj",
    });
    const sum = b.add(normed, tok, { name: "ple_sum" });
    return b.scale(sum, round(2 ** -0.5), { name: "ple" });
  });
}

/**
 * The per-layer-input tail of layer `layer`: `post_norm(proj(act(gate(x)) · ple[l]))`, [T, H]
 * (the caller adds it: Gemma 3n to streams 1…N−1, Gemma 4 to the residual).
 */
export function perLayerTail(
  ctx: BlockCtx,
  a: {
    prefix: string;
    input: ValueId;
    ple: ValueId;
    layer: number;
    perLayer: number;
    keys: readonly string[];
  },
): ValueId {
  const { b, cfg } = ctx;
  const P = a.perLayer;
  const H = cfg.hidden_size;
  return b.withKeys(a.keys, () => {
    const gw = declare(ctx, joinName(a.prefix, "per_layer_input_gate", "weight"), [P, H], "per_layer_gate", {
      keys: ["hidden_size"],
    });
    const g = b.activation(
      b.linear(a.input, gw, undefined, { name: "ple_gate_raw" }),
      actFnOf(cfg.hidden_act, cfg.hidden_act_name),
      {
        name: "ple_gate",
        keys: ["hidden_act"],
      },
    );
    const mixed = b.mul(g, b.slice(a.ple, a.layer * P, P, { name: "ple_slice" }), { name: "ple_mix" });
    const pw = declare(ctx, joinName(a.prefix, "per_layer_projection", "weight"), [H, P], "per_layer_proj", {
      keys: ["hidden_size"],
    });
    const back = b.linear(mixed, pw, undefined, { name: "ple_back" });
    return gnorm(ctx, back, joinName(a.prefix, "post_per_layer_input_norm"), 0, { valueName: "ple_out" });
  });
}

/** TextConfig fields both per-layer-embedding Gemma decoders (3n and 4) read. */
export const GEMMA_PLE_READS = [
  "model_type",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "layer_head_dim",
  "layer_num_key_value_heads",
  "layer_kv_shared_from",
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
  "final_logit_softcapping",
  "attention_scale_one",
  "use_bidirectional_attention",
] as const;
