/**
 * Qwen3-MoE: Qwen3's attention (q/k norms) and, on layers the config makes sparse
 * (`decoder_sparse_step`, `mlp_only_layers`, resolved by the parser into `layer_mlp`), a sparse
 * MoE block: router `mlp.gate` → softmax → top-k → renormalise iff `norm_topk_prob` → experts
 * `mlp.experts.N.{gate_proj, up_proj, down_proj}`. Dense layers keep the gated MLP of
 * `intermediate_size`. transformers `models/qwen3_moe/modeling_qwen3_moe.py`.
 */
import type { ArchitecturePlugin } from "../plugin.js";
import { blockCtx, buildLlamaLike, gatedMlp, joinName, moeBlock } from "./common/index.js";
import { LLAMA_LIKE_READS } from "./llama.js";
import { QWEN3_QK_NORMS } from "./qwen3.js";

export const qwen3MoePlugin: ArchitecturePlugin = {
  id: "qwen3_moe",
  families: ["qwen3_moe"],
  summary: "Qwen3-MoE: Qwen3 attention, sparse MoE (norm_topk_prob, decoder_sparse_step, mlp_only_layers)",
  reads: [...LLAMA_LIKE_READS, "moe", "layer_mlp"],
  build(cfg, b) {
    const ctx = blockCtx(cfg, b);
    buildLlamaLike(ctx, {
      attention: () => QWEN3_QK_NORMS,
      mlp: (h, l, p) => {
        const prefix = joinName(p, "mlp");
        if (cfg.layer_mlp[l] !== "moe") return gatedMlp(ctx, { layer: l, prefix, input: h });
        return moeBlock(ctx, {
          layer: l,
          input: h,
          router: joinName(prefix, "gate", "weight"),
          experts: {
            kind: "per_expert",
            prefix: joinName(prefix, "experts"),
            gate: "gate_proj",
            up: "up_proj",
            down: "down_proj",
          },
          scoring: "softmax",
          routeKeys: ["moe.num_experts", "moe.num_experts_per_tok", "moe.norm_topk_prob", "layer_mlp"],
        });
      },
    });
  },
};
