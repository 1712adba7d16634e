/**
 * The attention block of one decoder layer: q/k/v projections (separate, or one fused tensor split
 * into row views), optional biases, optional per-head q/k/v norms, RoPE per layer type, GQA
 * attention with a causal or sliding mask (sliding from `layer_types`), optional softcap and sinks,
 * KV sharing, and the output projection. Tensor names are `<prefix>.<module>.weight|bias`.
 */
import { GraphBuilder, type MaskSpec, type ValueId, type WeightId } from "../../graph/index.js";
import { type BlockCtx, builderBug, declare, joinName } from "./context.js";
import { type NormSpec, norm } from "./norm.js";
import { layerRope, layerTypeOf, type RopeChoice } from "./rope.js";

/** How q, k and v are stored. Module names are relative to the block prefix. */
export type QkvLayout =
  | {
      readonly kind: "separate";
      /** Defaults: q_proj, k_proj, v_proj. */
      readonly q?: string;
      readonly k?: string;
      readonly v?: string;
      /** No v projection: v is the raw k projection (Gemma 4 `attention_k_eq_v`), then `vNorm`. */
      readonly valueFromKey?: boolean;
    }
  | {
      /** One tensor `[q | k | v]` along the output rows (Phi-3 qkv_proj, GPT-2 c_attn). */
      readonly kind: "fused";
      readonly qkv: string;
    };

/** A per-head norm (Qwen3/Gemma q_norm, k_norm; Gemma 3n's weightless v norm). */
export interface HeadNorm {
  /** Module name relative to the prefix, e.g. "q_norm". */
  readonly module: string;
  /** Learned weight of head_dim elements (default true). */
  readonly weight?: boolean;
  readonly weightOffset?: 0 | 1;
  readonly eps?: number;
  /** Normalize each head (default, weight of head_dim) or all heads at once (OLMo 2, weight of heads·head_dim). */
  readonly span?: "head" | "all";
}

export interface AttentionSpec {
  readonly layer: number;
  /** Module prefix, e.g. `model.layers.0.self_attn` (GPT-2: `h.0.attn`). */
  readonly prefix: string;
  /** The normalized hidden state. */
  readonly input: ValueId;
  /** Defaults: num_attention_heads, layer_num_key_value_heads[layer], layer_head_dim[layer]. */
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly headDim?: number;
  readonly qkv?: QkvLayout;
  /** Output projection module (default o_proj). */
  readonly o?: string;
  /** All projections stored [in, out] (GPT-2 Conv1D). */
  readonly transposed?: boolean;
  /** Defaults: the config's attention_qkv_bias / attention_out_bias. */
  readonly qkvBias?: boolean;
  readonly oBias?: boolean;
  readonly qNorm?: HeadNorm;
  readonly kNorm?: HeadNorm;
  readonly vNorm?: HeadNorm;
  /** Default: layerRope(cfg, layer) when the config uses RoPE; null: no rope op. */
  readonly rope?: RopeChoice | null;
  /** Default: sliding(sliding_window) if layer_types[layer] is sliding, else causal. */
  readonly mask?: MaskSpec;
  /** Default: 1 (attention_scale_one), query_pre_attn_scalar^-½, else head_dim^-½. */
  readonly scale?: number;
  /** Default: attn_logit_softcapping. */
  readonly softcap?: number | null;
  /** Tensor name relative to the prefix of per-head sink logits (gpt-oss "sinks"). */
  readonly sinks?: string;
  /** Read the KV cache of this earlier layer (default layer_kv_shared_from[layer]). */
  readonly kvSharedFrom?: number | null;
  /**
   * With KV sharing, the k/v projection tensors the checkpoint still stores: declared `unused`
   * (default), or absent from the checkpoint.
   */
  readonly sharedKvWeights?: "declare-unused" | "absent";
}

/** The mask of `layer` from `layer_types` and `sliding_window`. */
export function layerMask(ctx: BlockCtx, layer: number): MaskSpec {
  const { cfg } = ctx;
  if (layerTypeOf(cfg, layer) !== "sliding_attention") return { kind: "causal" };
  if (!cfg.sliding_window) throw builderBug("no-window", `layer ${layer} slides but sliding_window is null`);
  return GraphBuilder.mask(cfg.sliding_window);
}

