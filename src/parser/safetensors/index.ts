/**
 * safetensors: consumes a model directory (or an explicit file/index) and produces a TensorIndex,
 * every tensor's dtype, shape, file and absolute data offset, validated header by header, with
 * lazy float32 access by rows in bounded memory. Also a streaming writer for synthetic checkpoints.
 */
export { decodeToF32 } from "./decode.js";
export { readRowsDequant, SCALE_SUFFIX, scaleTensorName } from "./dequant.js";
export { DTYPE_NAMES, DTYPES, type DType, type DTypeInfo, dtypeInfo, isDecodable, isDType } from "./dtype.js";
export { readSafetensorsHeader } from "./file.js";
export { numel, type RowGeometry, rowGeometry } from "./geometry.js";
export {
  type HeaderTensor,
  MAX_HEADER_BYTES,
  parseHeaderBody,
  parseSafetensorsBytes,
  readHeaderLength,
  type SafetensorsHeader,
} from "./header.js";
export { MAX_READ_BYTES } from "./io.js";
export { type OpenIndexOptions, openTensorIndex } from "./load.js";
export {
  type DTypeTotal,
  dtypeTotals,
  groupTensors,
  naturalCompare,
  sortedEntries,
  type TensorGroup,
  tensorPattern,
} from "./summary.js";
export {
  DEFAULT_CHUNK_BYTES,
  type RowChunk,
  STAGING_BYTES,
  type StreamOptions,
  type TensorEntry,
  TensorIndex,
  type TensorIndexOptions,
} from "./tensor-index.js";
export {
  findWeights,
  INDEX_FILE,
  noWeightsError,
  type ParsedWeightIndex,
  parseWeightIndexText,
  readWeightIndex,
  SINGLE_FILE,
  type WeightLookup,
  type WeightSet,
  weightSetFromFile,
} from "./weights.js";
export {
  buildHeader,
  encodeBf16,
  encodeF32,
  spanOf,
  type TensorToWrite,
  type WriteChunk,
  type WrittenFile,
  writeSafetensors,
} from "./writer.js";
