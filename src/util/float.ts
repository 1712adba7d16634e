/**
 * Float formats Node 20 lacks (no Float16Array): BF16, F16 and F8 E4M3 to float32, float32 to BF16
 * and F16 bits with round-to-nearest-even, and correctly rounded (one rounding from float64, ties to
 * even) conversion of a number to the nearest BF16 / F16 value. Hot paths take whole buffers to keep
 * per-element cost low.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16ToF32(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0]!;
}

/** BF16 bits of the float32 bits `b`: round to nearest even (±Infinity exact); NaN stays a quiet NaN. */
export function bf16BitsOf(b: number): number {
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0) return ((b >>> 16) | 0x0040) & 0xffff;
  const rounded = b + 0x7fff + ((b >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** float32 → BF16 bits, round to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  return bf16BitsOf(u32[0]!);
}

/**
 * Rounds `n` float32 values to BF16 in place, given as their bits (a Uint32Array view of a
 * Float32Array) from `start`: each becomes `f32ToBf16(value) << 16`.
 */
export function roundBf16InPlace(bits: Uint32Array, start: number, n: number): void {
  for (let i = start, end = start + n; i < end; i++) bits[i] = bf16BitsOf(bits[i]!) << 16;
}

/** Little-endian BF16 bytes of `values` (each rounded as `f32ToBf16`). */
export function encodeBf16(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const b = f32ToBf16(values[i]!);
    out[2 * i] = b & 0xff;
    out[2 * i + 1] = b >>> 8;
  }
  return out;
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

/** 1.5 · 2^52: adding and subtracting it rounds any |x| < 2^51 to an integer, ties to even. */
const RNE_MAGIC = 6755399441055744;

/** Round to the nearest integer, ties to even (Math.round rounds ties up, which is biased). */
export function roundHalfEven(x: number): number {
  return x + RNE_MAGIC - RNE_MAGIC;
}

const f64 = new Float64Array(1);
const f64hi = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Unbiased binary exponent of a normal float64 (exact, no Math.log2 error; the sign is ignored). */
function exponentOf(x: number): number {
  f64[0] = x;
  return ((f64hi[HI]! >>> 20) & 0x7ff) - 1023;
}

/** 2^e for −1022 ≤ e ≤ 1023, built from its bits (cheaper than `2 ** e` once per group). */
function pow2(e: number): number {
  f64hi[1 - HI] = 0;
  f64hi[HI] = (e + 1023) << 20;
  return f64[0]!;
}

interface FloatFormat {
  readonly fractionBits: number;
  readonly minNormalExp: number;
  readonly maxFinite: number;
}

const FORMATS: Readonly<Record<"bf16" | "f16", FloatFormat>> = {
  bf16: { fractionBits: 7, minNormalExp: -126, maxFinite: 3.3895313892515355e38 },
  f16: { fractionBits: 10, minNormalExp: -14, maxFinite: 65504 },
};

/** Round a finite x > 0 to the nearest value of `fmt` (ties to even, subnormals kept, overflow → ∞). */
function roundPositive(x: number, fmt: FloatFormat): number {
  const e = Math.max(exponentOf(x), fmt.minNormalExp);
  const ulp = pow2(e - fmt.fractionBits);
  // x / ulp and the product are exact (powers of two); only roundHalfEven rounds.
  const r = roundHalfEven(x / ulp) * ulp;
  return r > fmt.maxFinite ? Number.POSITIVE_INFINITY : r;
}

/**
 * The BF16 or F16 value nearest to `x` in one rounding from float64 (ties to even, subnormals
 * kept, overflow to ±Infinity; ±0, ±Infinity and NaN stay as they are). `roundBf16` instead rounds
 * to float32 first, as a float32 → BF16 cast does.
 */
export function roundToFloat(x: number, format: "bf16" | "f16"): number {
  if (x === 0 || Number.isNaN(x)) return x;
  return x < 0 ? -roundPositive(-x, FORMATS[format]) : roundPositive(x, FORMATS[format]);
}

/** The nearest IEEE half value to `x` (see roundToFloat). */
export function roundF16(x: number): number {
  return roundToFloat(x, "f16");
}

/** F16 bits of a value that is exactly representable in F16 (as produced by roundF16); NaN → 0x7e00. */
export function f16Bits(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (Number.isNaN(v)) return 0x7e00;
  if (a === Number.POSITIVE_INFINITY) return sign | 0x7c00;
  if (a === 0) return sign;
  const e = exponentOf(a);
  if (e < -14) return sign | Math.round(a * 2 ** 24); // subnormal: a = m · 2^-24
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

/** float32 → F16 bits, round to nearest even (x is first rounded to float32, as a cast from it). */
export function f32ToF16(x: number): number {
  return f16Bits(roundF16(Math.fround(x)));
}
