/**
 * Float formats Node 20 lacks (no Float16Array): BF16, F16 and F8 E4M3 to float32, and float32 to
 * BF16 with round-to-nearest-even. Hot paths take whole buffers to keep per-element cost low.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16ToF32(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0]!;
}

/** float32 → BF16 bits, round to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0) return ((b >>> 16) | 0x0040) & 0xffff;
  const rounded = b + 0x7fff + ((b >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Round a float32 value to the nearest BF16 value (as a number). */
export function roundBf16(x: number): number {
  return bf16ToF32(f32ToBf16(x));
}

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** F8 E4M3 (fn variant: no infinities, S.1111.111 is NaN, max 448). */
export function f8e4m3ToF32(b: number): number {
  const s = b & 0x80 ? -1 : 1;
  const e = (b >>> 3) & 0xf;
  const m = b & 0x7;
  if (e === 15 && m === 7) return Number.NaN;
  if (e === 0) return s * m * 2 ** -9;
  return s * (1 + m / 8) * 2 ** (e - 7);
}

/** Decode `n` little-endian BF16 values from `src` (byte offset `off`) into `dst`. */
export function decodeBf16Into(src: Uint8Array, off: number, n: number, dst: Float32Array, dstOff = 0): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset + dstOff * 4, n);
  for (let i = 0, p = off; i < n; i++, p += 2) out[i] = (src[p]! | (src[p + 1]! << 8)) << 16;
}
