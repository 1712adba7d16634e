/** The golden reference's only data structure: a dense row-major float64 matrix (T rows of a value). */
export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function zeros(rows: number, cols: number): Mat {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** A view of row r (shares memory). */
export function rowOf(m: Mat, r: number): Float64Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

/** Applies f to every element, into a new matrix. */
export function mapMat(m: Mat, f: (x: number, i: number) => number): Mat {
  const out = zeros(m.rows, m.cols);
  for (let i = 0; i < m.data.length; i++) out.data[i] = f(m.data[i]!, i);
  return out;
}

/** y = W·x (+ b) for one row x; W is [out, in]. */
export function matVec(w: Mat, x: Float64Array, bias?: Float64Array): Float64Array {
  const y = new Float64Array(w.rows);
  for (let o = 0; o < w.rows; o++) {
    let s = 0;
    const base = o * w.cols;
    for (let i = 0; i < w.cols; i++) s += w.data[base + i]! * x[i]!;
    y[o] = s + (bias ? bias[o]! : 0);
  }
  return y;
}

/** Index of the largest element (the first one on ties). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}
