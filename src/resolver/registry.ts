/**
 * The architecture plugin registry: an explicit list of the built-in plugins (no directory scan),
 * plugins given with `--plugin` placed in front so they override a built-in for the same family,
 * lookup by family / model_type, and the explanation of an unsupported architecture (nearest
 * supported families by edit distance on model_type and architectures, plus a family hint).
 */
import { type Diagnostic, invalidInput, unsupported } from "../diag/index.js";
import type { Family } from "../parser/config/index.js";
import type { ArchitecturePlugin } from "./plugin.js";
import { gpt2Plugin } from "./plugins/gpt2.js";
import { PLUGINS_B } from "./plugins/index-b.js";
import { llamaPlugin } from "./plugins/llama.js";
import { mistralPlugin } from "./plugins/mistral.js";
import { mixtralPlugin } from "./plugins/mixtral.js";
import { phi3Plugin } from "./plugins/phi3.js";
import { qwen2Plugin } from "./plugins/qwen2.js";
import { qwen3Plugin } from "./plugins/qwen3.js";
import { qwen3MoePlugin } from "./plugins/qwen3_moe.js";

/** The built-in plugins, in a fixed order (lookup takes the first match). */
export const BUILTIN_PLUGINS: readonly ArchitecturePlugin[] = [
  llamaPlugin,
  mistralPlugin,
  mixtralPlugin,
  qwen2Plugin,
  qwen3Plugin,
  qwen3MoePlugin,
  phi3Plugin,
  gpt2Plugin,
  // Gemma 2/3/3n/4, DeepSeek V2/V3, gpt-oss (src/resolver/plugins/index-b.ts).
  ...PLUGINS_B,
];

/** Checks the shape of a plugin object (one loaded with `--plugin` may be anything). */
export function checkPlugin(p: unknown, origin: string): ArchitecturePlugin {
  const o = p as Partial<ArchitecturePlugin> | null;
  const problems: string[] = [];
  if (typeof o !== "object" || o === null) problems.push("it is not an object");
  else {
    if (typeof o.id !== "string" || o.id === "") problems.push("`id` must be a non-empty string");
    if (!Array.isArray(o.families) || !o.families.every((f) => typeof f === "string"))
      problems.push("`families` must be an array of family names");
    if (typeof o.summary !== "string") problems.push("`summary` must be a string");
    if (!Array.isArray(o.reads)) problems.push("`reads` must be an array of TextConfig field names");
    if (typeof o.build !== "function") problems.push("`build(cfg, builder)` must be a function");
  }
  if (problems.length > 0) {
    throw invalidInput("resolver/bad-plugin", `${origin} does not export a valid architecture plugin`, {
      notes: problems,
      fix: "export an ArchitecturePlugin (src/resolver/plugin.ts; see docs/plugins.md)",
    });
  }
  return o as ArchitecturePlugin;
}

/** Extra plugins first (they override), then the built-ins. */
export function pluginList(extra: readonly ArchitecturePlugin[] = []): readonly ArchitecturePlugin[] {
  return [...extra.map((p, i) => checkPlugin(p, `plugin #${i + 1}`)), ...BUILTIN_PLUGINS];
}

export interface ArchitectureQuery {
  /** TextConfig.family when the config parsed. */
  readonly family?: Family | string;
  /** model_type of the config (top-level or text). */
  readonly modelType: string;
  readonly architectures?: readonly string[];
  /** File named in the error message. */
  readonly file?: string;
}

/** Finds the plugin for a family (or, for plugins outside the parser's families, a model_type). */
export function findPlugin(
  q: ArchitectureQuery,
  plugins: readonly ArchitecturePlugin[] = BUILTIN_PLUGINS,
): ArchitecturePlugin | undefined {
  return (
    plugins.find((p) => q.family !== undefined && (p.families as readonly string[]).includes(q.family)) ??
    plugins.find((p) => p.id === q.modelType || (p.families as readonly string[]).includes(q.modelType))
  );
}

