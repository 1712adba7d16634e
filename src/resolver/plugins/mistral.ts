/**
 * Mistral: Llama's structure with an optional sliding window. The parser turns `sliding_window`
 * into `layer_types` (v0.1: 4096 on every layer; v0.3: null, all causal), and the attention block
 * derives each layer's mask from them. transformers `models/mistral/modeling_mistral.py`.
 */
import type { ArchitecturePlugin } from "../plugin.js";
import { buildLlamaLikeModel } from "./common/index.js";
import { LLAMA_LIKE_READS } from "./llama.js";

export const mistralPlugin: ArchitecturePlugin = {
  id: "mistral",
  families: ["mistral"],
  summary: "Mistral 7B: Llama structure, sliding-window attention where sliding_window is set",
  reads: LLAMA_LIKE_READS,
  build(cfg, b) {
    buildLlamaLikeModel(cfg, b);
  },
};
