/**
 * Shrinking a real config to a tiny one of the same family. Works on the config JSON itself, so
 * the tiny file keeps the source's key names and serialisation (4.x/5.x, wrapper or not, towers as
 * written); a dimension key absent from a sparse sub-config but defaulted by its class is written
 * explicitly. Rules (docs/features.md "Tiny models"): 4 heads with the source's MHA/GQA/MQA kind,
 * head dim hidden/4, the layer-type pattern kept so a global layer exists, KV sharing kept,
 * windows below the test sequence length, experts reduced with top-k < experts, MLA ranks,
 * AltUp/LAuReL/per-layer-embedding dims scaled down, special token ids moved inside the vocabulary.
 */
import { usageError } from "../diag/index.js";
import type { ParsedConfig, TextConfig } from "../parser/config/index.js";

export interface TinyOptions {
  /** Decoder layers (default: the fewest that keep the family's layer pattern and KV sharing). */
  readonly layers?: number;
  /** Model width (default 64; a multiple of 8). */
  readonly hidden?: number;
  /** Vocabulary size (default 256). */
  readonly vocab?: number;
  /** Sliding window (default 4: below a 6-token prompt + decode, so windows matter in tests). */
  readonly window?: number;
  /** Token ids used outside config.json (generation_config.json), remapped with the config's. */
  readonly extraTokenIds?: readonly number[];
}

export const TINY_DEFAULTS = { hidden: 64, vocab: 256, window: 4, heads: 4 } as const;

/** The tiny dimensions chosen, for the README and tests. */
export interface TinyPlan {
  readonly family: string;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocab: number;
  readonly window: number | null;
  /** Map from the source's special token ids to the tiny ones. */
  readonly tokenMap: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** Resamples a per-layer list to n entries, keeping proportions (entry i ← source ⌊i·L/n⌋). */
export function resample<T>(list: readonly T[], n: number): T[] {
  return Array.from({ length: n }, (_, i) => list[Math.floor((i * list.length) / n)]!);
}

/** The fewest layers that keep a full-attention layer, KV sharing of both types and a dense+MoE mix. */
export function minimumLayers(c: TextConfig): { min: number; why: string } {
  let min = 2;
  let why = "two layers";
  const full = c.layer_types.indexOf("full_attention");
  const slides = c.layer_types.includes("sliding_attention");
  if (slides && full >= 0 && full + 1 > min) {
    min = full + 1;
    why = `the layer pattern's first full-attention layer is layer ${full}`;
  }
  const shared = c.gemma3n?.num_kv_shared_layers ?? c.gemma4?.num_kv_shared_layers ?? 0;
  if (shared > 0 && 2 * (full + 1) > min) {
    min = 2 * (full + 1);
    why = "KV sharing needs a shared range after one whole layer pattern";
  }
  if (c.moe && c.moe.first_k_dense_replace > 0 && min < 2) min = 2;
  return { min, why };
}

/** Layers for the tiny model: at least the minimum; for Gemma 4 the last layer must be full. */
function chooseLayers(c: TextConfig, requested: number | undefined): number {
  const { min, why } = minimumLayers(c);
  const lastFull = (n: number) =>
    c.family !== "gemma4" || c.layer_types[(n - 1) % c.layer_types.length] === "full_attention";
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1)
      throw usageError("tiny/bad-option", `--layers must be a positive integer, got ${requested}`);
    if (requested < min)
      throw usageError(
        "tiny/too-few-layers",
        `--layers ${requested} is too few for ${c.model_type}: ${why} (use at least ${min})`,
      );
    if (requested > c.num_hidden_layers)
      throw usageError(
        "tiny/too-many-layers",
        `--layers ${requested} exceeds the source's ${c.num_hidden_layers} layers`,
      );
    if (!lastFull(requested))
      throw usageError(
        "tiny/too-few-layers",
        `--layers ${requested}: Gemma 4's last layer must be a full-attention layer in the source pattern`,
      );
    return requested;
  }
  let n = Math.min(min, c.num_hidden_layers);
  while (!lastFull(n) && n < c.num_hidden_layers) n++;
  return n;
}

