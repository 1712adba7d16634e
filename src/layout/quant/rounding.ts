/**
 * Rounding used by the quantizer: correctly rounded (single rounding, ties to even) conversion of a
 * float64 scale to its storage dtype, and the byte encoding of stored scales. The float arithmetic
 * itself (roundHalfEven, roundToFloat, f16Bits) is in util/float.ts.
 */
import { bf16ToF32, f16Bits, f16ToF32, f32ToBf16, roundToFloat } from "../../util/float.js";
import type { ScaleDtype } from "./scheme.js";

// The float helpers live in util/float.ts; re-exported here, where the quantizer's users import them.
export { f16Bits, roundHalfEven } from "../../util/float.js";

/**
 * The value a non-negative scale takes once stored as `dtype`: one correctly rounded step from
 * float64, ties to even. Returns +Infinity when the dtype cannot hold it (f16 above 65504).
 */
export function roundScale(x: number, dtype: ScaleDtype): number {
  if (dtype === "f32") return Math.fround(x);
  return x === 0 ? 0 : roundToFloat(x, dtype); // a zero scale is stored as +0
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
