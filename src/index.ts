/**
 * pccxc as a library: the whole pipeline (`compile`, `plan`, `batch`), each stage's entry point for
 * programs that drive stages themselves, the schemas of every file format pccxc reads or writes,
 * and the diagnostics types. The CLI (`src/cli`) is a thin layer over exactly these functions.
 * docs/architecture.md maps each export to its stage.
 */

export {
  ProgramJsonSchema,
  programJsonSchema,
  readProgramJson,
  writeProgramArtifacts,
} from "./codegen/artifacts/index.js";
export { type CodegenResult, codegen, verifyProgram } from "./codegen/index.js";
export type { Program, Step } from "./codegen/program.js";
// Diagnostics and logging
export {
  type Diagnostic,
  DiagnosticSink,
  ExitCode,
  formatDiagnostic,
  isPccxError,
  PccxError,
} from "./diag/index.js";
export { type Logger, MemoryLogger, type Progress, silentLogger } from "./diag/log.js";
export {
  type FeatureLedger,
  type FeaturePlugin,
  LedgerSchema,
  ledgerJsonSchema,
  runFeatures,
} from "./features/index.js";
export {
  finalizeLayout,
  type LayoutPlan,
  planLayout,
  type WeightPlan,
  writeWeightImage,
} from "./layout/index.js";
// Stage entry points, in pipeline order
export { type ModelSource, openModel, type ParsedConfig, parseConfigText } from "./parser/index.js";
export {
  BaselineFileSchema,
  type BudgetFile,
  BudgetFileSchema,
  budgetJsonSchema,
} from "./pipeline/budget.js";
// The pipeline
export {
  type BatchMode,
  type BatchModelResult,
  type BatchOptions,
  type BatchResult,
  baselineOf,
  batch,
  type CompileOptions,
  type CompileResult,
  type CompileSummary,
  compile,
  DEFAULT_CONTEXTS,
  FUNCTIONAL_PARAM_LIMIT,
  type PlanOptions,
  type PlanResult,
  type PlanTarget,
  plan,
  renderPlan,
  renderSummary,
  STAGE_NAMES,
  STAGES,
  type Stage,
  type StageName,
} from "./pipeline/index.js";
export { MANIFEST_FORMAT, type Manifest } from "./pipeline/manifest.js";
export { loadPlugins } from "./plugins/index.js";
export { graphJsonSchema, graphToJson, type ModelGraph, resolve } from "./resolver/index.js";
export { generateDriver, writeDriver } from "./stubs/index.js";
// Targets
export {
  listBuiltinTargets,
  loadTarget,
  type Target,
  TargetFileSchema,
  targetJsonSchema,
} from "./target/index.js";
export { golden, goldenGenerate } from "./validate/golden/index.js";
export { compareToGolden, runFunctional, simulateGeneration } from "./validate/sim/index.js";
export { runTiming } from "./validate/timing/index.js";
export { VERSION } from "./version.js";
