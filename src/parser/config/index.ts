/**
 * Parser stage, config side. Consumes the text of a Hugging Face `config.json` (transformers
 * 4.x or 5.x serialisation) and of `generation_config.json`; produces a `ParsedConfig` whose
 * `text: TextConfig` is the one normalised language-model description the resolver builds the
 * graph from, with every key accounted for (consumed / non-semantic / unknown), every class
 * default recorded, and the quantization config decoded. docs/parser-config.md
 */
export { CONFIG_ERROR_CODES } from "./errors.js";
export { parseGenerationConfigText } from "./generation.js";
export { childPath, type PathSegment } from "./json-text.js";
export { NON_SEMANTIC_KEYS } from "./keys.js";
export { type ParseOptions, parseConfigObject, parseConfigText } from "./parse.js";
export {
  type ConfigProblem,
  type ConfigSchema,
  checkModelTypeSpec,
  type PluginModelType,
  type SchemaIssue,
} from "./plugin-types.js";
export { requireSupportedQuantization } from "./quantization.js";
export { SUPPORTED_MODEL_TYPES, TOWER_CONFIGS, TOWER_KEYS } from "./registry.js";
export type {
  Activation,
  Family,
  Gemma3nExtras,
  Gemma4Extras,
  GenerationConfig,
  Gpt2Extras,
  GptOssExtras,
  LayerMlp,
  LayerType,
  MlaConfig,
  MoeConfig,
  ParsedConfig,
  QuantizationConfig,
  QuantMethod,
  RopeParams,
  SpecialTokens,
  SubConfigSeen,
  TextConfig,
} from "./types.js";