/** The plugin for `q`, or `resolver/unsupported-architecture` (exit 3) with the nearest families. */
export function lookupArchitecture(
  q: ArchitectureQuery,
  plugins: readonly ArchitecturePlugin[] = BUILTIN_PLUGINS,
): ArchitecturePlugin {
  const p = findPlugin(q, plugins);
  if (p) return p;
  const d = explainUnsupported(q, plugins);
  throw unsupported(d.code, d.message, {
    ...(d.at ? { at: d.at } : {}),
    ...(d.notes ? { notes: d.notes } : {}),
    ...(d.fix ? { fix: d.fix } : {}),
  });
}

/**
 * Known architectures pccxc does not build and the supported families they most resemble (from
 * their transformers modeling code): data used only to explain an unsupported architecture. Keys are
 * model_type values or lower-cased architecture stems.
 */
export interface ArchitectureHint {
  /** Supported families to start a plugin from, best first. */
  readonly like: readonly string[];
  /** Why, in a few words. */
  readonly why: string;
}

export const UNSUPPORTED_HINTS: Readonly<Record<string, ArchitectureHint>> = {
  olmo: { like: ["llama"], why: "OLMo is a Llama-style decoder with non-parametric LayerNorm" },
  olmo2: {
    like: ["llama", "qwen3"],
    why: "OLMo 2 is a Llama-style decoder with q/k RMSNorm and norms after attention and MLP",
  },
  olmoe: { like: ["qwen3_moe", "mixtral"], why: "OLMoE is a sparse MoE decoder with q/k norms" },
  qwen2_moe: {
    like: ["qwen3_moe", "qwen2"],
    why: "Qwen2-MoE is Qwen2 attention with routed experts plus a sigmoid-gated shared expert",
  },
  qwen3_next: { like: ["qwen3_moe"], why: "Qwen3-Next mixes gated DeltaNet linear attention with MoE" },
  phimoe: { like: ["mixtral", "phi3"], why: "PhiMoE is Mixtral-style MoE with LongRoPE" },
  phi: { like: ["gpt2", "phi3"], why: "Phi-1/2 use LayerNorm, parallel attention+MLP and partial rotary" },
  gemma: { like: ["gemma2", "llama"], why: "Gemma 1 is Gemma 2 without softcaps and sliding windows" },
  granite: {
    like: ["llama"],
    why: "Granite is Llama with embedding, residual, attention and logit multipliers",
  },
  granitemoe: { like: ["mixtral"], why: "GraniteMoE is Mixtral-style MoE with Granite's multipliers" },
  cohere: { like: ["llama"], why: "Command-R uses parallel attention+MLP with LayerNorm and logit scaling" },
  cohere2: { like: ["llama", "gemma2"], why: "Command-R7B interleaves sliding and global layers" },
  internlm2: { like: ["llama"], why: "InternLM2 is Llama with a fused wqkv tensor" },
  stablelm: { like: ["llama", "phi3"], why: "StableLM uses LayerNorm and partial rotary" },
  starcoder2: { like: ["mistral"], why: "StarCoder2 is a sliding-window decoder with biases and LayerNorm" },
  gpt_neox: { like: ["gpt2", "phi3"], why: "GPT-NeoX has fused qkv, partial rotary and parallel residual" },
  gptj: { like: ["gpt2"], why: "GPT-J has interleaved partial rotary and parallel attention+MLP" },
  gpt_bigcode: { like: ["gpt2"], why: "StarCoder (GPT-BigCode) is GPT-2 with multi-query attention" },
  falcon: { like: ["gpt2", "llama"], why: "Falcon uses fused multi-query qkv and parallel attention+MLP" },
  bloom: { like: ["gpt2"], why: "BLOOM is GPT-2-like with ALiBi instead of positions" },
  opt: { like: ["gpt2"], why: "OPT is a GPT-2-like decoder with learned (offset) positions and ReLU" },
  mpt: { like: ["gpt2"], why: "MPT is a GPT-2-like decoder with ALiBi" },
  llama4: { like: ["llama", "mixtral"], why: "Llama 4 mixes chunked attention, NoPE layers and MoE" },
  mistral3: { like: ["mistral"], why: "Mistral 3 wraps a Mistral text model with a vision tower" },
  ministral: { like: ["mistral"], why: "Ministral is Mistral with interleaved sliding windows" },
  exaone: { like: ["llama"], why: "EXAONE is a Llama-style decoder with different tensor names" },
  smollm3: { like: ["llama"], why: "SmolLM3 is Llama with NoPE on some layers" },
  glm: { like: ["llama", "phi3"], why: "GLM uses fused qkv/gate_up tensors and partial interleaved rotary" },
  glm4: { like: ["llama", "phi3"], why: "GLM-4 uses fused gate_up, partial rotary and extra post-norms" },
  chatglm: { like: ["phi3"], why: "ChatGLM uses fused qkv with bias and partial rotary" },
  minicpm: { like: ["llama"], why: "MiniCPM is Llama with scaled embeddings, residuals and logits" },
  baichuan: { like: ["llama", "phi3"], why: "Baichuan is Llama with a fused W_pack qkv tensor" },
  deepseek: {
    like: ["mixtral", "qwen3_moe"],
    why: "DeepSeek-MoE v1 is MoE with shared experts and standard attention",
  },
  mamba: { like: [], why: "Mamba is a state-space model, not an attention decoder" },
  mamba2: { like: [], why: "Mamba-2 is a state-space model, not an attention decoder" },
  bert: { like: [], why: "BERT is an encoder (bidirectional), not a causal decoder" },
  t5: { like: [], why: "T5 is an encoder-decoder model" },
};

