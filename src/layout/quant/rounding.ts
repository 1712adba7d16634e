/**
 * Rounding used by the quantizer: round-half-to-even to an integer, and correctly rounded (single
 * rounding, ties to even) conversion of a float64 scale to its storage dtype, plus the byte
 * encoding of stored scales.
 */
import { bf16ToF32, f16ToF32, f32ToBf16 } from "../../util/float.js";
import type { ScaleDtype } from "./scheme.js";

/** 1.5 · 2^52: adding and subtracting it rounds any |x| < 2^51 to an integer, ties to even. */
const RNE_MAGIC = 6755399441055744;

/** Round to the nearest integer, ties to even (Math.round rounds ties up, which is biased). */
export function roundHalfEven(x: number): number {
  return x + RNE_MAGIC - RNE_MAGIC;
}

const f64 = new Float64Array(1);
const f64hi = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Unbiased binary exponent of a positive normal float64 (exact, no Math.log2 error). */
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

const BF16: FloatFormat = { fractionBits: 7, minNormalExp: -126, maxFinite: 3.3895313892515355e38 };
const F16: FloatFormat = { fractionBits: 10, minNormalExp: -14, maxFinite: 65504 };

/** Round a finite x ≥ 0 to the nearest value of `fmt` (ties to even, subnormals kept, overflow → ∞). */
function roundToFormat(x: number, fmt: FloatFormat): number {
  if (x === 0) return 0;
  const e = Math.max(exponentOf(x), fmt.minNormalExp);
  const ulp = pow2(e - fmt.fractionBits);
  // x / ulp and the product are exact (powers of two); only roundHalfEven rounds.
  const r = roundHalfEven(x / ulp) * ulp;
  return r > fmt.maxFinite ? Number.POSITIVE_INFINITY : r;
}

/**
 * The value a non-negative scale takes once stored as `dtype`: one correctly rounded step from
 * float64, ties to even. Returns +Infinity when the dtype cannot hold it (f16 above 65504).
 */
export function roundScale(x: number, dtype: ScaleDtype): number {
  switch (dtype) {
    case "bf16":
      return roundToFormat(x, BF16);
    case "f16":
      return roundToFormat(x, F16);
    case "f32":
      return Math.fround(x);
  }
}

/** F16 bits of a value that is exactly representable in F16 (as produced by roundScale). */
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

/** Encode stored scale values (already rounded to `dtype`) as little-endian bytes. */
export function encodeScales(scales: Float32Array, dtype: ScaleDtype): Uint8Array {
  const n = scales.length;
  if (dtype === "f32") {
    const out = new Uint8Array(n * 4);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < n; i++) dv.setFloat32(i * 4, scales[i]!, true);
    return out;
  }
  const out = new Uint8Array(n * 2);
  const dv = new DataView(out.buffer);
  const bits = dtype === "bf16" ? f32ToBf16 : f16Bits;
  for (let i = 0; i < n; i++) dv.setUint16(i * 2, bits(scales[i]!), true);
  return out;
}

/** Decode little-endian stored scales back to their float32 values. */
export function decodeScales(bytes: Uint8Array, dtype: ScaleDtype): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === "f32") {
    const out = new Float32Array(bytes.byteLength >>> 2);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
  }
  const out = new Float32Array(bytes.byteLength >>> 1);
  const conv = dtype === "bf16" ? bf16ToF32 : f16ToF32;
  for (let i = 0; i < out.length; i++) out[i] = conv(dv.getUint16(i * 2, true));
  return out;
}
