/**
 * Report content (docs/report-format.md). Consumes what the stages produced — graph meta, feature
 * ledger, layout summary, program, timing simulation, functional validation (any of them may be
 * missing: "not run") — and produces the Report (report.json, schema-versioned, with its zod
 * schema) and the readable files rendered from it by the writers of src/validate/report:
 * report.md, report.html (with the SVG roofline and per-layer chart), layers.csv, trace.json and
 * trace.pccx.
 */
export {
  buildReport,
  detailRun,
  type FunctionalSummary,
  programSection,
  type ReportInputs,
} from "./build.js";
export { CHART_FILES, layerRowsOf, NOT_RUN, reportDoc } from "./doc.js";
export {
  pccxArchOf,
  REPORT_JSON,
  type ReportFileOptions,
  renderReport,
  reportJsonText,
  writeReportFiles,
} from "./files.js";
export { type CompiledDir, OUT_FILES, readCompiledDir, readWeightImage } from "./outdir.js";
export {
  REPORT_KIND,
  REPORT_SCHEMA_VERSION,
  type Report,
  type ReportLayer,
  ReportSchema,
  type ReportTiming,
  reportJsonSchema,
  TIME_CATEGORY_KEYS,
} from "./schema.js";
export {
  FUNCTIONAL_PROMPT,
  type FunctionalRunSummary,
  type SimulateOptions,
  type SimulateResult,
  simulateCompiled,
} from "./simulate.js";