function kvFor(orig: number, heads: number, tinyHeads: number): number {
  if (orig === heads) return tinyHeads;
  if (orig === 1) return 1;
  return 2;
}

const TOKEN_KEY = /(^|_)token_(id|index)$/;

/** Collects special token ids (ints or lists of ints) of keys like eos_token_id, image_token_index. */
function tokenIds(objs: readonly Obj[]): number[] {
  const out = new Set<number>();
  for (const o of objs)
    for (const [k, v] of Object.entries(o)) {
      if (!TOKEN_KEY.test(k)) continue;
      for (const x of Array.isArray(v) ? v : [v])
        if (typeof x === "number" && Number.isInteger(x)) out.add(x);
    }
  return [...out].sort((a, b) => a - b);
}

/** Distinct special ids → the top of the tiny vocabulary (V−1, V−2, … in source id order). */
export function tokenMapping(ids: readonly number[], vocab: number): Map<number, number> {
  if (ids.length >= vocab)
    throw usageError("tiny/bad-option", `--vocab ${vocab} cannot hold the ${ids.length} special token ids`);
  return new Map(ids.map((id, i) => [id, vocab - 1 - i]));
}

function remapTokens(o: Obj, map: ReadonlyMap<number, number>): void {
  for (const [k, v] of Object.entries(o)) {
    if (!TOKEN_KEY.test(k)) continue;
    if (typeof v === "number") o[k] = map.get(v) ?? v;
    else if (Array.isArray(v)) o[k] = v.map((x) => (typeof x === "number" ? (map.get(x) ?? x) : x));
  }
}

/** Writes a key of the language model's config when the source has it or its class defaults it. */
class LmWriter {
  constructor(
    readonly lm: Obj,
    private readonly base: string,
    private readonly parsed: ParsedConfig,
  ) {}
  known(key: string): boolean {
    return Object.hasOwn(this.lm, key) || Object.hasOwn(this.parsed.defaultsApplied, `${this.base}.${key}`);
  }
  set(key: string, value: unknown): void {
    this.lm[key] = value;
  }
  setKnown(key: string, value: unknown): void {
    if (this.known(key)) this.lm[key] = value;
  }
  /** Sets `key` only when present in the file with a non-null value. */
  setPresent(key: string, f: (v: unknown) => unknown): void {
    if (Object.hasOwn(this.lm, key) && this.lm[key] !== null) this.lm[key] = f(this.lm[key]);
  }
  get(key: string): unknown {
    return this.lm[key];
  }
}

