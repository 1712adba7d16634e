/**
 * MSE-optimal clipping search (`quantSearch: true`). For each row/group the scale is chosen among
 * `ratio · max|w| / 7` for the ratios of CLIP_RATIOS, each rounded to the stored scale dtype, keeping
 * the one with the smallest Σ(w − ŵ)². Ratio 1 (no clipping) is tried first and wins ties, so the
 * search never does worse than the plain scale and its result is deterministic.
 */
import { roundScale } from "./rounding.js";
import { QMAX, type ScaleDtype } from "./scheme.js";

/** 1.000, 0.975, …, 0.500: 21 ratios in steps of 1/40. */
export const CLIP_RATIOS: readonly number[] = Array.from({ length: 21 }, (_, i) => (40 - i) / 40);

const RNE_MAGIC = 6755399441055744; // 1.5 · 2^52, see rounding.ts

/**
 * Σ (w − clamp(rne(w·(1/s)))·s)² over w[start, end): the squared error of encoding the group with
 * stored scale s. It multiplies by the reciprocal (twice as fast as dividing); this can differ from
 * the encoder's w/s only at exact ties, where both roundings have the same error.
 */
export function groupSquaredError(w: Float32Array, start: number, end: number, s: number): number {
  let sse0 = 0;
  let sse1 = 0;
  if (s === 0) {
    for (let i = start; i < end; i++) sse0 += w[i]! * w[i]!;
    return sse0;
  }
  const inv = 1 / s;
  let i = start;
  for (; i + 1 < end; i += 2) {
    const w0 = w[i]!;
    const w1 = w[i + 1]!;
    let q0 = w0 * inv + RNE_MAGIC - RNE_MAGIC;
    let q1 = w1 * inv + RNE_MAGIC - RNE_MAGIC;
    // INT4 range QMIN_CODE..QMAX_CODE, literal in the hot loop.
    if (q0 > 7) q0 = 7;
    else if (q0 < -8) q0 = -8;
    if (q1 > 7) q1 = 7;
    else if (q1 < -8) q1 = -8;
    const e0 = w0 - q0 * s;
    const e1 = w1 - q1 * s;
    sse0 += e0 * e0;
    sse1 += e1 * e1;
  }
  if (i < end) {
    const w0 = w[i]!;
    let q0 = w0 * inv + RNE_MAGIC - RNE_MAGIC;
    if (q0 > 7) q0 = 7;
    else if (q0 < -8) q0 = -8;
    const e0 = w0 - q0 * s;
    sse0 += e0 * e0;
  }
  return sse0 + sse1;
}

/** The stored scale with the smallest squared error over w[start, end) among the clip ratios. */
export function searchScale(
  w: Float32Array,
  start: number,
  end: number,
  maxAbs: number,
  dtype: ScaleDtype,
): number {
  let best = roundScale(maxAbs / QMAX, dtype);
  let bestErr = groupSquaredError(w, start, end, best);
  let prev = best;
  for (let i = 1; i < CLIP_RATIOS.length && bestErr > 0; i++) {
    const s = roundScale((maxAbs * CLIP_RATIOS[i]!) / QMAX, dtype);
    if (s === prev || s === 0) continue; // several ratios may round to the same stored scale
    prev = s;
    const err = groupSquaredError(w, start, end, s);
    if (err < bestErr) {
      bestErr = err;
      best = s;
    }
  }
  return best;
}
