/**
 * Block builders shared by the architecture plugins: norms, attention (GQA, fused or separate
 * q/k/v, biases, q/k/v norms, RoPE per layer type, sliding windows, softcap, sinks, KV sharing),
 * gated and plain MLPs, MoE (per-expert or stacked experts, shared experts), embeddings and the LM
 * head, and the llama-like decoder skeleton. They consume a TextConfig through a `BlockCtx` and
 * append weights (HF names) and ops to a GraphBuilder. API documented in docs/resolver.md.
 */
export type { AttentionSpec, HeadNorm, QkvLayout } from "./attention.js";
export { attentionBlock, defaultAttentionScale, layerMask } from "./attention.js";
export type { BlockCtx, WeightOpts } from "./context.js";
export {
  blockCtx,
  builderBug,
  checkpointDtype,
  declare,
  joinName,
  setCheckpointDtype,
  unsupportedValue,
  weightDtypeOfTorch,
} from "./context.js";
export type { LlamaLikeOptions } from "./decoder.js";
export { buildLlamaLike, buildLlamaLikeModel, residual } from "./decoder.js";
export type { EmbeddingSpec, HeadSpec } from "./embed.js";
export { lmHead, positionEmbedding, tokenEmbedding } from "./embed.js";
export type { GatedMlpSpec, MlpRoles, PlainMlpSpec } from "./mlp.js";
export { actFnOf, gatedMlp, plainMlp } from "./mlp.js";
export type { ExpertLayout, MoeSpec, SharedExperts } from "./moe.js";
export { moeBlock } from "./moe.js";
export type { NormSpec } from "./norm.js";
export { norm } from "./norm.js";
export type { RopeChoice } from "./rope.js";
export { layerRope, layerTypeOf, ropeSpecOf } from "./rope.js";
