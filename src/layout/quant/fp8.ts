/**
 * FP8 E4M3 block-scaled weights (DeepSeek-V3 `quant_method: "fp8"`): `W` is [N, K] F8_E4M3 and
 * `W_scale_inv` is [ceil(N/128), ceil(K/128)] float32; dequant = fp8 × scale_inv of the 128×128
 * block holding the element (deepseek-ai/DeepSeek-V3 inference/kernel.py `weight_dequant_kernel`,
 * used by fp8_cast_bf16.py). Rows are dequantized block by block to float32 (with the safetensors
 * reader's dequantBlocks and F8 table), then requantized to INT4 with the error measured against
 * these dequantized values.
 */
import { invalidInput } from "../../diag/index.js";
import { f8e4m3Lut } from "../../parser/safetensors/decode.js";
import { dequantBlocks } from "../../parser/safetensors/dequant.js";

/** DeepSeek-V3's `quantization_config.weight_block_size`. */
export const FP8_DEFAULT_BLOCK: readonly [number, number] = [128, 128];

export interface Fp8Rows {
  /** rows × k F8_E4M3 bytes: rows firstRow … firstRow+rows−1 of the weight. */
  readonly data: Uint8Array;
  readonly k: number;
  /** Index of data's first row in the whole weight (selects the scale row). */
  readonly firstRow: number;
  /** The whole `*_scale_inv` tensor, [ceil(N/bs0), ceil(K/bs1)] float32 row-major. */
  readonly scaleInv: Float32Array;
  /** [rows, cols] of one scale block; default [128, 128]. */
  readonly blockSize?: readonly [number, number];
  readonly tensor?: string;
}

/** Dequantize a block of FP8 rows to float32 (into `out` when given, which must hold rows × k). */
export function dequantFp8Rows(src: Fp8Rows, out?: Float32Array): Float32Array {
  const { data, k, firstRow, scaleInv } = src;
  const [br, bc] = src.blockSize ?? FP8_DEFAULT_BLOCK;
  const rows = data.length / k;
  const cols = Math.ceil(k / bc);
  const lastBand = Math.floor((firstRow + rows - 1) / br);
  if (
    !Number.isInteger(rows) ||
    scaleInv.length % cols !== 0 ||
    (rows > 0 && scaleInv.length < (lastBand + 1) * cols)
  ) {
    throw invalidInput(
      "layout/fp8-scale-shape",
      `${src.tensor ?? "FP8 weight"}: scale_inv of ${scaleInv.length} values does not cover rows ${firstRow}..${firstRow + rows - 1} × K ${k} in ${br}×${bc} blocks`,
      { fix: `the scale tensor must be [ceil(N/${br}), ceil(K/${bc})] = [.., ${cols}]` },
    );
  }
  const dst = out ?? new Float32Array(data.length);
  dequantBlocks(dst, data, f8e4m3Lut(), rows, k, firstRow, scaleInv, 0, [br, bc]);
  return dst;
}

/** Check a weight / scale_inv shape pair as found in a checkpoint header. */
export function checkFp8ScaleShape(
  weight: { readonly name: string; readonly shape: readonly number[] },
  scale: { readonly name: string; readonly shape: readonly number[] },
  blockSize: readonly [number, number] = FP8_DEFAULT_BLOCK,
): void {
  const [n, k] = weight.shape;
  const want = [Math.ceil((n ?? 0) / blockSize[0]), Math.ceil((k ?? 0) / blockSize[1])];
  if (
    weight.shape.length !== 2 ||
    scale.shape.length !== 2 ||
    scale.shape[0] !== want[0] ||
    scale.shape[1] !== want[1]
  ) {
    throw invalidInput(
      "layout/fp8-scale-shape",
      `${scale.name} has shape [${scale.shape.join(", ")}] but ${weight.name} [${weight.shape.join(", ")}] in ${blockSize[0]}×${blockSize[1]} blocks needs [${want.join(", ")}]`,
      { fix: "check quantization_config.weight_block_size in config.json against the checkpoint" },
    );
  }
}
