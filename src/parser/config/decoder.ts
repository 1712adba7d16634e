/**
 * The generic normaliser for decoder-only families that use Hugging Face key names. A family is
 * a `DecoderSpec`: its keys (zod shape), its transformers class defaults, and a few hooks for
 * what differs (layer-type rules, RoPE layout, MoE, MLA, extras). GPT-2 has its own normaliser.
 */
import type { ErrCtx } from "./errors.js";
import { invalidAt, unsupportedAt } from "./errors.js";
import type { Shape } from "./fields.js";
import type { KeyReader } from "./keys.js";
import { type RopeOptions, readRope } from "./rope.js";
import type {
  Activation,
  Family,
  Gemma3nExtras,
  Gemma4Extras,
  GptOssExtras,
  LayerMlp,
  LayerType,
  MlaConfig,
  MoeConfig,
  TextConfig,
} from "./types.js";

const ACTIVATIONS: Readonly<Record<string, Activation>> = {
  silu: "silu",
  swish: "silu",
  gelu: "gelu",
  gelu_new: "gelu_tanh",
  gelu_pytorch_tanh: "gelu_tanh",
  gelu_fast: "gelu_tanh",
  relu: "relu",
  quick_gelu: "quick_gelu",
};

/** What a family hook may read and return. */
export interface Core {
  readonly n: number;
  readonly hidden_size: number;
  readonly num_attention_heads: number;
  readonly num_key_value_heads: number;
  readonly head_dim: number;
  readonly max_position_embeddings: number;
}

export interface LayerPlan {
  readonly layer_types: readonly LayerType[];
  readonly sliding_window: number | null;
}

export interface DecoderSpec {
  readonly modelType: string;
  readonly family: Family;
  /** transformers class and where its defaults were checked (docs/parser-config.md). */
  readonly className: string;
  readonly shape: Shape;
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Keys a top-level (non-sparse) config must contain. */
  readonly required: readonly string[];
  /** Activation keys, first present wins (Gemma: hidden_activation, then legacy hidden_act). */
  readonly actKeys: readonly string[];
  /** Layer types (derived; used when the file has no layer_types, `derive` false otherwise) and window. */
  plan(r: KeyReader, n: number, derive: boolean): LayerPlan;
  readonly rope: Omit<RopeOptions, "layerTypes" | "maxPositionEmbeddings" | "headDim" | "mlaRopeDim">;
  /** "keys": attention_bias / mlp_bias keys; "qwen2": q/k/v biased, o not, no keys. */
  readonly bias: "keys" | "qwen2";
  /** Head dim: the head_dim key (null → hidden/heads) or MLA's q/k head dim. */
  readonly headDim?: "key" | "mla";
  readonly softcaps?: boolean;
  readonly queryPreAttnScalar?: boolean;
  readonly attentionScaleOne?: boolean;
  readonly ropeInterleave?: (r: KeyReader) => boolean;
  /** Gemma4TextConfig forces the last layer to full_attention (with a warning); so do we. */
  readonly lastLayerFull?: boolean;
  /** The family reads per_layer_config (transformers >= 5.15); elsewhere a non-empty one is rejected. */
  readonly perLayerConfig?: boolean;
  moe?(r: KeyReader, ctx: ErrCtx, core: Core, intermediate: readonly number[]): MoePlan | null;
  mla?(r: KeyReader, ctx: ErrCtx): MlaConfig;
  extras?(r: KeyReader, ctx: ErrCtx, core: Core, plan: LayerPlan): Extras;
}

export interface MoePlan {
  readonly moe: MoeConfig;
  readonly layer_mlp: readonly LayerMlp[];
}

/** Family extras and per-layer overrides. */
export interface Extras {
  readonly gemma3n?: Gemma3nExtras;
  readonly gemma4?: Gemma4Extras;
  readonly gpt_oss?: GptOssExtras;
  readonly layer_head_dim?: readonly number[];
  readonly layer_num_key_value_heads?: readonly number[];
  readonly layer_kv_shared_from?: readonly (number | null)[];
  readonly intermediate_size?: readonly number[];
  readonly use_bidirectional_attention?: "all" | "vision" | null;
  readonly num_nextn_predict_layers?: number;
}

