/**
 * DeepSeek V2/V3 (multi-head latent attention + shared/routed experts) and gpt-oss (sinks,
 * clamped SwiGLU experts). Defaults: transformers DeepseekV2Config / DeepseekV3Config /
 * GptOssConfig, plus the keys only the model repos' own configuration_deepseek.py defines
 * (scoring_func, topk_method, moe_layer_freq, num_nextn_predict_layers).
 */
import type { DecoderSpec } from "../decoder.js";
import { plans } from "../decoder.js";
import type { ErrCtx } from "../errors.js";
import { invalidAt } from "../errors.js";
import { F } from "../fields.js";
import type { KeyReader } from "../keys.js";
import type { MoeConfig } from "../types.js";
import { aliased, BASE_SHAPE, CORE_REQUIRED, simpleMoe } from "./llama-like.js";

const DEEPSEEK_SHAPE = {
  ...BASE_SHAPE,
  hidden_act: F.str(),
  attention_bias: F.bool(),
  mlp_bias: F.bool(),
  moe_intermediate_size: F.posInt(),
  n_shared_experts: F.nonNegIntOrNull(),
  n_routed_experts: F.posIntOrNull(),
  num_experts_per_tok: F.posIntOrNull(),
  routed_scaling_factor: F.posNum(),
  kv_lora_rank: F.posInt(),
  q_lora_rank: F.posIntOrNull(),
  qk_rope_head_dim: F.posInt(),
  qk_nope_head_dim: F.posInt(),
  qk_head_dim: F.posInt(),
  v_head_dim: F.posInt(),
  n_group: F.posIntOrNull(),
  topk_group: F.posIntOrNull(),
  first_k_dense_replace: F.nonNegInt(),
  moe_layer_freq: F.posInt(),
  norm_topk_prob: F.bool(),
  scoring_func: F.str(),
  topk_method: F.str(),
  rope_interleave: F.bool(),
  num_nextn_predict_layers: F.nonNegInt(),
};

const DEEPSEEK_V2_DEFAULTS = {
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: null,
  hidden_act: "silu",
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  attention_bias: false,
  mlp_bias: false,
  first_k_dense_replace: 0,
  kv_lora_rank: 512,
  q_lora_rank: 1536,
  n_group: null,
  n_routed_experts: 64,
  n_shared_experts: 2,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  routed_scaling_factor: 1.0,
  topk_group: null,
  topk_method: "greedy",
  norm_topk_prob: false,
  v_head_dim: 128,
  num_experts_per_tok: null,
  moe_intermediate_size: 1407,
  // remote-code keys (configuration_deepseek.py of the model repos)
  scoring_func: "softmax",
  moe_layer_freq: 1,
  rope_interleave: true,
  num_nextn_predict_layers: 0,
};

const TOPK_METHODS: Readonly<Record<string, MoeConfig["topk_method"]>> = {
  greedy: "greedy",
  gready: "greedy", // the spelling of the V2 repo's own default
  group_limited_greedy: "group_limited_greedy",
  noaux_tc: "noaux_tc",
};

