/**
 * The Gemma (2, 3, 3n, 4), DeepSeek (V2, V3) and gpt-oss architecture plugins, and the checkpoint
 * format hook they read (the wrapper model_type and quantization_config, which a TextConfig does
 * not carry). Consumes a TextConfig (+ optional CheckpointFormat); produces ModelGraphs.
 * docs/resolver.md, section "Gemma, DeepSeek and gpt-oss plugins".
 */
export type { CheckpointFormat } from "./common-b.js";
export {
  checkpointFormat,
  isQuantCompanion,
  logicalParamCount,
  QUANT_COMPANION,
  roundToDtype,
  setCheckpointFormat,
} from "./common-b.js";
export { deepseekV2Plugin, deepseekV3Plugin } from "./deepseek.js";
export { mlaScale } from "./deepseek-mla.js";
export { deepseekRouting } from "./deepseek-moe.js";
export { gemma2Plugin } from "./gemma2.js";
export { gemma3Plugin } from "./gemma3.js";
export { gemma3nPlugin } from "./gemma3n.js";
export { gemma4Plugin } from "./gemma4.js";
export { gptOssPlugin } from "./gpt_oss.js";

import type { ArchitecturePlugin } from "../plugin.js";
import { deepseekV2Plugin, deepseekV3Plugin } from "./deepseek.js";
import { gemma2Plugin } from "./gemma2.js";
import { gemma3Plugin } from "./gemma3.js";
import { gemma3nPlugin } from "./gemma3n.js";
import { gemma4Plugin } from "./gemma4.js";
import { gptOssPlugin } from "./gpt_oss.js";

/** The plugins of this file, in registry order. */
export const PLUGINS_B: readonly ArchitecturePlugin[] = [
  gemma2Plugin,
  gemma3Plugin,
  gemma3nPlugin,
  gemma4Plugin,
  deepseekV2Plugin,
  deepseekV3Plugin,
  gptOssPlugin,
];
