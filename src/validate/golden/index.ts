/**
 * The golden reference: executes a ModelGraph in plain float64, op by op, from weights supplied by
 * a WeightReader (in memory, a safetensors row source, later the dequantized INT4 image). Consumes
 * a graph, weights and token ids; produces logits per position (prefill) and per decode step, and
 * the greedily chosen tokens. It knows nothing of pccx: it is the numerical reference the
 * simulators and the C driver are compared against. Conventions: docs/golden.md.
 */
export { altupCorrect, altupPredict, magnitudeMatch } from "./altup.js";
export type { HeadAttention, KvCache, MlaCache } from "./attention.js";
export { attendHead, isVisible, kvHeadOf, runAttention, runMlaAttention } from "./attention.js";
export { GoldenModel, GoldenSession } from "./executor.js";
export type { GoldenRun } from "./generate.js";
export { golden, goldenForced, goldenGenerate, recomputeLast } from "./generate.js";
export {
  activate,
  gaussianTopk,
  gluElement,
  layerNorm,
  rmsNorm,
  ropeRotate,
  sigmoid,
  softcap,
  softmax,
} from "./kernels.js";
export type { RouteParams } from "./moe.js";
export { route, runExpert, runExperts, topIndices } from "./moe.js";
export type { Mat } from "./tensor.js";
export { argmax, matVec, rowOf, zeros } from "./tensor.js";
export type { RowSource, WeightReader, WeightTensor } from "./weights.js";
export {
  checkpointReader,
  LoadedWeights,
  MemoryWeights,
  rowSourceReader,
  type TensorTable,
} from "./weights.js";