export function normalizeDecoder(spec: DecoderSpec, r: KeyReader, ctx: ErrCtx): TextConfig {
  const n = r.req<number>("num_hidden_layers", "num_hidden_layers");
  const hidden_size = r.req<number>("hidden_size", "hidden_size");
  const heads = r.req<number>("num_attention_heads", "num_attention_heads");
  const kv = r.get<number | null>("num_key_value_heads", "num_key_value_heads") ?? heads;
  const mla = spec.mla?.(r, ctx) ?? null;
  const head_dim = mla ? mla.qk_head_dim : headDimOf(r, ctx, hidden_size, heads);
  const max_position_embeddings = r.req<number>("max_position_embeddings", "max_position_embeddings");
  const core: Core = {
    n,
    hidden_size,
    num_attention_heads: heads,
    num_key_value_heads: kv,
    head_dim,
    max_position_embeddings,
  };

  const plc = r.take<Record<string, unknown> | null>("per_layer_config");
  if (!spec.perLayerConfig && plc != null && Object.keys(plc).length > 0)
    throw unsupportedAt(
      ctx,
      r.path("per_layer_config"),
      `per-layer overrides are not supported for ${spec.modelType}`,
    );
  let plan = layerPlan(spec, r, ctx, n);
  if (spec.lastLayerFull && plan.layer_types[n - 1] !== "full_attention")
    plan = { ...plan, layer_types: [...plan.layer_types.slice(0, -1), "full_attention"] };
  let intermediate: readonly number[] = expandIntermediate(r, ctx, n);
  const moePlan = spec.moe?.(r, ctx, core, intermediate) ?? null;
  const ex = spec.extras?.(r, ctx, core, plan) ?? {};
  intermediate = ex.intermediate_size ?? intermediate;
  const layerHead = ex.layer_head_dim ?? Array(n).fill(head_dim);

  const rope = readRope(r, ctx, {
    ...spec.rope,
    layerTypes: plan.layer_types,
    maxPositionEmbeddings: max_position_embeddings,
    headDim: (lt) => layerHead[plan.layer_types.indexOf(lt)] ?? head_dim,
    ...(mla ? { mlaRopeDim: mla.qk_rope_head_dim } : {}),
  });
  const act = readActivation(spec, r, ctx);
  const attention_bias =
    "attention_bias" in spec.shape ? (r.get<boolean>("attention_bias", "attention_bias") ?? false) : false;
  const mlp_bias = "mlp_bias" in spec.shape ? (r.get<boolean>("mlp_bias", "mlp_bias") ?? false) : false;

  return {
    model_type: spec.modelType,
    family: spec.family,
    key_naming: "hf",
    hidden_size,
    num_hidden_layers: n,
    num_attention_heads: heads,
    num_key_value_heads: kv,
    head_dim,
    intermediate_size: intermediate,
    vocab_size: r.req<number>("vocab_size", "vocab_size"),
    max_position_embeddings,
    hidden_act: act.act,
    hidden_act_name: act.name,
    norm_type: "rmsnorm",
    norm_eps: r.req<number>("rms_norm_eps", "norm_eps"),
    tie_word_embeddings: r.req<boolean>("tie_word_embeddings", "tie_word_embeddings"),
    attention_bias,
    attention_qkv_bias: spec.bias === "qwen2" ? true : attention_bias,
    attention_out_bias: attention_bias,
    mlp_bias,
    layer_types: plan.layer_types,
    sliding_window: plan.sliding_window,
    position_embedding: "rope",
    rope,
    rope_interleave: spec.ropeInterleave?.(r) ?? false,
    attn_logit_softcapping: spec.softcaps
      ? (r.get<number | null>("attn_logit_softcapping", "attn_logit_softcapping") ?? null)
      : null,
    final_logit_softcapping: spec.softcaps
      ? (r.get<number | null>("final_logit_softcapping", "final_logit_softcapping") ?? null)
      : null,
    query_pre_attn_scalar: spec.queryPreAttnScalar
      ? (r.get<number | null>("query_pre_attn_scalar", "query_pre_attn_scalar") ?? null)
      : null,
    attention_scale_one: spec.attentionScaleOne ?? false,
    use_bidirectional_attention: ex.use_bidirectional_attention ?? null,
    layer_head_dim: layerHead,
    layer_num_key_value_heads: ex.layer_num_key_value_heads ?? Array(n).fill(kv),
    layer_kv_shared_from: ex.layer_kv_shared_from ?? Array(n).fill(null),
    layer_mlp: moePlan?.layer_mlp ?? Array(n).fill("dense"),
    num_nextn_predict_layers: ex.num_nextn_predict_layers ?? 0,
    moe: moePlan?.moe ?? null,
    mla,
    gemma3n: ex.gemma3n ?? null,
    gemma4: ex.gemma4 ?? null,
    gpt_oss: ex.gpt_oss ?? null,
    gpt2: null,
  };
}

function headDimOf(r: KeyReader, ctx: ErrCtx, hidden: number, heads: number): number {
  const explicit = r.get<number | null>("head_dim", "head_dim");
  if (explicit != null) return explicit;
  if (hidden % heads !== 0) {
    throw invalidAt(
      ctx,
      r.path("hidden_size"),
      `hidden_size (${hidden}) must be divisible by num_attention_heads (${heads}) when head_dim is not given`,
      "set head_dim, or correct hidden_size / num_attention_heads",
    );
  }
  return hidden / heads;
}

