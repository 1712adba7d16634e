/**
 * The weight image writer: validates the checkpoint against the plan, quantizes every streamed
 * tile and INT4 table from safetensors rows on the worker pool, writes the unquantized vectors, and
 * produces weights.bin + weights.json atomically. docs/layout.md §6–8.
 */
export { type JobRows, TensorReader } from "./extract.js";
export {
  buildManifest,
  type ManifestQuant,
  type ManifestSegment,
  type ManifestTensor,
  WEIGHTS_FORMAT,
  WEIGHTS_VERSION,
  type WeightManifest,
} from "./manifest.js";
export { firstNonFinite } from "./nonfinite.js";
export { buildPieces, jobsOf, type Piece } from "./pieces.js";
export { findSource, type SourceTensor, storedGeometry, type WeightSource } from "./source.js";
export { type PieceFormat, pieceWriter } from "./tile.js";
export { throwOnCheckpointErrors, validateCheckpoint, validatePlanSources } from "./validate.js";
export { type WeightImageResult, type WriteImageOptions, writeWeightImage } from "./writer.js";
