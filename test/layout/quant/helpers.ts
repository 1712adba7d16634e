/** Shared generators and references for the quantization tests (not a test file itself). */
import fc from "fast-check";
import { f32ToBf16 } from "../../../src/util/float.js";

/** A deterministic pseudo-random float32 matrix, values in (−amp, amp), BF16-rounded when asked. */
export function randomMatrix(rows: number, k: number, seed: number, amp = 0.05, bf16 = false): Float32Array {
  const out = new Float32Array(rows * k);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const v = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * amp;
    out[i] = bf16 ? bf16Value(v) : v;
  }
  return out;
}

export function bf16Value(v: number): number {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  u[0] = f32ToBf16(v) << 16;
  return f[0]!;
}

/** BF16 bit patterns of a float32 matrix (values assumed BF16-exact). */
export function toBf16Bits(m: Float32Array): Uint16Array {
  const u = new Uint32Array(m.buffer, m.byteOffset, m.length);
  return Uint16Array.from(u, (x) => x >>> 16);
}

/** Split rows into consecutive blocks of the given row counts (the last takes the rest). */
export function splitRows(m: Float32Array, k: number, cuts: readonly number[]): Float32Array[] {
  const rows = m.length / k;
  const out: Float32Array[] = [];
  let r = 0;
  for (const c of cuts) {
    if (r >= rows) break;
    const n = Math.min(c, rows - r);
    if (n <= 0) continue;
    out.push(m.slice(r * k, (r + n) * k));
    r += n;
  }
  if (r < rows) out.push(m.slice(r * k));
  return out;
}

/** fast-check: a small weight matrix [rows, k] of finite float32 values with a sign mix. */
export function matrixArb(opts: { maxRows?: number; ks?: readonly number[]; maxAbs?: number } = {}) {
  const ks = opts.ks ?? [1, 2, 3, 7, 31, 32, 33, 64, 100, 128, 130];
  const maxAbs = Math.fround(opts.maxAbs ?? 4);
  return fc.tuple(fc.integer({ min: 1, max: opts.maxRows ?? 6 }), fc.constantFrom(...ks)).chain(([rows, k]) =>
    fc
      .float32Array({
        minLength: rows * k,
        maxLength: rows * k,
        min: -maxAbs,
        max: maxAbs,
        noNaN: true,
        noDefaultInfinity: true,
      })
      .map((data) => ({ rows, k, data: Float32Array.from(data, (x) => (Object.is(x, -0) ? 0 : x)) })),
  );
}

/** Plain-arithmetic reference statistics of w against ŵ. */
export function referenceStats(w: Float32Array, d: Float32Array | Float64Array) {
  let sw = 0;
  let se = 0;
  let sd = 0;
  let sx = 0;
  let me = 0;
  for (let i = 0; i < w.length; i++) {
    const e = w[i]! - d[i]!;
    sw += w[i]! * w[i]!;
    se += e * e;
    sd += d[i]! * d[i]!;
    sx += w[i]! * d[i]!;
    me = Math.max(me, Math.abs(e));
  }
  return {
    rmse: Math.sqrt(se / w.length),
    maxAbsError: me,
    snrDb: se === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(sw / se),
    cosine: sx / Math.sqrt(sw * sd),
  };
}