export function expandIntermediate(
  r: KeyReader,
  ctx: ErrCtx,
  n: number,
  key = "intermediate_size",
): number[] {
  const v = r.req<number | number[]>(key, "intermediate_size");
  if (!Array.isArray(v)) return Array(n).fill(v);
  if (v.length !== n)
    throw invalidAt(
      ctx,
      r.path(key),
      `expected one entry per layer (num_hidden_layers = ${n}), got ${v.length}`,
    );
  return [...v];
}

function readActivation(spec: DecoderSpec, r: KeyReader, ctx: ErrCtx): { act: Activation; name: string } {
  const key = spec.actKeys.find((k) => r.has(k)) ?? spec.actKeys[0];
  if (key === undefined) throw new Error(`internal: ${spec.modelType} has no activation key`);
  for (const k of spec.actKeys) if (k !== key) r.touch(k); // legacy spellings: read, superseded
  const name = r.req<string>(key, "hidden_act");
  const act = Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
  if (!act) {
    throw unsupportedAt(
      ctx,
      r.path(key),
      `activation "${name}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(", ")})`,
    );
  }
  return { act, name };
}

export function readActivationName(name: string): Activation | undefined {
  return Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
}

const VALID_LAYER_TYPES: readonly string[] = ["full_attention", "sliding_attention"];

function layerPlan(spec: DecoderSpec, r: KeyReader, ctx: ErrCtx, n: number): LayerPlan {
  const explicit = r.take<unknown>("layer_types", "layer_types");
  const derived = spec.plan(r, n, explicit == null);
  if (explicit == null) return derived;
  const list = explicit as string[];
  if (list.length !== n)
    throw invalidAt(
      ctx,
      r.path("layer_types"),
      `expected ${n} entries (num_hidden_layers), got ${list.length}`,
    );
  list.forEach((t, i) => {
    if (!VALID_LAYER_TYPES.includes(t))
      throw unsupportedAt(
        ctx,
        `${r.path("layer_types")}[${i}]`,
        `layer type "${t}" is not supported (supported: ${VALID_LAYER_TYPES.join(", ")})`,
      );
  });
  return { layer_types: list as LayerType[], sliding_window: derived.sliding_window };
}

/** Plan helpers for the common rules. */
export const plans = {
  allFull: (n: number): LayerPlan => ({ layer_types: Array(n).fill("full_attention"), sliding_window: null }),
  /** Mistral, Mixtral, Phi-3: a non-null sliding_window applies to every layer. */
  windowEverywhere(r: KeyReader, n: number): LayerPlan {
    const w = r.get<number | null>("sliding_window", "sliding_window") ?? null;
    return {
      layer_types: Array(n).fill(w === null ? "full_attention" : "sliding_attention"),
      sliding_window: w,
    };
  },
  /** Qwen 2/3: sliding only with use_sliding_window, from layer max_window_layers on. */
  qwen(r: KeyReader, n: number): LayerPlan {
    const use = r.req<boolean>("use_sliding_window", "sliding_window");
    const w0 = r.get<number | null>("sliding_window", "sliding_window") ?? null;
    const from = r.req<number>("max_window_layers", "layer_types");
    const w = use ? w0 : null;
    const types = Array.from(
      { length: n },
      (_, i): LayerType => (w !== null && i >= from ? "sliding_attention" : "full_attention"),
    );
    return { layer_types: types, sliding_window: w };
  },
  /** Every `period`-th layer (1-based) is full, the others slide (Gemma 3/3n/4, gpt-oss, Gemma 2). */
  periodic(r: KeyReader, n: number, period: number): LayerPlan {
    const w = r.get<number | null>("sliding_window", "sliding_window") ?? null;
    const types = Array.from(
      { length: n },
      (_, i): LayerType => ((i + 1) % period === 0 ? "full_attention" : "sliding_attention"),
    );
    return { layer_types: types, sliding_window: w };
  },
};

/** Gemma 3n / 4 KV sharing: the last `shared` layers read the cache of the last earlier layer of their type. */
export function kvSharing(
  ctx: ErrCtx,
  path: string,
  types: readonly LayerType[],
  shared: number,
): (number | null)[] {
  const n = types.length;
  if (shared < 0 || shared >= n)
    throw invalidAt(ctx, path, `num_kv_shared_layers (${shared}) must be less than num_hidden_layers (${n})`);
  const first = n - shared;
  return types.map((t, i) => {
    if (!(i >= first && first > 0)) return null;
    const j = types.lastIndexOf(t, first - 1);
    if (j < 0)
      throw invalidAt(
        ctx,
        path,
        `layer ${i} (${t}) shares KV but no earlier layer of type ${t} exists before layer ${first}`,
      );
    return j;
  });
}
