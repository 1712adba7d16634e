/**
 * Stage `codegen`: consumes a ModelGraph, the layout plan (tensor formats and placements, KV
 * format and ring sizes) and a target, and produces the pccx program (docs/program.md): segments
 * of NPU / DMA / host / wait steps with relocations, variables, allocations and DDR regions (the
 * program's own and the KV rings, as region requests for finalizeLayout), plus
 * the weight tiles each port streams (StreamSegment[], for finalizeLayout and the image writer) and
 * the other contents of the image. Passes: lower → allocate-l2 → allocate-const → schedule → waits
 * → encode → verify (docs/codegen.md).
 */
export { foldedNorms } from "./analysis.js";
export { type CodegenResult, type CodegenState, codegen, type Pass, PIPELINE } from "./codegen.js";
export {
  HOST_FUNCTIONS,
  type HostFnSpec,
  hostFunction,
  hostStepProblems,
  setsVariable,
  variableEffects,
  variablesRead,
  variablesSet,
} from "./host-ops/index.js";
export { type Machine, machineOf } from "./machine.js";
export type { CodegenOptions } from "./options.js";
export type { RopeTable } from "./registry.js";
export { type CodegenStats, dmaBytesAt, kvBytesAt, type SegmentStats } from "./stats.js";
export { kvTileGeometry, portRows, tileBytes } from "./tiles.js";
export { originOf, type StepRef, stepsForTensor } from "./trace.js";
export { type VerifyOptions, verifyProgram } from "./verify/index.js";
