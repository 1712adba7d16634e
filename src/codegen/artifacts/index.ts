/**
 * Stage `codegen/artifacts`: consumes a `Program` (src/codegen/program.ts) and produces its files —
 * program.json (schema-versioned, with a zod schema and a validating reader), program.bin (a
 * fixed-record binary container for the C driver, with a validating reader), program.memh (NPU
 * words for the RTL testbenches), program.lst (annotated listing), trace-index.json (model ↔ step
 * traceability) — and the export for the pccx bring-up tools. Layouts: docs/artifacts.md.
 */

export type { BinReadOptions } from "./bin-container.js";
export { H as BIN_HEADER, MAGIC as BIN_MAGIC, SECTIONS as BIN_SECTIONS } from "./bin-layout.js";
export { parseProgramBin, readProgramBin } from "./bin-read.js";
export { encodeProgramBin, fingerprintHash } from "./bin-write.js";
export { type Problem, programProblems, type RelocTarget, relocTarget } from "./check.js";
export { crc32 } from "./crc32.js";
export { type ProgramFile, parseProgramJson, type ReadOptions, readProgramJson } from "./json-read.js";
export {
  PROGRAM_JSON_KIND,
  PROGRAM_JSON_SCHEMA_VERSION,
  type ProgramJson,
  ProgramJsonSchema,
  programJsonSchema,
} from "./json-schema.js";
export { programJson, programJsonText, renderProgramJson } from "./json-write.js";
export { formatReloc, listingText, renderProgramListing } from "./listing.js";
export { memhText, renderProgramMemh, selectWords, type WordSelection } from "./memh.js";
export {
  type ExportedFiles,
  type ExportFilesOptions,
  exportPccxProgramFiles,
  memhPathFor,
  PCCX_PROGRAM_KIND,
  type PccxExport,
  type PccxExportOptions,
  rawFields,
  renderPccxProgram,
} from "./pccx-export.js";
export {
  formatStepRef,
  parseStepRef,
  renderTraceIndexJson,
  type StepRef,
  type TraceIndex,
  traceIndex,
} from "./trace.js";
export {
  type ArtifactOptions,
  cvoExtensionsOf,
  defaultWordSegments,
  type InstructionRef,
  type ProgramView,
  viewProgram,
} from "./view.js";
export {
  type ArtifactSink,
  PROGRAM_ARTIFACTS,
  type ProgramArtifactName,
  renderProgramArtifacts,
  type WrittenArtifact,
  writeProgramArtifacts,
} from "./write.js";
