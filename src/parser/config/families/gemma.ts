/**
 * Gemma 2, Gemma 3 (gemma3_text), Gemma 3n (gemma3n_text) and Gemma 4 (gemma4_text). The 3/3n/4
 * text configs sit inside multimodal wrappers that write them sparsely (only non-default keys),
 * so their class defaults matter; see docs/parser-config.md for each table and its source.
 */
import type { DecoderSpec, Extras } from "../decoder.js";
import { kvSharing, plans } from "../decoder.js";
import { invalidAt, unsupportedAt } from "../errors.js";
import { F } from "../fields.js";
import { childPath } from "../json-text.js";
import type { LayerType } from "../types.js";
import { BASE_SHAPE, CORE_REQUIRED } from "./llama-like.js";

const GEMMA_SHAPE = {
  ...BASE_SHAPE,
  hidden_activation: F.str(),
  hidden_act: F.str(),
  attention_bias: F.bool(),
  query_pre_attn_scalar: F.posNumOrNull(),
  sliding_window: F.posIntOrNull(),
  final_logit_softcapping: F.posNumOrNull(),
  attn_logit_softcapping: F.posNumOrNull(),
};

export const gemma2: DecoderSpec = {
  modelType: "gemma2",
  family: "gemma2",
  className: "Gemma2Config",
  shape: GEMMA_SHAPE,
  defaults: {
    vocab_size: 256000,
    hidden_size: 2304,
    intermediate_size: 9216,
    num_hidden_layers: 26,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    head_dim: 256,
    hidden_activation: "gelu_pytorch_tanh",
    max_position_embeddings: 8192,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: true,
    attention_bias: false,
    query_pre_attn_scalar: 256,
    sliding_window: 4096,
    final_logit_softcapping: 30.0,
    attn_logit_softcapping: 50.0,
  },
  required: CORE_REQUIRED,
  actKeys: ["hidden_activation", "hidden_act"],
  // Gemma2DecoderLayer: even layers (0, 2, ...) slide, odd layers are global.
  plan: (r, n) => plans.periodic(r, n, 2),
  rope: { mode: "global", defaultTheta: 10000 },
  bias: "keys",
  softcaps: true,
  queryPreAttnScalar: true,
};

const GEMMA3_DEFAULTS = {
  vocab_size: 262208,
  hidden_size: 2304,
  intermediate_size: 9216,
  num_hidden_layers: 26,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 256,
  hidden_activation: "gelu_pytorch_tanh",
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
  attention_bias: false,
  query_pre_attn_scalar: 256,
  sliding_window: 4096,
  final_logit_softcapping: null,
  attn_logit_softcapping: null,
  sliding_window_pattern: 6,
  use_bidirectional_attention: false,
};

export const gemma3_text: DecoderSpec = {
  ...gemma2,
  modelType: "gemma3_text",
  family: "gemma3",
  className: "Gemma3TextConfig",
  shape: {
    ...GEMMA_SHAPE,
    rope_local_base_freq: F.posNum(),
    sliding_window_pattern: F.posInt(),
    use_bidirectional_attention: F.bool(),
  },
  defaults: GEMMA3_DEFAULTS,
  // 4.x: every sliding_window_pattern-th layer (1-based) is full; 5.x writes layer_types.
  plan: (r, n, derive) => {
    if (!derive) r.touch("sliding_window_pattern"); // superseded by layer_types
    return plans.periodic(r, n, derive ? r.req<number>("sliding_window_pattern", "layer_types") : 1);
  },
  rope: { mode: "local-global", defaultTheta: 1e6, defaultLocalTheta: 1e4 },
  extras: (r) => ({
    use_bidirectional_attention: r.req<boolean>("use_bidirectional_attention") ? "all" : null,
  }),
};

const GEMMA3N_DEFAULTS = {
  vocab_size: 262400,
  vocab_size_per_layer_input: 262144,
  hidden_size: 2048,
  hidden_size_per_layer_input: 256,
  intermediate_size: 16384,
  num_hidden_layers: 35,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  head_dim: 256,
  hidden_activation: "gelu_pytorch_tanh",
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
  attention_bias: false,
  sliding_window: 512,
  final_logit_softcapping: 30.0,
  altup_active_idx: 0,
  altup_coef_clip: 120.0,
  altup_correct_scale: true,
  altup_num_inputs: 4,
  num_kv_shared_layers: 15,
  laurel_rank: 64,
  activation_sparsity_pattern: null,
};

