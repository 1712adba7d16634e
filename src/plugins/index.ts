/**
 * Plugin loading (`--plugin <path|package>`, repeatable). Consumes module specs and a working
 * directory; produces the architecture plugins (for resolve(), tried before the built-ins), the
 * model types they declare (for the config parser) and the feature plugins (for runFeatures(),
 * merged with the built-ins by featureList). docs/plugins.md
 *
 * The two plugin contracts are re-exported here for plugin authors: `ArchitecturePlugin`
 * (src/resolver/plugin.ts, with its optional `modelTypes`) and `FeaturePlugin` (src/features).
 */
export type { FeaturePlugin } from "../features/index.js";
export type { PluginModelType } from "../parser/config/index.js";
export type { ArchitecturePlugin } from "../resolver/plugin.js";
export {
  checkPluginModule,
  collect,
  featureList,
  type LoadedPlugin,
  type LoadedPlugins,
  loadPlugins,
} from "./load.js";
export { isPathSpec, resolvePluginSpec } from "./resolve-spec.js";