function deepseekMoe(
  r: KeyReader,
  ctx: ErrCtx,
  n: number,
): { moe: MoeConfig; layer_mlp: ("dense" | "moe")[] } | null {
  const experts = r.get<number | null>("n_routed_experts", "moe");
  const first = r.req<number>("first_k_dense_replace", "moe");
  const freq = r.req<number>("moe_layer_freq", "moe");
  // DeepseekV2/V3 decoder layer: routed experts from first_k_dense_replace on, every moe_layer_freq-th layer.
  const layer_mlp = Array.from({ length: n }, (_, i) =>
    experts != null && i >= first && i % freq === 0 ? ("moe" as const) : ("dense" as const),
  );
  if (!layer_mlp.includes("moe")) return null;
  const topK = r.get<number | null>("num_experts_per_tok", "moe");
  if (topK == null)
    throw invalidAt(
      ctx,
      r.path("num_experts_per_tok"),
      "MoE layers need num_experts_per_tok (a positive integer)",
    );
  const width = r.req<number>("moe_intermediate_size", "moe");
  const shared = r.get<number | null>("n_shared_experts", "moe") ?? 0;
  const scoring = r.req<string>("scoring_func", "moe");
  if (scoring !== "softmax" && scoring !== "sigmoid")
    throw invalidAt(ctx, r.path("scoring_func"), `expected "softmax" or "sigmoid", got "${scoring}"`);
  const method = r.req<string>("topk_method", "moe");
  const topk_method = Object.hasOwn(TOPK_METHODS, method) ? TOPK_METHODS[method] : undefined;
  if (!topk_method)
    throw invalidAt(
      ctx,
      r.path("topk_method"),
      `expected one of ${Object.keys(TOPK_METHODS).join(", ")}, got "${method}"`,
    );
  const n_group = r.get<number | null>("n_group", "moe") ?? null;
  const topk_group = r.get<number | null>("topk_group", "moe") ?? null;
  if (topK > (experts as number))
    throw invalidAt(ctx, r.path("num_experts_per_tok"), `must not exceed n_routed_experts (${experts})`);
  if (n_group !== null && (experts as number) % n_group !== 0)
    throw invalidAt(
      ctx,
      r.path("n_group"),
      `n_routed_experts (${experts}) must be divisible by n_group (${n_group})`,
    );
  if (n_group !== null && topk_group !== null && topk_group > n_group)
    throw invalidAt(ctx, r.path("topk_group"), `must not exceed n_group (${n_group})`);
  return {
    moe: {
      num_experts: experts as number,
      num_experts_per_tok: topK,
      moe_intermediate_size: width,
      n_shared_experts: shared,
      shared_expert_intermediate_size: shared > 0 ? width * shared : null,
      norm_topk_prob: r.req<boolean>("norm_topk_prob", "moe"),
      scoring_func: scoring,
      topk_method,
      n_group,
      topk_group,
      routed_scaling_factor: r.req<number>("routed_scaling_factor", "moe"),
      router_bias: false,
      first_k_dense_replace: first,
      moe_layer_freq: freq,
      decoder_sparse_step: 1,
      mlp_only_layers: [],
    },
    layer_mlp,
  };
}

export const deepseek_v2: DecoderSpec = {
  modelType: "deepseek_v2",
  family: "deepseek_v2",
  className: "DeepseekV2Config",
  shape: DEEPSEEK_SHAPE,
  defaults: DEEPSEEK_V2_DEFAULTS,
  required: CORE_REQUIRED,
  actKeys: ["hidden_act"],
  plan: (_r, n) => plans.allFull(n),
  rope: { mode: "global", defaultTheta: 10000 },
  bias: "keys",
  headDim: "mla",
  ropeInterleave: (r) => r.req<boolean>("rope_interleave", "rope_interleave"),
  moe: (r, ctx, core) => deepseekMoe(r, ctx, core.n),
  mla: (r, ctx) => {
    const nope = r.req<number>("qk_nope_head_dim", "mla");
    const rope = r.req<number>("qk_rope_head_dim", "mla");
    // transformers 5 also writes its derived head_dim (= qk_rope_head_dim) and qk_head_dim.
    const hd = r.take<number | null>("head_dim");
    if (hd != null && hd !== rope)
      throw invalidAt(ctx, r.path("head_dim"), `expected qk_rope_head_dim (${rope}), got ${hd}`);
    const qk = r.take<number>("qk_head_dim");
    if (qk !== undefined && qk !== nope + rope)
      throw invalidAt(
        ctx,
        r.path("qk_head_dim"),
        `expected qk_nope_head_dim + qk_rope_head_dim (${nope + rope}), got ${qk}`,
      );
    return {
      q_lora_rank: r.get<number | null>("q_lora_rank", "mla") ?? null,
      kv_lora_rank: r.req<number>("kv_lora_rank", "mla"),
      qk_nope_head_dim: nope,
      qk_rope_head_dim: rope,
      v_head_dim: r.req<number>("v_head_dim", "mla"),
      qk_head_dim: nope + rope,
    };
  },
  extras: (r) => ({
    num_nextn_predict_layers: r.req<number>("num_nextn_predict_layers", "num_nextn_predict_layers"),
  }),
};

