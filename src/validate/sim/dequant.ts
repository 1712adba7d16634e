/**
 * Dequantization of the weight image's INT4 data for the golden reference (image-weights.ts):
 * streamed sub-tiles in their tile formats (tile.ts) and INT4 tables (codes padded to a beat, then
 * the row's scales), into float32 values `code × stored scale`. Typed-array loops over whole beats
 * with nibble tables, no per-element closure: the read-back runs at about 100 M weights/s or more,
 * so compile-time validation is not limited by it (docs/simulator.md).
 */
import { invalidInput } from "../../diag/index.js";
import type { ManifestSegment, WeightManifest } from "../../layout/image/manifest.js";
import { decodeScales } from "../../layout/quant/rounding.js";
import { bf16ToF32, f16ToF32 } from "../../util/float.js";
import { BEAT_BYTES, BEAT_CODES, tileLayout } from "./tile.js";

/** Signed INT4 value of the low (even K) and high (odd K) nibble of each byte. */
const LO = new Int8Array(256);
const HI = new Int8Array(256);
for (let b = 0; b < 256; b++) {
  LO[b] = ((b & 15) ^ 8) - 8;
  HI[b] = ((b >>> 4) ^ 8) - 8;
}

/** One stored scale at `at` (little-endian), as a float32 value. */
function scaleReader(dtype: ManifestSegment["scaleDtype"], bytes: Uint8Array): (at: number) => number {
  if (dtype === "f32") {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return (at) => dv.getFloat32(at, true);
  }
  const conv = dtype === "bf16" ? bf16ToF32 : f16ToF32;
  return (at) => conv(bytes[at]! | (bytes[at + 1]! << 8));
}

/**
 * Dequantizes one streamed sub-tile (rows × cols codes × stored scales) into `out`: tile element
 * (r, c) goes to `out[base + r·rowStride + c·colStride]`. Whole beats at a time: 16 bytes give 32
 * codes through two nibble tables, times the one scale of the beat's group (groups of whole beats,
 * the only ones the image holds; a group that splits a beat takes the element-wise path).
 */
export function decodeTileInto(
  bytes: Uint8Array,
  s: ManifestSegment,
  out: Float32Array,
  base: number,
  rowStride: number,
  colStride: number,
): void {
  const rows = s.rows.count;
  const k = s.cols.count;
  const lay = tileLayout(rows, k, { order: s.order, group: s.group, scales: true, scaleDtype: s.scaleDtype });
  if (typeof lay === "string") throw invalidInput("sim/image-tile", `segment ${s.id}: ${lay}`);
  if (lay.bytes > bytes.length) {
    throw invalidInput(
      "sim/image-tile",
      `segment ${s.id}: its tile needs ${lay.bytes} bytes, the image holds ${bytes.length}`,
    );
  }
  const read = scaleReader(s.scaleDtype, bytes);
  const gpr = lay.groupsPerRow;
  const scales = new Float32Array(rows * gpr);
  for (let g = 0; g < gpr; g++)
    for (let r = 0; r < rows; r++) scales[r * gpr + g] = read(lay.groupOff[g]! + r * lay.scaleRowStep);
  const glen = s.group === 0 ? k : s.group;
  const beatGroups = glen % BEAT_CODES === 0;
  for (let r = 0; r < rows; r++) {
    const dRow = base + r * rowStride;
    const sRow = r * gpr;
    for (let b = 0; b < lay.blocks; b++) {
      const at = lay.blockOff[b]! + r * lay.rowStep;
      const e0 = b * BEAT_CODES;
      const n = Math.min(BEAT_CODES, k - e0);
      let d = dRow + e0 * colStride;
      if (beatGroups) {
        const sc = scales[sRow + Math.floor(e0 / glen)]!;
        let j = 0;
        for (; j + 1 < n; j += 2, d += 2 * colStride) {
          const byte = bytes[at + (j >>> 1)]!;
          out[d] = LO[byte]! * sc;
          out[d + colStride] = HI[byte]! * sc;
        }
        if (j < n) out[d] = LO[bytes[at + (j >>> 1)]!]! * sc;
      } else {
        for (let j = 0; j < n; j++, d += colStride) {
          const byte = bytes[at + (j >>> 1)]!;
          out[d] = (j & 1 ? HI[byte]! : LO[byte]!) * scales[sRow + Math.floor((e0 + j) / glen)]!;
        }
      }
    }
  }
}

/** Values of one streamed sub-tile, [rows × cols] row-major. */
export function decodeTile(bytes: Uint8Array, s: ManifestSegment): Float32Array {
  const out = new Float32Array(s.rows.count * s.cols.count);
  decodeTileInto(bytes, s, out, 0, s.cols.count, 1);
  return out;
}

/**
 * A tensor of the manifest, dequantized: INT4 `table` rows (codes padded to a beat, then the row's
 * scales padded to a beat) or BF16/F32 `vector`s.
 */
export function decodeManifestTensor(bytes: Uint8Array, t: WeightManifest["tensors"][number]): Float32Array {
  if (t.layout === "vector") {
    // Vectors are stored padded (to a word); the tensor is its first rows × cols values.
    return decodeScales(bytes, t.format === "f32" ? "f32" : "bf16").slice(0, t.rows * t.cols);
  }
  const out = new Float32Array(t.rows * t.cols);
  const codeBytes = Math.ceil(t.cols / BEAT_CODES) * BEAT_BYTES;
  const groups = t.group === 0 ? 1 : Math.ceil(t.cols / t.group);
  const sb = t.scaleDtype === "f32" ? 4 : 2;
  for (let r = 0; r < t.rows; r++) {
    const row = r * t.rowStride;
    const scales = decodeScales(bytes.subarray(row + codeBytes, row + codeBytes + groups * sb), t.scaleDtype);
    const glen = t.group === 0 ? t.cols : t.group;
    const d = r * t.cols;
    for (let j = 0; j < t.cols; j++) {
      const byte = bytes[row + (j >>> 1)]!;
      out[d + j] = (j & 1 ? HI[byte]! : LO[byte]!) * scales[Math.floor(j / glen)]!;
    }
  }
  return out;
}