/** The attention score scale of the config (see AttentionSpec.scale). */
export function defaultAttentionScale(ctx: BlockCtx, headDim: number): number {
  const { cfg } = ctx;
  if (cfg.attention_scale_one) return 1;
  if (cfg.query_pre_attn_scalar !== null) return cfg.query_pre_attn_scalar ** -0.5;
  return headDim ** -0.5;
}

interface Proj {
  readonly weight: WeightId;
  readonly bias?: WeightId;
  readonly rows?: { readonly start: number; readonly count: number };
}

/** Appends the attention block and returns the output of the o projection ([T, hidden]). */
export function attentionBlock(ctx: BlockCtx, spec: AttentionSpec): ValueId {
  const { b, cfg } = ctx;
  const l = spec.layer;
  const H = b.width(spec.input);
  const heads = spec.heads ?? cfg.num_attention_heads;
  const kvHeads = spec.kvHeads ?? cfg.layer_num_key_value_heads[l] ?? cfg.num_key_value_heads;
  const hd = spec.headDim ?? cfg.layer_head_dim[l] ?? cfg.head_dim;
  const qW = heads * hd;
  const kvW = kvHeads * hd;
  const layout = spec.qkv ?? { kind: "separate" };
  const qkvBias = spec.qkvBias ?? cfg.attention_qkv_bias;
  const oBias = spec.oBias ?? cfg.attention_out_bias;
  const transposed = spec.transposed ?? false;
  const shared = spec.kvSharedFrom !== undefined ? spec.kvSharedFrom : (cfg.layer_kv_shared_from[l] ?? null);
  const name = (module: string, what: "weight" | "bias") => joinName(spec.prefix, module, what);
  const mat = (out: number) => (transposed ? [H, out] : [out, H]);
  const geomKeys = ["hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim"];
  const biasKeys = ["attention_qkv_bias"];
  const sharedNote =
    shared !== null ? `KV shared from layer ${shared}: the projection is not used` : undefined;

  // Declare the projections.
  let q: Proj;
  let k: Proj | undefined;
  let v: Proj | undefined;
  if (layout.kind === "fused") {
    const w = declare(ctx, name(layout.qkv, "weight"), mat(qW + 2 * kvW), "attn_qkv", {
      transposed,
      keys: geomKeys,
    });
    const bias = qkvBias
      ? declare(ctx, name(layout.qkv, "bias"), [qW + 2 * kvW], "bias", { keys: biasKeys })
      : undefined;
    const part = (start: number, count: number): Proj => ({
      weight: w,
      ...(bias ? { bias } : {}),
      rows: { start, count },
    });
    if (shared !== null)
      throw builderBug("fused-shared-kv", "KV sharing with a fused qkv tensor is not supported");
    q = part(0, qW);
    k = part(qW, kvW);
    v = part(qW + kvW, kvW);
  } else {
    const one = (
      module: string,
      out: number,
      role: "attn_q" | "attn_k" | "attn_v",
      unused?: string,
    ): Proj => {
      const o = unused ? { unused } : {};
      const weight = declare(ctx, name(module, "weight"), mat(out), role, {
        transposed,
        keys: geomKeys,
        ...o,
      });
      const bias = qkvBias
        ? declare(ctx, name(module, "bias"), [out], "bias", { keys: biasKeys, ...o })
        : undefined;
      return { weight, ...(bias ? { bias } : {}) };
    };
    q = one(layout.q ?? "q_proj", qW, "attn_q");
    const absent = shared !== null && spec.sharedKvWeights === "absent";
    if (!absent) {
      k = one(layout.k ?? "k_proj", kvW, "attn_k", sharedNote);
      if (!layout.valueFromKey) v = one(layout.v ?? "v_proj", kvW, "attn_v", sharedNote);
    }
  }

  const linear = (p: Proj, valueName: string): ValueId =>
    b.linear(
      spec.input,
      { weight: p.weight, ...(p.rows ? { rows: p.rows } : {}) },
      p.bias ? { weight: p.bias, ...(p.rows ? { slice: p.rows } : {}) } : undefined,
      { name: valueName, keys: p.bias ? [...geomKeys, ...biasKeys] : geomKeys },
    );
  const headNorm = (x: ValueId, n: HeadNorm | undefined): ValueId => {
    if (!n) return x;
    const ns: NormSpec = {
      name: joinName(spec.prefix, n.module),
      kind: "rmsnorm",
      groupSize: n.span === "all" ? b.width(x) : hd,
      weight: n.weight ?? true,
      ...(n.weightOffset !== undefined ? { weightOffset: n.weightOffset } : {}),
      ...(n.eps !== undefined ? { eps: n.eps } : {}),
      valueName: n.module,
      keys: ["head_dim"],
    };
    return norm(ctx, x, ns);
  };
  const rope =
    spec.rope !== undefined ? spec.rope : cfg.position_embedding === "rope" ? layerRope(cfg, l, hd) : null;
  const applyRope = (x: ValueId, n: number, valueName: string): ValueId =>
    rope
      ? b.rope(
          x,
          {
            heads: n,
            headDim: hd,
            offset: rope.offset ?? 0,
            rotaryDim: rope.rotaryDim,
            style: rope.style,
            rope: rope.spec,
          },
          { name: valueName, keys: ["rope", "layer_types"] },
        )
      : x;

  const qv = applyRope(headNorm(linear(q, "q"), spec.qNorm), heads, "q_rot");
  let kv: { source: "own"; k: ValueId; v: ValueId } | { source: "shared"; layer: number };
  if (shared !== null) {
    // The checkpoint still stores the k norm of a shared layer (its k projection is not run).
    if (k && spec.kNorm && (spec.kNorm.weight ?? true)) {
      const kn = joinName(spec.prefix, spec.kNorm.module, "weight");
      declare(ctx, kn, [spec.kNorm.span === "all" ? kvW : hd], "norm", {
        unused: sharedNote ?? "",
        keys: ["head_dim"],
      });
    }
    kv = { source: "shared", layer: shared };
  } else {
    if (!k) throw builderBug("no-k", "attention without a k projection");
    const kRaw = linear(k, "k");
    const kOut = applyRope(headNorm(kRaw, spec.kNorm), kvHeads, "k_rot");
    const vRaw = v ? linear(v, "v") : kRaw;
    kv = { source: "own", k: kOut, v: headNorm(vRaw, spec.vNorm) };
  }
  const softcap = spec.softcap !== undefined ? spec.softcap : cfg.attn_logit_softcapping;
  const sinks = spec.sinks
    ? declare(ctx, joinName(spec.prefix, spec.sinks), [heads], "sinks", {
        keys: ["num_attention_heads"],
        dtype: ctx.dtype,
      })
    : undefined;
  const mask = spec.mask ?? layerMask(ctx, l);
  const attn = b.attention(
    {
      q: qv,
      kv,
      heads,
      kvHeads,
      headDim: hd,
      vHeadDim: hd,
      scale: spec.scale ?? defaultAttentionScale(ctx, hd),
      mask,
      ...(softcap ? { softcap } : {}),
      ...(sinks ? { sinks: { weight: sinks } } : {}),
    },
    {
      name: "attn",
      keys: [
        "num_attention_heads",
        "num_key_value_heads",
        "head_dim",
        ...(mask.kind === "sliding" ? ["layer_types", "sliding_window"] : []),
        ...(softcap ? ["attn_logit_softcapping"] : []),
      ],
    },
  );
  const oMod = spec.o ?? "o_proj";
  const oW = declare(ctx, name(oMod, "weight"), transposed ? [qW, H] : [H, qW], "attn_o", {
    transposed,
    keys: geomKeys,
  });
  const oB = oBias
    ? declare(ctx, name(oMod, "bias"), [H], "bias", { keys: ["attention_out_bias"] })
    : undefined;
  return b.linear(attn, oW, oB, {
    name: "attn_out",
    keys: oB ? [...geomKeys, "attention_out_bias"] : geomKeys,
  });
}