export const deepseek_v3: DecoderSpec = {
  ...deepseek_v2,
  modelType: "deepseek_v3",
  family: "deepseek_v3",
  className: "DeepseekV3Config",
  defaults: {
    ...DEEPSEEK_V2_DEFAULTS,
    vocab_size: 129280,
    hidden_size: 7168,
    intermediate_size: 18432,
    moe_intermediate_size: 2048,
    num_hidden_layers: 61,
    num_attention_heads: 128,
    num_key_value_heads: 128,
    n_shared_experts: 1,
    n_routed_experts: 256,
    routed_scaling_factor: 2.5,
    kv_lora_rank: 512,
    q_lora_rank: 1536,
    qk_rope_head_dim: 64,
    v_head_dim: 128,
    qk_nope_head_dim: 128,
    n_group: 8,
    topk_group: 4,
    num_experts_per_tok: 8,
    first_k_dense_replace: 3,
    norm_topk_prob: true,
    max_position_embeddings: 4096,
    rope_interleave: true,
    // remote-code keys (configuration_deepseek.py of deepseek-ai/DeepSeek-V3)
    scoring_func: "sigmoid",
    topk_method: "noaux_tc",
    moe_layer_freq: 1,
    num_nextn_predict_layers: 1,
  },
};

export const gpt_oss: DecoderSpec = {
  modelType: "gpt_oss",
  family: "gpt_oss",
  className: "GptOssConfig",
  shape: {
    ...BASE_SHAPE,
    hidden_act: F.str(),
    attention_bias: F.bool(),
    sliding_window: F.posIntOrNull(),
    num_local_experts: F.posInt(),
    num_experts_per_tok: F.posInt(),
    experts_per_token: F.posInt(),
    swiglu_limit: F.posNum(),
    swiglu_alpha: F.posNum(),
  },
  defaults: {
    num_hidden_layers: 36,
    num_local_experts: 128,
    vocab_size: 201088,
    hidden_size: 2880,
    intermediate_size: 2880,
    head_dim: 64,
    num_attention_heads: 64,
    num_key_value_heads: 8,
    sliding_window: 128,
    tie_word_embeddings: false,
    hidden_act: "silu",
    max_position_embeddings: 131072,
    rms_norm_eps: 1e-5,
    num_experts_per_tok: 4,
    swiglu_alpha: 1.702,
    swiglu_limit: 7.0,
    attention_bias: true,
  },
  required: CORE_REQUIRED,
  actKeys: ["hidden_act"],
  // GptOssConfig: layers alternate sliding / full, starting with sliding.
  plan: (r, n) => plans.periodic(r, n, 2),
  rope: {
    mode: "global",
    defaultTheta: 150000,
    globalDefault: {
      rope_type: "yarn",
      factor: 32.0,
      beta_fast: 32.0,
      beta_slow: 1.0,
      truncate: false,
      original_max_position_embeddings: 4096,
    },
  },
  bias: "keys",
  // Router: top-k of the logits, softmax over those k (= renormalised softmax top-k); router has a bias.
  moe: (r, ctx, core, inter) =>
    simpleMoe(core.n, inter[0] as number, {
      experts: r.req<number>("num_local_experts", "moe"),
      topK: aliased<number>(r, ctx, ["num_experts_per_tok", "experts_per_token"], "moe") as number,
      norm: true,
      routerBias: true,
    }),
  extras: (r) => ({
    gpt_oss: {
      swiglu_limit: r.req<number>("swiglu_limit", "gpt_oss"),
      swiglu_alpha: r.req<number>("swiglu_alpha", "gpt_oss"),
      attention_sinks: true,
    },
  }),
};