/** The shrunk config JSON (a new object) and the plan behind it. */
export function shrinkConfig(parsed: ParsedConfig, opts: TinyOptions = {}): { config: Obj; plan: TinyPlan } {
  const c = parsed.text;
  const config = structuredClone(parsed.raw) as Obj;
  const wrapped = isObj(config.text_config) && parsed.modelType !== c.model_type;
  const lm = wrapped ? (config.text_config as Obj) : config;
  const w = new LmWriter(lm, wrapped ? "$.text_config" : "$", parsed);
  const notes: string[] = [];

  const hidden = opts.hidden ?? TINY_DEFAULTS.hidden;
  const vocab = opts.vocab ?? TINY_DEFAULTS.vocab;
  const window = opts.window ?? TINY_DEFAULTS.window;
  if (!Number.isInteger(hidden) || hidden < 16 || hidden % 8 !== 0)
    throw usageError("tiny/bad-option", `--hidden must be a multiple of 8 and at least 16, got ${hidden}`);
  if (!Number.isInteger(vocab) || vocab < 16)
    throw usageError("tiny/bad-option", `--vocab must be an integer ≥ 16, got ${vocab}`);
  const n = chooseLayers(c, opts.layers);
  const heads = TINY_DEFAULTS.heads;
  const hd = hidden / heads;
  const kv = kvFor(c.num_key_value_heads, c.num_attention_heads, heads);
  // Dense MLP width: 2·hidden, or hidden for the deep patterns (≥ 8 layers) to stay under ~1 MB.
  const inter = n >= 8 ? hidden : 2 * hidden;
  const expertWidth = hidden / 2;
  const L = c.num_hidden_layers;

  if (c.key_naming === "gpt2") {
    w.set("n_embd", hidden);
    w.set("n_layer", n);
    w.set("n_head", heads);
    w.setPresent("n_inner", () => inter);
    w.set("n_positions", 128);
    w.setPresent("n_ctx", () => 128);
    notes.push("n_positions 128 (the learned position table is a weight)");
  } else {
    w.set("hidden_size", hidden);
    w.set("num_hidden_layers", n);
    w.set("num_attention_heads", heads);
    w.setKnown("num_key_value_heads", kv);
    if (!c.mla) w.setKnown("head_dim", hd);
    const dense = (v: unknown) =>
      Array.isArray(v)
        ? resample(v as number[], n).map((x) =>
            Math.max(8, Math.round((inter * x) / Math.max(...(v as number[])))),
          )
        : c.family === "mixtral" || c.family === "gpt_oss"
          ? expertWidth
          : inter;
    w.set("intermediate_size", dense(w.get("intermediate_size") ?? c.intermediate_size[0]));
  }
  w.set("vocab_size", vocab);

  // Attention pattern.
  if (Object.hasOwn(lm, "layer_types") && Array.isArray(lm.layer_types))
    w.set("layer_types", c.layer_types.slice(0, n));
  w.setPresent("sliding_window", (v) => Math.min(v as number, window));
  w.setPresent("max_window_layers", (v) => Math.round(((v as number) * n) / L));
  if (c.query_pre_attn_scalar !== null && (c.family === "gemma2" || c.family === "gemma3"))
    w.setKnown("query_pre_attn_scalar", Math.max(1, Math.round((c.query_pre_attn_scalar * hd) / c.head_dim)));
  shrinkRope(w, hd);

  if (c.gemma3n) shrinkGemma3n(w, c, n, vocab, hidden);
  if (c.gemma4) shrinkGemma4(w, c, n, vocab, hd, kv, notes);
  if (c.moe) shrinkMoe(w, c, n, expertWidth);
  if (c.mla) {
    w.setPresent("q_lora_rank", () => 32);
    w.set("kv_lora_rank", 32);
    w.set("qk_nope_head_dim", 16);
    w.set("qk_rope_head_dim", 8);
    w.set("v_head_dim", 16);
    w.setPresent("head_dim", () => 8);
    w.setPresent("qk_head_dim", () => 24);
  }

  // The checkpoint is written unquantized (BF16/F32): FP8 / MXFP4 storage is not reproduced.
  if (Object.hasOwn(config, "quantization_config")) {
    delete config.quantization_config;
    notes.push("quantization_config removed: the tiny checkpoint stores plain floats");
  }
  const ids = [
    ...new Set([...tokenIds(wrapped ? [config, lm] : [config]), ...(opts.extraTokenIds ?? [])]),
  ].sort((a, b) => a - b);
  const map = tokenMapping(ids, vocab);
  remapTokens(config, map);
  if (wrapped) remapTokens(lm, map);

  return {
    config,
    plan: {
      family: c.family,
      layers: n,
      hidden,
      heads,
      kvHeads: kv,
      headDim: c.mla ? 24 : hd,
      vocab,
      window: c.sliding_window === null ? null : Math.min(c.sliding_window, window),
      tokenMap: Object.fromEntries([...map.entries()].map(([a, b]) => [String(a), b])),
      notes,
    },
  };
}

