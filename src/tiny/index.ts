/**
 * Tiny models (`pccxc dev tiny`). Consumes a real config (file or model directory) and options;
 * produces a model directory of the same family with small dimensions: config.json,
 * model.safetensors (real tensor names and shapes, seeded synthetic weights) and
 * generation_config.json, deterministic byte for byte. docs/features.md "Tiny models".
 */
export { TINY_EXAMPLES, type TinyExample, tinyCommand } from "./examples.js";
export { type GenerateOptions, generateTiny, TINY_FILES, type TinyModel } from "./generate.js";
export { Rng } from "./rng.js";
export {
  minimumLayers,
  resample,
  shrinkConfig,
  TINY_DEFAULTS,
  type TinyOptions,
  type TinyPlan,
  tokenMapping,
} from "./shrink.js";
export { tinyTensors } from "./weights.js";
