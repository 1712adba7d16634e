/**
 * Qwen3: Llama's structure with per-head RMSNorms on q and k (q_norm / k_norm of head_dim,
 * applied after the projection and before RoPE) and no attention bias by default.
 * transformers `models/qwen3/modeling_qwen3.py` (Qwen3Attention: q_norm(q_proj(x).view(…, head_dim))).
 */
import type { ArchitecturePlugin } from "../plugin.js";
import { type AttentionSpec, buildLlamaLikeModel } from "./common/index.js";
import { LLAMA_LIKE_READS } from "./llama.js";

/** Qwen3's q/k norms (also used by qwen3_moe). */
export const QWEN3_QK_NORMS: Pick<AttentionSpec, "qNorm" | "kNorm"> = {
  qNorm: { module: "q_norm" },
  kNorm: { module: "k_norm" },
};

export const qwen3Plugin: ArchitecturePlugin = {
  id: "qwen3",
  families: ["qwen3"],
  summary: "Qwen3 dense: Llama structure with per-head q/k RMSNorm before RoPE",
  reads: LLAMA_LIKE_READS,
  build(cfg, b) {
    buildLlamaLikeModel(cfg, b, { attention: () => QWEN3_QK_NORMS });
  },
};
