/**
 * Plugin loading (`--plugin <path|package>`, repeatable). Consumes module specs and a working
 * directory; produces the architecture plugins (for resolve(), tried before the built-ins) and the
 * feature plugins (for runFeatures(), merged with the built-ins by featureList). docs/plugins.md
 */
export {
  checkPluginModule,
  collect,
  featureList,
  type LoadedPlugin,
  type LoadedPlugins,
  loadPlugins,
} from "./load.js";
export { isPathSpec, resolvePluginSpec } from "./resolve-spec.js";
