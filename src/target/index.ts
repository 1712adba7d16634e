/**
 * Stage `target`: consumes a target description (a built-in name or a JSON file, optionally
 * extending another, plus command-line overrides) and produces a validated `Target`: the file's
 * hardware facts, values derived from them once, a fingerprint every artifact carries, and each
 * value's provenance. The schema is exported as zod and as JSON Schema. See docs/targets.md.
 */

export { type DerivedTarget, deriveTarget, type EngineFeed, type PortDerived } from "./derive.js";
export { DERIVED_FORMULAS, formulaFor } from "./derive-formulas.js";
export { formatFingerprint, hardwareContent, targetHash } from "./fingerprint.js";
export { formatPath, type PathSeg, parsePath } from "./json-path.js";
export {
  type LoadOptions,
  listBuiltinTargets,
  loadTarget,
  locateTarget,
  type Target,
  targetFromJson,
  targetFromText,
} from "./load.js";
export { parseOverride, type TargetOverride, type TargetOverrides } from "./overrides.js";
export type { Provenance, ProvenanceKind } from "./provenance.js";
export { renderFieldReference } from "./reference.js";
export { builtinTargetsDir } from "./resolve.js";
export {
  type CvoFunction,
  type DataMoverChannel,
  type Port,
  TARGET_FORMAT,
  type TargetFile,
  type TargetFileInput,
  TargetFileSchema,
  targetJsonSchema,
} from "./schema.js";