export const gemma3n_text: DecoderSpec = {
  ...gemma2,
  modelType: "gemma3n_text",
  family: "gemma3n",
  className: "Gemma3nTextConfig",
  shape: {
    ...GEMMA_SHAPE,
    rope_local_base_freq: F.posNum(),
    vocab_size_per_layer_input: F.posInt(),
    hidden_size_per_layer_input: F.posInt(),
    altup_active_idx: F.nonNegInt(),
    altup_coef_clip: F.posNumOrNull(),
    altup_correct_scale: F.bool(),
    altup_num_inputs: F.posInt(),
    num_kv_shared_layers: F.nonNegInt(),
    laurel_rank: F.posInt(),
    activation_sparsity_pattern: F.numList(),
  },
  defaults: GEMMA3N_DEFAULTS,
  // Gemma3nTextConfig: four sliding layers, then one full.
  plan: (r, n) => plans.periodic(r, n, 5),
  rope: { mode: "local-global", defaultTheta: 1e6, defaultLocalTheta: 1e4 },
  softcaps: true,
  queryPreAttnScalar: false,
  attentionScaleOne: true,
  extras: (r, ctx, core, plan): Extras => {
    const n = core.n;
    let sparsity = r.get<number[] | null>("activation_sparsity_pattern", "gemma3n");
    if (sparsity == null) {
      const sparse = n > 10 ? 10 : 0; // Gemma3nTextConfig default: 0.95 on the first 10 layers
      sparsity = [...Array(sparse).fill(0.95), ...Array(n - sparse).fill(0)];
      r.ledger.defaults.set(r.path("activation_sparsity_pattern"), sparsity);
    }
    if (sparsity.length !== n)
      throw invalidAt(
        ctx,
        r.path("activation_sparsity_pattern"),
        `expected ${n} entries, got ${sparsity.length}`,
      );
    sparsity.forEach((s, i) => {
      if (!(s >= 0 && s < 1))
        throw invalidAt(
          ctx,
          `${r.path("activation_sparsity_pattern")}[${i}]`,
          `expected a value in [0, 1), got ${s}`,
        );
    });
    const altup_num_inputs = r.req<number>("altup_num_inputs", "gemma3n");
    const altup_active_idx = r.req<number>("altup_active_idx", "gemma3n");
    if (altup_active_idx >= altup_num_inputs)
      throw invalidAt(
        ctx,
        r.path("altup_active_idx"),
        `must be less than altup_num_inputs (${altup_num_inputs})`,
      );
    const shared = r.req<number>("num_kv_shared_layers", "gemma3n");
    return {
      gemma3n: {
        altup_num_inputs,
        altup_active_idx,
        altup_coef_clip: r.get<number | null>("altup_coef_clip", "gemma3n") ?? null,
        altup_correct_scale: r.req<boolean>("altup_correct_scale", "gemma3n"),
        laurel_rank: r.req<number>("laurel_rank", "gemma3n"),
        hidden_size_per_layer_input: r.req<number>("hidden_size_per_layer_input", "gemma3n"),
        vocab_size_per_layer_input: r.req<number>("vocab_size_per_layer_input", "gemma3n"),
        num_kv_shared_layers: shared,
        activation_sparsity_pattern: sparsity,
      },
      layer_kv_shared_from: kvSharing(ctx, r.path("num_kv_shared_layers"), plan.layer_types, shared),
    };
  },
};

const GEMMA4_ROPE_DEFAULT: Record<LayerType, Record<string, unknown>> = {
  sliding_attention: { rope_type: "default", rope_theta: 10000.0 },
  full_attention: { rope_type: "proportional", partial_rotary_factor: 0.25, rope_theta: 1000000.0 },
};

