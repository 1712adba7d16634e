/**
 * DeepSeek multi-head latent attention (V2, V3): the query through a low-rank bottleneck
 * (q_a_proj → q_a_layernorm → q_b_proj) or a plain q_proj when `q_lora_rank` is null; the keys and
 * values through `kv_a_proj_with_mqa`, whose output is the compressed latent (kv_lora_rank,
 * normalized by kv_a_layernorm) followed by the decoupled rope key (qk_rope_head_dim, one head
 * shared by all heads); `kv_b_proj` expands the latent to per-head [k_nope | v] inside
 * `mla_attention`. RoPE (interleaved pairs, yarn) touches only the last qk_rope_head_dim features of
 * each query head and the shared rope key. Score scale: qk_head_dim^-½ · mscale(factor,
 * mscale_all_dim)² with yarn.
 * Source: deepseek-ai/DeepSeek-V2(-Lite) and DeepSeek-V3 `modeling_deepseek.py` (DeepseekV2Attention /
 * DeepseekV3Attention: `softmax_scale`), huggingface/transformers `models/deepseek_v2`,
 * `models/deepseek_v3` (same tensors).
 */
import type { MlaConfig } from "../../parser/config/index.js";
import { type RopeSpec, type ValueId, yarnGetMscale } from "../graph/index.js";
import { type BlockCtx, builderBug, declare, joinName, layerRope } from "./common/index.js";
import { linearWeight } from "./common-b.js";

/** The attention score scale of MLA: qk_head_dim^-½, times mscale² under yarn with mscale_all_dim. */
export function mlaScale(mla: MlaConfig, rope: RopeSpec): number {
  const base = mla.qk_head_dim ** -0.5;
  if (rope.type !== "yarn" || !rope.mscaleAllDim) return base;
  const m = yarnGetMscale(rope.factor, rope.mscaleAllDim);
  return base * m * m;
}

export interface MlaSpec {
  readonly layer: number;
  /** e.g. `model.layers.0.self_attn`. */
  readonly prefix: string;
  readonly input: ValueId;
  /** Declare the tensors only (an MTP layer: stored, not in the forward). */
  readonly unused?: string;
}

/** Appends (or, with `unused`, only declares) the MLA block; returns the o_proj output. */
export function mlaAttention(ctx: BlockCtx, s: MlaSpec): ValueId | undefined {
  const { b, cfg } = ctx;
  const mla = cfg.mla;
  if (!mla) throw builderBug("no-mla", `${cfg.model_type}: the mla block of the TextConfig is missing`);
  const H = cfg.hidden_size;
  const heads = cfg.num_attention_heads;
  const {
    q_lora_rank: qr,
    kv_lora_rank: kvr,
    qk_nope_head_dim: nope,
    qk_rope_head_dim: rd,
    v_head_dim: vd,
  } = mla;
  const qk = mla.qk_head_dim;
  const bias = cfg.attention_bias;
  const u = s.unused ? { unused: s.unused } : {};
  const name = (m: string, what = "weight") => joinName(s.prefix, m, what);
  const keys = [
    "mla.q_lora_rank",
    "mla.kv_lora_rank",
    "mla.qk_nope_head_dim",
    "mla.qk_rope_head_dim",
    "mla.v_head_dim",
  ];
  const w = (m: string, shape: [number, number], role: Parameters<typeof linearWeight>[3]) =>
    linearWeight(ctx, name(m), shape, role, { keys, ...u });
  const bv = (m: string, n: number) =>
    bias ? declare(ctx, name(m, "bias"), [n], "bias", { keys: ["attention_bias"], ...u }) : undefined;
  const normW = (m: string, n: number) =>
    declare(ctx, name(m), [n], "norm", { keys: ["norm_eps", ...keys], ...u });

  // Declarations in checkpoint order.
  let qa: string | undefined;
  let qaB: string | undefined;
  let qaNorm: string | undefined;
  let qb: string;
  if (qr !== null) {
    qa = w("q_a_proj", [qr, H], "attn_q_a");
    qaB = bv("q_a_proj", qr);
    qaNorm = normW("q_a_layernorm", qr);
    qb = w("q_b_proj", [heads * qk, qr], "attn_q_b");
  } else {
    qb = w("q_proj", [heads * qk, H], "attn_q");
  }
  const kva = w("kv_a_proj_with_mqa", [kvr + rd, H], "attn_kv_a");
  const kvaB = bv("kv_a_proj_with_mqa", kvr + rd);
  const kvNorm = normW("kv_a_layernorm", kvr);
  const kvb = w("kv_b_proj", [heads * (nope + vd), kvr], "attn_kv_b");
  const o = w("o_proj", [H, heads * vd], "attn_o");
  const oB = bv("o_proj", H);
  if (s.unused) return undefined;

  const rope = layerRope(cfg, s.layer, qk);
  if (rope.rotaryDim !== rd)
    throw builderBug("mla-rope", `rotary width ${rope.rotaryDim} differs from qk_rope_head_dim ${rd}`);
  const ropeKeys = ["rope", "rope_interleave", "mla.qk_rope_head_dim"];
  let q: ValueId;
  if (qa !== undefined && qaNorm !== undefined) {
    const a = b.linear(s.input, qa, qaB, { name: "q_a" });
    const an = b.rmsNorm(a, { weight: qaNorm, eps: cfg.norm_eps }, { name: "q_a_norm", keys: ["norm_eps"] });
    q = b.linear(an, qb, undefined, { name: "q" });
  } else {
    q = b.linear(s.input, qb, undefined, { name: "q" });
  }
  const qRot = b.rope(
    q,
    { heads, headDim: qk, offset: nope, rotaryDim: rd, style: rope.style, rope: rope.spec },
    { name: "q_rot", keys: ropeKeys },
  );
  const ckv = b.linear(s.input, kva, kvaB, { name: "kv_a" });
  const latent = b.rmsNorm(
    b.slice(ckv, 0, kvr, { name: "kv_latent_raw" }),
    { weight: kvNorm, eps: cfg.norm_eps },
    { name: "kv_latent", keys: ["norm_eps"] },
  );
  const kPe = b.rope(
    b.slice(ckv, kvr, rd, { name: "k_pe_raw" }),
    { heads: 1, headDim: rd, offset: 0, rotaryDim: rd, style: rope.style, rope: rope.spec },
    { name: "k_pe", keys: ropeKeys },
  );
  const attn = b.emit(
    "mla_attention",
    {
      q: qRot,
      latent,
      kRope: kPe,
      kvB: { weight: kvb },
      heads,
      kvRank: kvr,
      nopeDim: nope,
      ropeDim: rd,
      vHeadDim: vd,
      scale: mlaScale(mla, rope.spec),
      mask: { kind: "causal" },
    },
    { name: "attn", keys: [...keys, "num_attention_heads", "rope"] },
  )[0]!;
  return b.linear(attn, o, oB, { name: "attn_out" });
}
