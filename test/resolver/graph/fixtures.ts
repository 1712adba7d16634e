/**
 * Small hand-built graphs in the style of each family (Llama, Gemma 2, GPT-2, DeepSeek MoE and MLA,
 * gpt-oss, Gemma 3n/4), with real HF tensor names and dimensions shrunk, plus seeded synthetic
 * weights. Shared by the graph tests and the golden-reference tests.
 */
import type { ModelGraph } from "../../../src/resolver/graph/index.js";
import { gemma2Graph, gpt2Graph, llamaGraph } from "./fixtures-dense.js";
import { gemmaNGraph } from "./fixtures-gemman.js";
import { gptOssGraph, mlaGraph, moeGraph } from "./fixtures-sparse.js";

export { H, randomWeights, rng, V } from "./fixture-kit.js";
export { gemma2Graph, gemmaNGraph, gpt2Graph, gptOssGraph, llamaGraph, mlaGraph, moeGraph };

export const ALL_FIXTURES: Readonly<Record<string, () => ModelGraph>> = {
  llama: llamaGraph,
  gemma2: gemma2Graph,
  moe: moeGraph,
  gptOss: gptOssGraph,
  mla: mlaGraph,
  gemmaN: gemmaNGraph,
  gpt2: gpt2Graph,
};