export const gemma4_text: DecoderSpec = {
  ...gemma2,
  modelType: "gemma4_text",
  family: "gemma4",
  className: "Gemma4TextConfig",
  shape: {
    ...GEMMA_SHAPE,
    use_bidirectional_attention: F.strOrNull(),
    vocab_size_per_layer_input: F.posInt(),
    hidden_size_per_layer_input: F.nonNegInt(),
    attention_k_eq_v: F.bool(),
    num_kv_shared_layers: F.nonNegInt(),
    enable_moe_block: F.bool(),
    use_double_wide_mlp: F.bool(),
    num_experts: F.posIntOrNull(),
    top_k_experts: F.posIntOrNull(),
    moe_intermediate_size: F.posIntOrNull(),
    expert_intermediate_size: F.posIntOrNull(),
    global_head_dim: F.posIntOrNull(),
    num_global_key_value_heads: F.posIntOrNull(),
  },
  defaults: {
    vocab_size: 262144,
    hidden_size: 2304,
    intermediate_size: 9216,
    num_hidden_layers: 30,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    head_dim: 256,
    hidden_activation: "gelu_pytorch_tanh",
    max_position_embeddings: 131072,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: true,
    attention_bias: false,
    sliding_window: 512,
    final_logit_softcapping: null,
    use_bidirectional_attention: null,
    vocab_size_per_layer_input: 262144,
    hidden_size_per_layer_input: 256,
    attention_k_eq_v: false,
    num_kv_shared_layers: 0,
    enable_moe_block: false,
    use_double_wide_mlp: false,
    num_experts: null,
    top_k_experts: null,
    moe_intermediate_size: null,
    global_head_dim: 512,
    num_global_key_value_heads: null,
  },
  plan: (r, n) => plans.periodic(r, n, 6),
  lastLayerFull: true,
  rope: { mode: "nested", defaultTheta: 1e6, defaultLocalTheta: 1e4, nestedDefault: GEMMA4_ROPE_DEFAULT },
  softcaps: true,
  queryPreAttnScalar: false,
  attentionScaleOne: true,
  perLayerConfig: true,
  extras: (r, ctx, core, plan) => gemma4Extras(r, ctx, core, plan),
  moe: (r, ctx, core) => {
    if (!r.req<boolean>("enable_moe_block", "moe")) {
      r.touch("num_experts");
      r.touch("top_k_experts");
      r.touch("moe_intermediate_size");
      r.touch("expert_intermediate_size");
      return null;
    }
    const need = (k: string): number => {
      const v = r.get<number | null>(k, "moe");
      if (v == null)
        throw invalidAt(ctx, r.path(k), "enable_moe_block is true, so this must be a positive integer");
      return v;
    };
    const width = r.has("expert_intermediate_size") ? "expert_intermediate_size" : "moe_intermediate_size";
    if (width === "expert_intermediate_size") r.touch("moe_intermediate_size");
    return {
      moe: {
        num_experts: need("num_experts"),
        num_experts_per_tok: need("top_k_experts"),
        moe_intermediate_size: need(width),
        n_shared_experts: 0,
        shared_expert_intermediate_size: null,
        norm_topk_prob: true,
        scoring_func: "softmax",
        topk_method: "greedy",
        n_group: null,
        topk_group: null,
        routed_scaling_factor: 1,
        router_bias: false,
        first_k_dense_replace: 0,
        moe_layer_freq: 1,
        decoder_sparse_step: 1,
        mlp_only_layers: [],
      },
      layer_mlp: Array(core.n).fill("dense+moe"),
    };
  },
};

const PER_LAYER_ATTRS = new Set(["head_dim", "num_key_value_heads"]);

