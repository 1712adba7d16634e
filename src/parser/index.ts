/**
 * parser: consumes a model reference (a local directory, a config.json, or a Hugging Face repo id
 * resolved through the hub cache or downloaded) and produces a ModelSource: its origin, the parsed
 * config.json and generation_config.json, and a lazily read, validated TensorIndex over its
 * safetensors weights. Nothing here loads a whole checkpoint: memory does not grow with model size.
 */
export * from "./config/index.js";
export { type ModelSource, type OpenModelOptions, openModel } from "./model.js";
export * from "./safetensors/index.js";
export * from "./source/index.js";
