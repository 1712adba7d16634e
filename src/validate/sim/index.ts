/**
 * The functional simulator: the executable definition of docs/program.md.
 *
 * Consumes: a Program (the command stream codegen produces), the weight image (initial bytes of
 * the image-backed DDR regions), a Target (every size, limit and numeric choice) and the segment
 * runs with their per-token variables.
 * Produces: faults on every contract violation (as values, or thrown with `throwOnFault`), the DDR
 * values read back after each run (logits), and execution counters; `simulateGeneration` drives a
 * whole greedy generation and `compareToGolden` measures it against the golden reference.
 * See docs/simulator.md.
 */
export { compareStep, compareToGolden, type GoldenComparison, type StepComparison } from "./compare.js";
export { CVO_INTENTS, type CvoFunctionImpl, cvoFunctions } from "./cvo.js";
export { decodeTile, decodeTileInto } from "./dequant.js";
export { FaultLog, formatFault, SimFault } from "./faults.js";
export { type CompiledFormula, compileFormula, FORMULA_VARS } from "./formula.js";
export {
  argmax,
  driverVariables,
  type GenerationOptions,
  type KvGeometry,
  type PromptRun,
  promptRuns,
  ringSlot,
  type SimulatedRun,
  simulateGeneration,
} from "./generate.js";
export { RowView } from "./host-io.js";
export { act, HOST_OPS, type HostCall, type HostImpl } from "./host-ops.js";
export { BROADCAST_INPUTS, perRowInputCount, perRowInputs } from "./host-rows.js";
export { imageWeightReader, untie } from "./image-weights.js";
export { FunctionalMachine } from "./machine.js";
export { bf16Round, type NumericModel, numericModel, quantizeBlockExponent } from "./numeric.js";
export {
  formatOpErrors,
  type OpErrorOptions,
  type OpErrorRow,
  type OpErrorTrace,
  opErrorTrace,
} from "./op-error.js";
export {
  decodeManifestTensor,
  EMPTY_IMAGE,
  imageFromBytes,
  imageFromManifest,
  imageFromRegions,
  runFunctional,
} from "./run.js";
export {
  BEAT_BYTES,
  BEAT_CODES,
  packTile,
  splitRows,
  type TileFormat,
  type TileLayout,
  tileLayout,
} from "./tile.js";
export {
  EXACT_PARTS,
  type ExactPart,
  FAULT_KINDS,
  type Fault,
  type FaultKind,
  type FunctionalInputs,
  type FunctionalResult,
  type NumericMode,
  type RegionRead,
  type SegmentRun,
  type SimOptions,
  type SimStats,
  type WeightImage,
} from "./types.js";
