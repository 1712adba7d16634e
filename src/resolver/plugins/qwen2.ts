/**
 * Qwen2 / Qwen2.5: Llama's structure with biases on q/k/v (never on o) although the config has no
 * key for them (Qwen2Attention builds q_proj/k_proj/v_proj with bias=True and o_proj with
 * bias=False; the parser derives attention_qkv_bias = true, attention_out_bias = false). Sliding
 * layers (use_sliding_window, max_window_layers) come from layer_types.
 * transformers `models/qwen2/modeling_qwen2.py`.
 */
import type { ArchitecturePlugin } from "../plugin.js";
import { buildLlamaLikeModel } from "./common/index.js";
import { LLAMA_LIKE_READS } from "./llama.js";

export const qwen2Plugin: ArchitecturePlugin = {
  id: "qwen2",
  families: ["qwen2"],
  summary: "Qwen2/2.5: Llama structure with implicit q/k/v biases (none on o)",
  reads: LLAMA_LIKE_READS,
  build(cfg, b) {
    // Qwen2 always has q/k/v biases and never an o bias, whatever the config says.
    buildLlamaLikeModel(cfg, b, { attention: () => ({ qkvBias: true, oBias: false }) });
  },
};
