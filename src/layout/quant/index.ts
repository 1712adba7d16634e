/**
 * INT4 weight quantization (layout stage, part 1).
 *
 * Consumes: a weight matrix W [N output features, K input features] as row blocks (float32 rows
 * from the safetensors reader, raw BF16 bits, or pre-quantized FP8 E4M3 block-scaled / MXFP4 rows)
 * and a QuantScheme (scale group, scale dtype, optional clipping search).
 * Produces: INT4 codes packed two per byte (low nibble = even input index), the stored scales, and
 * streaming error statistics (RMSE, max abs error, SNR, cosine) that merge exactly across blocks and
 * worker threads. The layout planner orders these bytes into the weight image; the simulator uses
 * the dequantizer. See docs/layout-quant.md.
 */
export { CLIP_RATIOS, groupSquaredError, searchScale } from "./clip.js";
export { ExactSum } from "./exact-sum.js";
export { checkFp8ScaleShape, dequantFp8Rows, FP8_DEFAULT_BLOCK, type Fp8Rows } from "./fp8.js";
export { type QuantizedRows, quantizeF32Rows, type RowOrigin } from "./kernel.js";
export { dequantMxfp4Rows, FP4_VALUES, MXFP4_BLOCK, type Mxfp4Rows, mxfp4Shape } from "./mxfp4.js";
export {
  BEAT_BYTES,
  beatElement,
  beatRowBytes,
  beatValue,
  CODES_PER_BEAT,
  dequantizeInt4,
  packBeats,
  packInt4,
  unpackBeats,
  unpackInt4,
} from "./pack.js";
export { defaultThreads, QuantPool, workerEntry } from "./pool.js";
export { decodeScales, encodeScales, f16Bits, roundHalfEven, roundScale } from "./rounding.js";
export {
  DEFAULT_SCHEME,
  groupLength,
  groupsPerRow,
  packedRowBytes,
  QMAX,
  type QuantScheme,
  resolveScheme,
  SCALE_DTYPES,
  SCALE_GROUPS,
  type ScaleDtype,
  type ScaleGroup,
  type SchemeInput,
  scaleBytes,
} from "./scheme.js";
export { type Bf16Block, blockRows, type Fp8Block, type Mxfp4Block, type RowBlock } from "./source.js";
export { type ErrorSummary, QuantStats, type QuantStatsData, type RowSums, summaryToJson } from "./stats.js";
export {
  type QuantChunk,
  type QuantizedTensor,
  type QuantizeOptions,
  quantizeRows,
  quantizeTensor,
} from "./stream.js";
