/**
 * The encoding loops of the kernel: codes = clamp(rne(w / s), −8, 7) packed two per byte, with the
 * error sums of each row accumulated in a small Float64Array (indices below). Kept apart from the
 * row driver (kernel.ts) so that each loop is a small monomorphic function V8 optimizes well.
 */

const RNE_MAGIC = 6755399441055744; // 1.5 · 2^52, see roundHalfEven in util/float.ts (inlined here)

// Running per-row sums, kept in one Float64Array to avoid allocating per group.
export const SUM_SQ = 0;
export const SUM_ERR = 1;
export const SUM_DEQ = 2;
export const SUM_CROSS = 3;
export const MAX_ERR = 4;
export const MAX_W = 5;
export const CLAMPED = 6;
export const ACC_SIZE = 7;

/**
 * Encode w[start, start+len) with stored scale s into nibbles at packed[p…] (start is even within
 * the row) and add the error sums. A stored scale of 0 (all-zero group, or an F16 scale that
 * underflowed) encodes every code as 0.
 */
export function encodeGroup(
  w: Float32Array,
  start: number,
  len: number,
  s: number,
  maxAbs: number,
  packed: Uint8Array,
  p: number,
  acc: Float64Array,
): void {
  const end = start + len;
  if (s === 0) {
    encodeZero(w, start, end, packed, p, acc);
    return;
  }
  const pairEnd = start + (len & ~1);
  // max|w| < 7.5·s (exact product) means every |w/s| < 7.5: no code can leave −7..7, so the
  // clamp-free loop gives the same codes. Only clipping or a tiny F16 scale needs the clamps.
  if (maxAbs < 7.5 * s) encodePairs(w, start, pairEnd, s, packed, p, acc);
  else encodePairsClamped(w, start, pairEnd, s, packed, p, acc);
  // Odd K: the last element takes the low nibble, the high nibble stays 0.
  if (pairEnd < end) encodeLast(w, pairEnd, s, packed, p + (len >>> 1), acc);
}

/**
 * All codes 0, written out (the output buffer may be a recycled one): the error is w itself. Every
 * other path writes each byte it covers too, so the packed buffer never needs zeroing first.
 */
function encodeZero(
  w: Float32Array,
  start: number,
  end: number,
  packed: Uint8Array,
  p: number,
  acc: Float64Array,
): void {
  const bytes = (end - start + 1) >>> 1;
  for (let b = 0; b < bytes; b++) packed[p + b] = 0;
  let se = acc[SUM_ERR]!;
  let me = acc[MAX_ERR]!;
  for (let i = start; i < end; i++) {
    const x = w[i]!;
    se += x * x;
    const a = Math.abs(x);
    if (a > me) me = a;
  }
  acc[SUM_ERR] = se;
  acc[MAX_ERR] = me;
}

/** The hot loop: pairs of codes without clamping (see encodeGroup). */
function encodePairs(
  w: Float32Array,
  start: number,
  end: number,
  s: number,
  packed: Uint8Array,
  p: number,
  acc: Float64Array,
): void {
  let se = acc[SUM_ERR]!;
  let sd = acc[SUM_DEQ]!;
  let sx = acc[SUM_CROSS]!;
  let me = acc[MAX_ERR]!;
  for (let i = start; i < end; i += 2) {
    const w0 = w[i]!;
    const w1 = w[i + 1]!;
    const q0 = w0 / s + RNE_MAGIC - RNE_MAGIC;
    const q1 = w1 / s + RNE_MAGIC - RNE_MAGIC;
    packed[p++] = (q0 & 15) | ((q1 & 15) << 4);
    const d0 = q0 * s;
    const d1 = q1 * s;
    const e0 = w0 - d0;
    const e1 = w1 - d1;
    se += e0 * e0 + e1 * e1;
    sd += d0 * d0 + d1 * d1;
    sx += w0 * d0 + w1 * d1;
    const a0 = Math.abs(e0);
    const a1 = Math.abs(e1);
    if (a0 > me) me = a0;
    if (a1 > me) me = a1;
  }
  acc[SUM_ERR] = se;
  acc[SUM_DEQ] = sd;
  acc[SUM_CROSS] = sx;
  acc[MAX_ERR] = me;
}

/** Pairs of codes clamped to the INT4 range QMIN_CODE..QMAX_CODE (literals in the loop). */
function encodePairsClamped(
  w: Float32Array,
  start: number,
  end: number,
  s: number,
  packed: Uint8Array,
  p: number,
  acc: Float64Array,
): void {
  let se = acc[SUM_ERR]!;
  let sd = acc[SUM_DEQ]!;
  let sx = acc[SUM_CROSS]!;
  let me = acc[MAX_ERR]!;
  let cl = acc[CLAMPED]!;
  for (let i = start; i < end; i += 2) {
    const w0 = w[i]!;
    const w1 = w[i + 1]!;
    let q0 = w0 / s + RNE_MAGIC - RNE_MAGIC;
    let q1 = w1 / s + RNE_MAGIC - RNE_MAGIC;
    if (q0 > 7) {
      q0 = 7;
      cl++;
    } else if (q0 < -8) {
      q0 = -8;
      cl++;
    }
    if (q1 > 7) {
      q1 = 7;
      cl++;
    } else if (q1 < -8) {
      q1 = -8;
      cl++;
    }
    packed[p++] = (q0 & 15) | ((q1 & 15) << 4);
    const d0 = q0 * s;
    const d1 = q1 * s;
    const e0 = w0 - d0;
    const e1 = w1 - d1;
    se += e0 * e0 + e1 * e1;
    sd += d0 * d0 + d1 * d1;
    sx += w0 * d0 + w1 * d1;
    const a0 = Math.abs(e0);
    const a1 = Math.abs(e1);
    if (a0 > me) me = a0;
    if (a1 > me) me = a1;
  }
  acc[SUM_ERR] = se;
  acc[SUM_DEQ] = sd;
  acc[SUM_CROSS] = sx;
  acc[MAX_ERR] = me;
  acc[CLAMPED] = cl;
}

/** One code in the low nibble of packed[p] (the high nibble stays 0). */
function encodeLast(
  w: Float32Array,
  i: number,
  s: number,
  packed: Uint8Array,
  p: number,
  acc: Float64Array,
): void {
  const w0 = w[i]!;
  let q0 = w0 / s + RNE_MAGIC - RNE_MAGIC;
  if (q0 > 7 || q0 < -8) {
    q0 = q0 > 7 ? 7 : -8;
    acc[CLAMPED] = acc[CLAMPED]! + 1;
  }
  packed[p] = q0 & 15;
  const d0 = q0 * s;
  const e0 = w0 - d0;
  acc[SUM_ERR] = acc[SUM_ERR]! + e0 * e0;
  acc[SUM_DEQ] = acc[SUM_DEQ]! + d0 * d0;
  acc[SUM_CROSS] = acc[SUM_CROSS]! + w0 * d0;
  if (Math.abs(e0) > acc[MAX_ERR]!) acc[MAX_ERR] = Math.abs(e0);
}
