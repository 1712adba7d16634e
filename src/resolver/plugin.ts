/**
 * The architecture plugin contract: a plugin declares which text model types it handles and the
 * TextConfig fields it reads, and builds the ModelGraph of one config with a GraphBuilder. Plugins
 * are registered in an explicit list (src/resolver/registry.ts) or loaded with `--plugin`; a loaded
 * one may also teach the config parser new model types (`modelTypes`, docs/plugins.md).
 */
import type { Family, PluginModelType, TextConfig } from "../parser/config/index.js";
import type { GraphBuilder } from "./graph/index.js";

export interface ArchitecturePlugin {
  /** Stable id, e.g. "llama". */
  readonly id: string;
  /** Families (TextConfig.family) this plugin builds. */
  readonly families: readonly Family[];
  /** One-line description for docs and `inspect`. */
  readonly summary: string;
  /** TextConfig fields this plugin consumes (for the ledger's consumed-keys accounting). */
  readonly reads: readonly string[];
  /** Builds the graph of `cfg` into `b` (weights with HF names, ops in per-token order). */
  build(cfg: TextConfig, b: GraphBuilder): void;
  /**
   * Model types the config parser does not know, each read like its `base` family (docs/plugins.md,
   * "A new model type"); their family is the model_type, which `families` must list. Only plugins
   * loaded with `--plugin` use it: the loader (src/plugins) checks each declaration and hands them
   * to the parser (`LoadedPlugins.modelTypes`); resolve() itself ignores it.
   */
  readonly modelTypes?: readonly PluginModelType[];
}
