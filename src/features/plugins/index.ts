/**
 * The built-in feature plugins as an explicit, ordered list (no directory scan): the order is the
 * order of the ledger's entries. Plugins loaded with `--plugin` run after these.
 */
import type { FeaturePlugin } from "../types.js";
import { attentionScale, attentionSinks, gqa, slidingWindow, softcap } from "./attention.js";
import { bidirectional, kEqV, kvSharing, mla } from "./attention-variants.js";
import { altup, laurel, perLayerEmbeddings } from "./gemma3n.js";
import { activation, activationSparsity, clampedSwiglu } from "./mlp.js";
import {
  contextLength,
  dimensions,
  embeddingScale,
  inertKeys,
  multiTokenPrediction,
  quantization,
  tiedEmbeddings,
} from "./model.js";
import { moeExperts, moeRouting } from "./moe.js";
import { biases, norm, qkNorm } from "./norm.js";
import { partialRotary, rope } from "./rope.js";

export const BUILTIN_FEATURES: readonly FeaturePlugin[] = [
  dimensions,
  contextLength,
  quantization,
  tiedEmbeddings,
  embeddingScale,
  norm,
  qkNorm,
  biases,
  attentionScale,
  gqa,
  slidingWindow,
  rope,
  partialRotary,
  softcap,
  attentionSinks,
  kvSharing,
  kEqV,
  bidirectional,
  mla,
  activation,
  clampedSwiglu,
  activationSparsity,
  moeRouting,
  moeExperts,
  perLayerEmbeddings,
  altup,
  laurel,
  multiTokenPrediction,
  inertKeys,
];
