/**
 * INT4 packing and its inverses. Plain packing: two codes per byte, the low nibble holds the even
 * input index 2j and the high nibble 2j+1, each row starting on a byte (an odd K pads the last high
 * nibble with 0). Beat packing: the 128-bit words the HP ports stream, 32 codes per 16-byte beat,
 * element i at bits [4i+3:4i]. With the beat stored little-endian (byte b = bits [8b+7:8b], as AXI
 * byte lanes are), element i lands in byte ⌊i/2⌋, low nibble when i is even: the same bytes as plain
 * packing. The only difference is that beat packing starts every row on a beat, padding K up to a
 * multiple of 32 with zero codes (which add nothing to a dot product).
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import { groupLength, groupsPerRow, packedRowBytes, type ScaleGroup } from "./scheme.js";

/** INT4 codes per 128-bit beat. */
export const CODES_PER_BEAT = 32;
/** Bytes per 128-bit beat. */
export const BEAT_BYTES = 16;

function shapeError(what: string): PccxError {
  return new PccxError("layout/quant-pack-shape", ExitCode.INTERNAL, what);
}

/** Pack codes (rows × k, each in −8..7) into rows × ceil(k/2) bytes. */
export function packInt4(codes: Int8Array, rows: number, k: number): Uint8Array {
  if (codes.length !== rows * k) throw shapeError(`${codes.length} codes are not ${rows} rows of ${k}`);
  const rb = packedRowBytes(k);
  const out = new Uint8Array(rows * rb);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j += 2) {
      const lo = codes[r * k + j]! & 15;
      const hi = j + 1 < k ? codes[r * k + j + 1]! & 15 : 0;
      out[r * rb + (j >>> 1)] = lo | (hi << 4);
    }
  }
  return out;
}

/** Sign-extend a nibble. */
function nibble(v: number): number {
  return ((v & 15) ^ 8) - 8;
}

/** Unpack rows × ceil(k/2) bytes into rows × k codes (padding nibbles dropped). */
export function unpackInt4(packed: Uint8Array, rows: number, k: number): Int8Array {
  const rb = packedRowBytes(k);
  if (packed.length !== rows * rb) throw shapeError(`${packed.length} bytes are not ${rows} rows of ${rb}`);
  const out = new Int8Array(rows * k);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const b = packed[r * rb + (j >>> 1)]!;
      out[r * k + j] = nibble(j & 1 ? b >>> 4 : b);
    }
  }
  return out;
}

/** Bytes of one row in beat order: whole beats. */
export function beatRowBytes(k: number): number {
  return Math.ceil(k / CODES_PER_BEAT) * BEAT_BYTES;
}

/**
 * Re-lay plain-packed rows so that each row starts on a 128-bit beat (zero-padded). When k is a
 * multiple of 32 the layouts coincide and `packed` itself is returned.
 */
export function packBeats(packed: Uint8Array, rows: number, k: number): Uint8Array {
  const rb = packedRowBytes(k);
  if (packed.length !== rows * rb) throw shapeError(`${packed.length} bytes are not ${rows} rows of ${rb}`);
  const bb = beatRowBytes(k);
  if (bb === rb) return packed;
  const out = new Uint8Array(rows * bb);
  for (let r = 0; r < rows; r++) out.set(packed.subarray(r * rb, (r + 1) * rb), r * bb);
  return out;
}

/** Inverse of packBeats: drop each row's beat padding. */
export function unpackBeats(beats: Uint8Array, rows: number, k: number): Uint8Array {
  const rb = packedRowBytes(k);
  const bb = beatRowBytes(k);
  if (beats.length !== rows * bb)
    throw shapeError(`${beats.length} bytes are not ${rows} rows of ${bb} beats`);
  if (bb === rb) return beats;
  const out = new Uint8Array(rows * rb);
  for (let r = 0; r < rows; r++) out.set(beats.subarray(r * bb, r * bb + rb), r * rb);
  return out;
}

/** Beat `index` of a beat stream as a 128-bit integer (byte b = bits [8b+7:8b]). */
export function beatValue(beats: Uint8Array, index: number): bigint {
  let v = 0n;
  for (let b = BEAT_BYTES - 1; b >= 0; b--) v = (v << 8n) | BigInt(beats[index * BEAT_BYTES + b]!);
  return v;
}

/** Element i of a 128-bit beat, as the hardware reads it: bits [4i+3:4i], sign-extended. */
export function beatElement(beat: bigint, i: number): number {
  return nibble(Number((beat >> BigInt(4 * i)) & 15n));
}

/**
 * Dequantize packed rows: ŵ = q · scale of its row/group, as float32 (exact for BF16 and F16 scales,
 * whose products with a 4-bit code fit a float32 significand; rounded to nearest for F32 scales).
 */
export function dequantizeInt4(
  packed: Uint8Array,
  scales: Float32Array,
  rows: number,
  k: number,
  scaleGroup: ScaleGroup,
): Float32Array {
  const g = groupLength({ scaleGroup }, k);
  const gpr = groupsPerRow({ scaleGroup }, k);
  if (scales.length !== rows * gpr)
    throw shapeError(`${scales.length} scales are not ${rows} rows of ${gpr}`);
  const codes = unpackInt4(packed, rows, k);
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) out[r * k + j] = codes[r * k + j]! * scales[r * gpr + Math.floor(j / g)]!;
  }
  return out;
}
