/**
 * The pipeline: `compile()` runs every stage (parse → resolve → features → layout → codegen →
 * stubs → validate) from a model reference and writes all artifacts atomically with a manifest;
 * `plan()` runs the config-only part for one or several targets and estimates the rates; `batch()`
 * runs either over many models with budgets as gates. Consumes model references and options;
 * produces output directories, summaries and plans. The stages are a list (stages/index.ts):
 * adding one is one line. docs/architecture.md, docs/user-guide.md.
 */
export {
  type BatchMode,
  type BatchModelResult,
  type BatchOptions,
  type BatchResult,
  baselineOf,
  batch,
} from "./batch.js";
export { expandInputs } from "./batch-inputs.js";
export { renderBatchTable } from "./batch-render.js";
export {
  type BaselineFile,
  type BudgetCheck,
  type BudgetFile,
  budgetJsonSchema,
  checkBudget,
  type Figures,
  type Limits,
  limitsFor,
  readBaselineFile,
  readBudgetFile,
} from "./budget.js";
export { type CompileResult, compile } from "./compile.js";
export { renderJunit } from "./junit.js";
export { MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest } from "./manifest.js";
export { DEFAULT_CONTEXTS, type PlanResult, type PlanTarget, type PlanVerdict, plan } from "./plan.js";
export { renderPlan } from "./plan-render.js";
export { makeRunContext, runStages } from "./run.js";
export { DEFAULT_TARGET, NoteLog, parseContexts } from "./settings.js";
export { STAGES, type Stage } from "./stages/index.js";
export { FUNCTIONAL_PARAM_LIMIT, type PerfPoint, type ValidateProduct } from "./stages/validate.js";
export type { PipelineState, RunContext, RunMode } from "./state.js";
export { type CompileSummary, renderSummary } from "./summary.js";
export * from "./types.js";
