/**
 * Mixtral: Mistral's attention with a sparse MoE in place of the MLP on every layer
 * (MixtralSparseMoeBlock): router `block_sparse_moe.gate` → softmax → top-k (2) → weights
 * renormalised to sum 1 → experts `block_sparse_moe.experts.N.{w1 (gate), w3 (up), w2 (down)}`,
 * each down(silu(w1·x) · w3·x). transformers `models/mixtral/modeling_mixtral.py`.
 */
import type { ArchitecturePlugin } from "../plugin.js";
import { blockCtx, buildLlamaLike, joinName, moeBlock } from "./common/index.js";
import { LLAMA_LIKE_READS } from "./llama.js";

export const mixtralPlugin: ArchitecturePlugin = {
  id: "mixtral",
  families: ["mixtral"],
  summary: "Mixtral: Mistral attention, sparse MoE (softmax top-k, renormalised) with w1/w3/w2 experts",
  reads: [...LLAMA_LIKE_READS, "moe", "layer_mlp"],
  build(cfg, b) {
    const ctx = blockCtx(cfg, b);
    buildLlamaLike(ctx, {
      mlp: (h, l, p) => {
        const moe = joinName(p, "block_sparse_moe");
        return moeBlock(ctx, {
          layer: l,
          input: h,
          router: joinName(moe, "gate", "weight"),
          experts: { kind: "per_expert", prefix: joinName(moe, "experts"), gate: "w1", up: "w3", down: "w2" },
          scoring: "softmax",
          // MixtralSparseMoeBlock always divides the top-k weights by their sum.
          normalize: true,
        });
      },
    });
  },
};