/** Levenshtein distance (insert, delete, substitute all cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** "Olmo2ForCausalLM" → "olmo2"; "GPT2LMHeadModel" → "gpt2". */
export function architectureStem(arch: string): string {
  return arch
    .replace(/(ForCausalLM|ForConditionalGeneration|LMHeadModel|ForSequenceClassification|Model)$/u, "")
    .toLowerCase();
}

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/gu, "");

/**
 * Supported families ranked by closeness to `q`: the hinted families first (a table of known
 * architectures and what they resemble), then by edit distance of the model_type and the
 * architecture stems to each family name (separators ignored).
 */
export function nearestFamilies(
  q: ArchitectureQuery,
  plugins: readonly ArchitecturePlugin[] = BUILTIN_PLUGINS,
  count = 3,
): { families: string[]; hint?: string } {
  const supported: string[] = [...new Set(plugins.flatMap((p) => [...p.families]))];
  const names = [q.modelType, ...(q.architectures ?? []).map(architectureStem)].map(squash).filter(Boolean);
  const hint =
    UNSUPPORTED_HINTS[q.modelType] ??
    (q.architectures ?? []).map((a) => UNSUPPORTED_HINTS[architectureStem(a)]).find((h) => h !== undefined);
  const hinted = (hint?.like ?? []).filter((f) => supported.includes(f));
  const dist = (f: string) => Math.min(...names.map((n) => editDistance(n, squash(f))));
  const byName = supported
    .filter((f) => !hinted.includes(f))
    .sort((a, b) => dist(a) - dist(b) || (a < b ? -1 : 1));
  const families = [...hinted, ...byName].slice(0, Math.max(count, hinted.length));
  return hint ? { families, hint: hint.why } : { families };
}

/** The diagnostic of an architecture no plugin builds (also usable before parsing a config). */
export function explainUnsupported(
  q: ArchitectureQuery,
  plugins: readonly ArchitecturePlugin[] = BUILTIN_PLUGINS,
): Diagnostic {
  const { families, hint } = nearestFamilies(q, plugins);
  const archs = q.architectures?.length ? ` (${q.architectures.join(", ")})` : "";
  const why = hint ?? "closest names";
  return {
    code: "resolver/unsupported-architecture",
    severity: "error",
    message: `${q.modelType}${archs} is not supported; nearest: ${families.join(", ")} (${why}); write an architecture plugin (docs/plugins.md)`,
    ...(q.file ? { at: { file: q.file, jsonPath: "$.model_type" } } : {}),
    notes: [`supported families: ${[...new Set(plugins.flatMap((p) => [...p.families]))].sort().join(", ")}`],
    fix: `write an ArchitecturePlugin for ${q.modelType} (start from the ${families[0] ?? "llama"} plugin, docs/plugins.md) and load it with --plugin`,
  };
}
