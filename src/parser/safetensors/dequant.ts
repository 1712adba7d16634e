/**
 * Block-scaled FP8 weights as DeepSeek-V3 ships them: a weight `W` [N, K] in F8_E4M3 and, beside
 * it, `W_scale_inv` [ceil(N/bn), ceil(K/bk)] in F32; the real weight is W × scale per bn×bk block
 * (DeepSeek's own `weight_dequant` multiplies, despite the name). The block size comes from the
 * config's `quantization_config.weight_block_size`.
 */
import { invalidInput } from "../../diag/index.js";
import { checkRowRange, rowGeometry } from "./geometry.js";
import type { TensorIndex } from "./tensor-index.js";

export const SCALE_SUFFIX = "_scale_inv";

export function scaleTensorName(weight: string): string {
  return `${weight}${SCALE_SUFFIX}`;
}

export async function readRowsDequant(
  index: TensorIndex,
  name: string,
  rowStart: number,
  rowCount: number,
  blockSize: readonly [number, number] | undefined,
): Promise<Float32Array> {
  const scaleName = scaleTensorName(name);
  const scale = index.get(scaleName);
  if (!scale) return index.readRows(name, rowStart, rowCount);
  const e = index.require(name);
  checkRowRange(name, rowGeometry(e), rowStart, rowCount);
  if (e.shape.length !== 2) {
    throw invalidInput(
      "safetensors/scale-shape",
      `block-scaled tensor "${name}" must be 2-D [N, K], not [${e.shape.join(", ")}]`,
      { at: { file: e.file } },
    );
  }
  const [bn, bk] = checkBlockSize(name, blockSize);
  const [n, k] = e.shape as [number, number];
  const want = [Math.ceil(n / bn), Math.ceil(k / bk)];
  if (scale.shape.length !== 2 || scale.shape[0] !== want[0] || scale.shape[1] !== want[1]) {
    throw invalidInput(
      "safetensors/scale-shape",
      `scale tensor "${scaleName}" has shape [${scale.shape.join(", ")}]; ` +
        `[${want.join(", ")}] is needed for "${name}" [${n}, ${k}] with ${bn}×${bk} blocks`,
      { at: { file: scale.file }, fix: "check quantization_config.weight_block_size in config.json" },
    );
  }
  const w = await index.readRows(name, rowStart, rowCount);
  if (rowCount === 0) return w;
  const b0 = Math.floor(rowStart / bn);
  const b1 = Math.floor((rowStart + rowCount - 1) / bn);
  const s = await index.readRows(scaleName, b0, b1 - b0 + 1);
  dequantBlocks(w, w, undefined, rowCount, k, rowStart, s, b0, [bn, bk]);
  return w;
}

/**
 * Block-scaled dequantization (DeepSeek-V3 FP8): out = value × the scale of the bn×bk block holding
 * it, for rows firstRow … firstRow+rows−1 of a [N, k] weight held row-major from index 0. Values are
 * `src` itself (floats, `out` may be `src`) or `lut[src[i]]` for raw bytes (FP8 codes). `scale`
 * holds scale rows (one per band of bn weight rows, ceil(k/bk) values each) from band `firstBand`
 * on. The one dequantization loop: readRowsDequant (decoded rows, in place) and the layout stage's
 * dequantFp8Rows (raw FP8 bytes through a table) both call it.
 */
export function dequantBlocks(
  out: Float32Array,
  src: Float32Array | Uint8Array,
  lut: Float32Array | undefined,
  rows: number,
  k: number,
  firstRow: number,
  scale: Float32Array,
  firstBand: number,
  [bn, bk]: readonly [number, number],
): void {
  const sCols = Math.ceil(k / bk);
  for (let r = 0; r < rows; r++) {
    const srow = (Math.floor((firstRow + r) / bn) - firstBand) * sCols;
    const base = r * k;
    for (let cb = 0; cb < sCols; cb++) {
      const f = scale[srow + cb]!;
      const start = base + cb * bk;
      const end = base + Math.min(k, (cb + 1) * bk);
      if (lut) for (let j = start; j < end; j++) out[j] = lut[src[j]!]! * f;
      else for (let j = start; j < end; j++) out[j] = src[j]! * f;
    }
  }
}

function checkBlockSize(name: string, b: readonly [number, number] | undefined): readonly [number, number] {
  if (!b) {
    throw invalidInput(
      "safetensors/no-block-size",
      `tensor "${name}" has a scale tensor "${scaleTensorName(name)}" but no block size is known ` +
        "(quantization_config.weight_block_size)",
      { fix: "the config must give quantization_config.weight_block_size (e.g. [128, 128])" },
    );
  }
  if (!b.every((x) => Number.isSafeInteger(x) && x > 0) || b.length !== 2) {
    throw invalidInput(
      "safetensors/no-block-size",
      `weight_block_size ${JSON.stringify(b)} must be two positive integers`,
      { fix: "fix quantization_config.weight_block_size in config.json" },
    );
  }
  return b;
}