function gemma4Extras(
  r: Parameters<NonNullable<DecoderSpec["extras"]>>[0],
  ctx: Parameters<NonNullable<DecoderSpec["extras"]>>[1],
  core: Parameters<NonNullable<DecoderSpec["extras"]>>[2],
  plan: Parameters<NonNullable<DecoderSpec["extras"]>>[3],
): Extras {
  const n = core.n;
  const types = plan.layer_types;
  const kEqV = r.req<boolean>("attention_k_eq_v", "gemma4");
  const plc = r.take<Record<string, Record<string, unknown>> | null>("per_layer_config", "gemma4");
  let globalHead: number | null;
  let globalKv: number | null;
  const heads: number[] = Array(n).fill(core.head_dim);
  const kvs: number[] = Array(n).fill(core.num_key_value_heads);
  if (plc != null && Object.keys(plc).length > 0) {
    // transformers >= 5.15: global_head_dim / num_global_key_value_heads folded into per-layer overrides.
    const kvSet = new Set<number>();
    for (const [k, ov] of Object.entries(plc)) {
      const p = childPath(r.path("per_layer_config"), k);
      const i = Number(k);
      if (!/^\d+$/.test(k) || i >= n) throw invalidAt(ctx, p, `expected a layer index below ${n}`);
      if (ov === null || typeof ov !== "object" || Array.isArray(ov))
        throw invalidAt(ctx, p, "expected an object");
      for (const [a, v] of Object.entries(ov)) {
        if (!PER_LAYER_ATTRS.has(a))
          throw unsupportedAt(ctx, childPath(p, a), `per-layer override of ${a} is not supported`);
        if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
          throw invalidAt(ctx, childPath(p, a), "expected a positive integer");
        if (a === "head_dim") heads[i] = v;
        else {
          kvs[i] = v;
          kvSet.add(i);
        }
      }
    }
    const fullIdx = types.flatMap((t, i) => (t === "full_attention" ? [i] : []));
    const common = (arr: number[]): number | null => {
      const vals = new Set(fullIdx.map((i) => arr[i]));
      return vals.size === 1 ? (vals.values().next().value as number) : null;
    };
    globalHead = common(heads);
    globalKv = kEqV && fullIdx.some((i) => kvSet.has(i)) ? common(kvs) : null;
    r.touch("global_head_dim");
    r.touch("num_global_key_value_heads");
  } else {
    globalHead = r.get<number | null>("global_head_dim", "gemma4") ?? null;
    const g = r.get<number | null>("num_global_key_value_heads", "gemma4") ?? null;
    globalKv = kEqV ? g : null;
    types.forEach((t, i) => {
      if (t !== "full_attention") return;
      if (globalHead) heads[i] = globalHead; // Gemma4TextAttention: global_head_dim when truthy
      if (globalKv !== null) kvs[i] = globalKv;
    });
  }
  const shared = r.req<number>("num_kv_shared_layers", "gemma4");
  const kvFrom = kvSharing(ctx, r.path("num_kv_shared_layers"), types, shared);
  const doubleWide = r.req<boolean>("use_double_wide_mlp", "gemma4");
  const width = r.req<number | number[]>("intermediate_size", "intermediate_size");
  if (Array.isArray(width)) throw invalidAt(ctx, r.path("intermediate_size"), "expected a positive integer");
  // Gemma4TextMLP: KV-shared layers are twice as wide when use_double_wide_mlp.
  const inter = kvFrom.map((from) => (doubleWide && from !== null ? 2 * width : width));
  const bidi = r.get<string | null>("use_bidirectional_attention", "use_bidirectional_attention") ?? null;
  if (bidi !== null && bidi !== "all" && bidi !== "vision")
    throw invalidAt(
      ctx,
      r.path("use_bidirectional_attention"),
      `expected "all", "vision" or null, got "${bidi}"`,
    );
  return {
    gemma4: {
      global_head_dim: globalHead,
      num_global_key_value_heads: globalKv,
      attention_k_eq_v: kEqV,
      use_double_wide_mlp: doubleWide,
      enable_moe_block: r.req<boolean>("enable_moe_block", "gemma4"),
      hidden_size_per_layer_input: r.req<number>("hidden_size_per_layer_input", "gemma4"),
      vocab_size_per_layer_input: r.req<number>("vocab_size_per_layer_input", "gemma4"),
      num_kv_shared_layers: shared,
    },
    layer_head_dim: heads,
    layer_num_key_value_heads: kvs,
    layer_kv_shared_from: kvFrom,
    intermediate_size: inter,
    use_bidirectional_attention: bidi as "all" | "vision" | null,
  };
}
