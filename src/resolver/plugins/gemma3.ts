/**
 * Gemma 3 (`gemma3_text`, and the language model of the multimodal `gemma3` wrapper): the Gemma 2
 * decoder plus per-head q_norm/k_norm (`x̂·(1+w)`), RoPE per layer type (`rope_local_base_freq` on
 * sliding layers; `rope_theta` and `rope_scaling`, e.g. the 4B's linear ×8, on global layers),
 * `layer_types` for the sliding/global pattern, and no attention softcap. The vision tower of the
 * wrapper is not part of the text graph.
 * Source: huggingface/transformers `models/gemma3/modeling_gemma3.py` (Gemma3Attention,
 * Gemma3TextScaledWordEmbedding, Gemma3ForConditionalGeneration._checkpoint_conversion_mapping).
 */
import type { TextConfig } from "../../parser/config/index.js";
import type { GraphBuilder } from "../graph/index.js";
import type { ArchitecturePlugin } from "../plugin.js";
import { blockCtx } from "./common/index.js";
import { gemmaNames } from "./gemma-common.js";
import { buildGemma2Like, GEMMA2_READS } from "./gemma2.js";

export const gemma3Plugin: ArchitecturePlugin = {
  id: "gemma3",
  families: ["gemma3"],
  summary:
    "Gemma 3 (text, and the language model of the multimodal wrapper): Gemma 2 decoder with q/k norms, local/global RoPE bases, layer_types",
  reads: [...GEMMA2_READS, "model_type"],
  build(cfg: TextConfig, b: GraphBuilder): void {
    const ctx = blockCtx(cfg, b);
    // Text-only checkpoints (gemma-3-1b: Gemma3ForCausalLM) store `model.layers.N…`; the multimodal
    // ones (gemma-3-4b and up) `language_model.model.layers.N…`. Without a registered format the
    // text-only layout is assumed, since the TextConfig alone cannot tell them apart.
    const names = gemmaNames(ctx, "language_model.model", false);
    buildGemma2Like(ctx, names, { qkNorm: true });
  },
};
