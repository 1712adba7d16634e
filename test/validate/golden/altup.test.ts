import { describe, expect, it } from "vitest";
import { altupCorrect, altupPredict, magnitudeMatch } from "../../../src/validate/golden/index.js";

const mat = (rows: number, cols: number, data: number[]) => ({ rows, cols, data: Float64Array.from(data) });
const close = (a: ArrayLike<number>, b: readonly number[]) => {
  for (const [i, v] of b.entries()) expect(a[i]).toBeCloseTo(v, 14);
};

describe("Gemma 3n AltUp", () => {
  // Two streams of width 2: x0 = (1, 2), x1 = (3, −1).
  const x0 = Float64Array.from([1, 2]);
  const x1 = Float64Array.from([3, -1]);

  it("predict: pred_j = x_j + Σ_i c[j·N + i]·x_i with c = coefs·m", () => {
    // coefs [4, 2] rows (1,0), (0,1), (2,0), (0,2); m = (0.5, −1) → c = (0.5, −1, 1, −2).
    // pred0 = x0 + 0.5·x0 − 1·x1 = (1 + 0.5 − 3, 2 + 1 + 1) = (−1.5, 4)
    // pred1 = x1 + 1·x0 − 2·x1 = (3 + 1 − 6, −1 + 2 + 2) = (−2, 3)
    const [p0, p1] = altupPredict(
      [x0, x1],
      Float64Array.from([0.5, -1]),
      mat(4, 2, [1, 0, 0, 1, 2, 0, 0, 2]),
    );
    close(p0!, [-1.5, 4]);
    close(p1!, [-2, 3]);
  });

  it("correct: out_j = pred_j + (clip(coefs)·m + 1)_j · (activated − pred_active)", () => {
    // preds (−1.5, 4), (−2, 3); activated (0, 1) → innovation = (1.5, −3).
    // coefs [[0.3, 0.2], [1, −3]] clipped to ±0.5 → [[0.3, 0.2], [0.5, −0.5]]; m = (1, 1) → c = (1.5, 1).
    // out0 = (−1.5, 4) + 1.5·(1.5, −3) = (0.75, −0.5); out1 = (−2, 3) + (1.5, −3) = (−0.5, 0).
    const preds = [Float64Array.from([-1.5, 4]), Float64Array.from([-2, 3])];
    const coefs = mat(2, 2, [0.3, 0.2, 1, -3]);
    const act = Float64Array.from([0, 1]);
    const m = Float64Array.from([1, 1]);
    const [o0, o1] = altupCorrect(preds, act, m, coefs, 0.5, 0);
    close(o0!, [0.75, -0.5]);
    close(o1!, [-0.5, 0]);
    // Unclipped: c1 = 1 − 3 + 1 = −1 → out1 = (−2, 3) − (1.5, −3) = (−3.5, 6).
    close(altupCorrect(preds, act, m, coefs, undefined, 0)[1]!, [-3.5, 6]);
    // Active stream 1: innovation = (0, 1) − (−2, 3) = (2, −2); out1 = (−2, 3) + 1·(2, −2) = (0, 1).
    close(altupCorrect(preds, act, m, coefs, 0.5, 1)[1]!, [0, 1]);
  });

  it("magnitude matching scales to the reference RMS, with the eps floor", () => {
    // x = (3, 4): mean x² = 12.5; ref (1, 1) has RMS 1 → x/√12.5 = (0.8485281, 1.1313708).
    close(magnitudeMatch(Float64Array.from([3, 4]), Float64Array.from([1, 1]), 1e-5), [
      3 / Math.sqrt(12.5),
      4 / Math.sqrt(12.5),
    ]);
    // x = (1e−4, 0): mean x² = 5e−9 < 1e−5 → divide by √1e−5 instead.
    close(magnitudeMatch(Float64Array.from([1e-4, 0]), Float64Array.from([1, 1]), 1e-5), [
      1e-4 / Math.sqrt(1e-5),
      0,
    ]);
  });
});
