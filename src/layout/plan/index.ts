/**
 * The layout planner: config-only plan (role policy, overrides, folds, L2 budget, KV), the exact
 * DDR map from codegen's segments, capacity checks with computed advice. docs/layout.md §2–5.
 */
export { type AllocRequest, type AllocResult, alignUp, allocateRegions, requireInCapacity } from "./alloc.js";
export { estimateFit } from "./estimate.js";
export { type FinalizeOptions, finalizeLayout } from "./finalize.js";
export { computeFit, type FitInputs, throwIfNotFit } from "./fit.js";
export { type FoldCandidate, foldableNorms } from "./fold.js";
export { formatBytes, summaryLine } from "./format.js";
export { type KvDtype, type KvGeometry, kvGeometry, planKvFrom, ringBytes, ringSlots } from "./kv.js";
export { applyOverrides, globToRegExp, parseLayoutOverride } from "./overrides.js";
export { categoryOf, kvRegionName, OFF_DDR_REGION, placeTensors, streamRegionName } from "./place.js";
export {
  DEFAULT_ALIGNMENT,
  DEFAULT_INT4_EMBEDDING_MIN,
  DEFAULT_L2_VECTOR_MAX,
  layoutMachine,
  planLayout,
} from "./plan.js";
export { decidePolicy, ROLE_POLICY, type RoleRule } from "./policy.js";
export { checkSegments, segmentContentKey } from "./segments.js";
export {
  groupsPerRowOf,
  padBeat,
  policyBytes,
  streamBytesEstimate,
  type TileShape,
  tableBytes,
  tableRowStride,
  tileBytes,
  tileScaleBytes,
} from "./sizes.js";
export { type SimpleTilingOptions, simpleTiling } from "./tiling.js";
export { elementsOf, matrixDims, type WeightUsage, weightUsage } from "./usage.js";
