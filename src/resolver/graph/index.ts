/**
 * The ModelGraph IR: the typed, serialisable description of one model's per-token computation that
 * architecture plugins produce (config → GraphBuilder → ModelGraph) and that features, layout,
 * codegen, the simulators and the golden reference consume. Consumes nothing but plain data;
 * produces graphs, diagnostics, listings, JSON and statistics. Semantics: docs/graph.md.
 */
export type { EmitOptions, OpFields, WeightInit } from "./builder.js";
export { GraphBuilder } from "./builder.js";
export type { GraphJson } from "./json.js";
export {
  GRAPH_FORMAT,
  GRAPH_SCHEMA_VERSION,
  graphFromJson,
  graphFromJsonText,
  graphJsonSchema,
  graphToJson,
} from "./json.js";
export type {
  ActFn,
  ActivationOp,
  AddOp,
  AltupCorrectOp,
  AltupPredictOp,
  AttentionKv,
  AttentionOp,
  EmbeddingOp,
  ExpertMatrix,
  ExpertVector,
  GaussianTopkOp,
  GluAct,
  GluOp,
  LayerNormOp,
  LinearOp,
  MagnitudeMatchOp,
  MaskSpec,
  MeanOp,
  MlaAttentionOp,
  MoeExpertsOp,
  MoeRouteOp,
  MulOp,
  MulWeightOp,
  Op,
  OpKind,
  OpOf,
  PositionEmbeddingOp,
  RmsNormOp,
  RopeOp,
  ScaleOp,
  SliceOp,
  SoftcapOp,
} from "./ops.js";
export { ACT_FNS, expertMatrixView, expertVectorView, OP_KINDS, opInputs } from "./ops.js";
export { printGraph, printOp } from "./print.js";
export type {
  DefaultRope,
  DynamicRope,
  LinearRope,
  Llama3Rope,
  LongRope,
  ProportionalRope,
  RopeSpec,
  RopeType,
  YarnRope,
} from "./rope.js";
export {
  ropeAttentionFactor,
  ropeDependsOnLength,
  ropeInvFreq,
  yarnCorrectionRange,
  yarnGetMscale,
} from "./rope.js";
export type { CacheShape, CheckContext, OutSpec } from "./signature.js";
export { checkOp, opWeightRefs } from "./signature.js";
export { erf, erfc, normalCdf, normalIcdf } from "./special.js";
export type { LayerSummary, ParamCount } from "./stats.js";
export { countParams, layerSummary, storedTensors } from "./stats.js";
export type {
  Dim,
  GraphIndex,
  GraphMeta,
  MatrixView,
  ModelGraph,
  Slice,
  ValueDecl,
  ValueId,
  VectorView,
  WeightDecl,
  WeightDType,
  WeightId,
  WeightRole,
} from "./types.js";
export { indexGraph, sliceEnd, valueWidth, WEIGHT_DTYPES, WEIGHT_ROLES } from "./types.js";
export { verifyGraph } from "./verify.js";
