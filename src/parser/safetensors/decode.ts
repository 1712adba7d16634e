/**
 * Bulk decoders from safetensors bytes (little-endian) to float32. These are the hot loops of
 * weight streaming, so they work on whole buffers: BF16 shifts two values per 32-bit load into a
 * Uint32Array view of the output, F16 and F8 E4M3 go through lookup tables, F32 is a byte copy.
 * The scalar helpers of util/float.ts define the values; the tables are built from them.
 */
import { endianness } from "node:os";
import { invalidInput } from "../../diag/index.js";
import { f8e4m3ToF32, f16ToF32 } from "../../util/float.js";
import { type DType, dtypeInfo } from "./dtype.js";

const LITTLE_ENDIAN_HOST = endianness() === "LE";

let f16Table: Float32Array | undefined;
let f8Table: Float32Array | undefined;

function f16Lut(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16ToF32(i);
  }
  return f16Table;
}

/** F8 E4M3 byte → float32 table (built on first use; shared with the layout stage's FP8 path). */
export function f8e4m3Lut(): Float32Array {
  if (!f8Table) {
    f8Table = new Float32Array(256);
    for (let i = 0; i < 256; i++) f8Table[i] = f8e4m3ToF32(i);
  }
  return f8Table;
}

/** Bytes taken by `n` elements of a decodable dtype. */
export function bytesFor(dtype: DType, n: number): number {
  return (n * dtypeInfo(dtype).bits) / 8;
}

/**
 * Decodes `n` elements of `dtype` from `src` (starting at src[0]) into `dst[dstOff..dstOff+n)`.
 * Throws a PccxError naming the dtype when it is not a float type pccxc decodes.
 */
export function decodeToF32(dtype: DType, src: Uint8Array, n: number, dst: Float32Array, dstOff = 0): void {
  switch (dtype) {
    case "F32":
      new Uint8Array(dst.buffer, dst.byteOffset + dstOff * 4, n * 4).set(src.subarray(0, n * 4));
      if (!LITTLE_ENDIAN_HOST) swap32(dst, dstOff, n);
      return;
    case "BF16":
      decodeBf16(src, n, dst, dstOff);
      return;
    case "F16":
      decodeU16Lut(src, n, dst, dstOff, f16Lut());
      return;
    case "F8_E4M3": {
      const lut = f8e4m3Lut();
      for (let i = 0; i < n; i++) dst[dstOff + i] = lut[src[i]!]!;
      return;
    }
    default:
      throw invalidInput(
        "safetensors/not-decodable",
        `tensors of dtype ${dtype} cannot be read as floats (pccxc decodes F32, F16, BF16 and F8_E4M3)`,
        { fix: "integer, boolean and packed sub-byte tensors are indexed but must be read as raw bytes" },
      );
  }
}

function decodeBf16(src: Uint8Array, n: number, dst: Float32Array, dstOff: number): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset + dstOff * 4, n);
  let i = 0;
  if (LITTLE_ENDIAN_HOST && src.byteOffset % 4 === 0) {
    // Two BF16 values per 32-bit word: the low half is element 2k, the high half element 2k+1.
    const pairs = n >>> 1;
    const w = new Uint32Array(src.buffer, src.byteOffset, pairs);
    for (let k = 0; k < pairs; k++) {
      const x = w[k]!;
      out[2 * k] = x << 16;
      out[2 * k + 1] = x & 0xffff0000;
    }
    i = pairs * 2;
  }
  for (; i < n; i++) out[i] = (src[2 * i]! | (src[2 * i + 1]! << 8)) << 16;
}

function decodeU16Lut(
  src: Uint8Array,
  n: number,
  dst: Float32Array,
  dstOff: number,
  lut: Float32Array,
): void {
  if (LITTLE_ENDIAN_HOST && src.byteOffset % 2 === 0) {
    const h = new Uint16Array(src.buffer, src.byteOffset, n);
    for (let i = 0; i < n; i++) dst[dstOff + i] = lut[h[i]!]!;
    return;
  }
  for (let i = 0; i < n; i++) dst[dstOff + i] = lut[src[2 * i]! | (src[2 * i + 1]! << 8)]!;
}

function swap32(dst: Float32Array, off: number, n: number): void {
  const b = new Uint8Array(dst.buffer, dst.byteOffset + off * 4, n * 4);
  for (let i = 0; i < b.length; i += 4) {
    const t0 = b[i]!;
    const t1 = b[i + 1]!;
    b[i] = b[i + 3]!;
    b[i + 1] = b[i + 2]!;
    b[i + 2] = t1;
    b[i + 3] = t0;
  }
}
