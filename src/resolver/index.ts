/**
 * Resolver stage. Consumes a `ParsedConfig` (its normalised `TextConfig`, src/parser/config) and
 * produces the `ModelGraph` of the language model: an architecture plugin, picked from an explicit
 * registry (plugins given with --plugin first), declares every weight by its HF tensor name and
 * appends the per-token ops with shared block builders; the graph is verified before it leaves.
 * docs/resolver.md (this stage), docs/graph.md (the IR).
 */
export * from "./graph/index.js";
export type { ArchitecturePlugin } from "./plugin.js";
export * from "./plugins/common/index.js";
export { gpt2Plugin } from "./plugins/gpt2.js";
export * from "./plugins/index-b.js";
export { LLAMA_LIKE_READS, llamaPlugin } from "./plugins/llama.js";
export { mistralPlugin } from "./plugins/mistral.js";
export { mixtralPlugin } from "./plugins/mixtral.js";
export { phi3Plugin } from "./plugins/phi3.js";
export { qwen2Plugin } from "./plugins/qwen2.js";
export { QWEN3_QK_NORMS, qwen3Plugin } from "./plugins/qwen3.js";
export { qwen3MoePlugin } from "./plugins/qwen3_moe.js";
export type { ArchitectureHint, ArchitectureQuery } from "./registry.js";
export {
  architectureStem,
  BUILTIN_PLUGINS,
  checkPlugin,
  editDistance,
  explainUnsupported,
  findPlugin,
  lookupArchitecture,
  nearestFamilies,
  pluginList,
  UNSUPPORTED_HINTS,
} from "./registry.js";
export type { ResolveOptions, ResolveResult } from "./resolve.js";
export { primedBuilder, resolve } from "./resolve.js";