function shrinkRope(w: LmWriter, hd: number): void {
  // LongRoPE factor lists have one entry per rotary pair: resample to the tiny rotary width.
  for (const key of ["rope_scaling", "rope_parameters"]) {
    const dicts: Obj[] = [];
    const v = w.get(key);
    if (isObj(v)) dicts.push(v, ...Object.values(v).filter(isObj));
    for (const d of dicts) {
      const p = typeof d.partial_rotary_factor === "number" ? d.partial_rotary_factor : 1;
      const pairs = Math.floor(hd * p) / 2;
      for (const f of ["short_factor", "long_factor"])
        if (Array.isArray(d[f])) d[f] = resample(d[f] as number[], Math.floor(pairs));
    }
  }
}

function shrinkGemma3n(w: LmWriter, c: TextConfig, n: number, vocab: number, hidden: number): void {
  const g = c.gemma3n!;
  const full = c.layer_types.indexOf("full_attention");
  w.set("laurel_rank", Math.min(g.laurel_rank, hidden / 8));
  w.set("hidden_size_per_layer_input", Math.min(g.hidden_size_per_layer_input, hidden / 8));
  w.set("vocab_size_per_layer_input", vocab);
  w.set("num_kv_shared_layers", g.num_kv_shared_layers > 0 ? n - (full + 1) : 0);
  w.set("activation_sparsity_pattern", resample(g.activation_sparsity_pattern, n));
}

function shrinkGemma4(
  w: LmWriter,
  c: TextConfig,
  n: number,
  vocab: number,
  hd: number,
  kv: number,
  notes: string[],
): void {
  const g = c.gemma4!;
  const full = c.layer_types.indexOf("full_attention");
  if (g.global_head_dim) w.setKnown("global_head_dim", Math.round((hd * g.global_head_dim) / c.head_dim));
  if (g.num_global_key_value_heads !== null) w.setKnown("num_global_key_value_heads", 1);
  if (g.hidden_size_per_layer_input > 0) {
    w.set("hidden_size_per_layer_input", Math.min(g.hidden_size_per_layer_input, 8));
    w.set("vocab_size_per_layer_input", vocab);
  }
  w.set("num_kv_shared_layers", g.num_kv_shared_layers > 0 ? n - (full + 1) : 0);
  const plc = w.get("per_layer_config");
  if (isObj(plc) && Object.keys(plc).length > 0) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(plc)) {
      if (Number(k) >= n || !isObj(v)) continue;
      const e: Obj = { ...v };
      if (typeof e.head_dim === "number") e.head_dim = Math.round((hd * e.head_dim) / c.head_dim);
      if (typeof e.num_key_value_heads === "number")
        e.num_key_value_heads = e.num_key_value_heads === c.num_key_value_heads ? kv : 1;
      out[k] = e;
    }
    w.set("per_layer_config", out);
    notes.push("per_layer_config entries scaled like head_dim / num_key_value_heads");
  }
}

function shrinkMoe(w: LmWriter, c: TextConfig, n: number, expertWidth: number): void {
  const m = c.moe!;
  const experts = m.n_group && m.n_group > 1 ? 8 : 4;
  const topK = Math.min(m.num_experts_per_tok, 2);
  for (const k of ["num_local_experts", "num_experts", "n_routed_experts"]) w.setPresent(k, () => experts);
  for (const k of ["num_experts_per_tok", "experts_per_token", "top_k_experts"]) w.setPresent(k, () => topK);
  for (const k of ["moe_intermediate_size", "expert_intermediate_size"]) w.setPresent(k, () => expertWidth);
  if (m.n_group && m.n_group > 1) {
    w.set("n_group", 4);
    w.set("topk_group", 2);
  }
  w.setPresent("first_k_dense_replace", (v) => Math.min(v as number, 1));
  w.setPresent("mlp_only_layers", (v) => (v as number[]).filter((l) => l < n));
  w.setPresent("decoder_sparse_step", (v) => Math.min(v as number, n));
}
