/**
 * Gemma 3n AltUp in the golden reference: predict and correct over N streams of one token, and the
 * magnitude matching used when the streams are created and merged. Formulas follow HF
 * `Gemma3nTextAltUp` (modeling_gemma3n.py), spelled out in docs/graph.md.
 */
import { type Mat, matVec } from "./tensor.js";

/** pred_j = x_j + Σ_i c[j·N + i]·x_i with c = coefs·m (coefs is [N², N]). */
export function altupPredict(
  streams: readonly Float64Array[],
  modalities: Float64Array,
  coefs: Mat,
): Float64Array[] {
  const n = streams.length;
  const c = matVec(coefs, modalities);
  return streams.map((xj, j) => {
    const out = Float64Array.from(xj);
    for (let i = 0; i < n; i++) {
      const cji = c[j * n + i]!;
      const xi = streams[i]!;
      for (let d = 0; d < out.length; d++) out[d]! += cji * xi[d]!;
    }
    return out;
  });
}

/**
 * out_j = pred_j + c_j·(activated − pred_active), c = clip(coefs)·m + 1 (coefs is [N, N]; HF clamps
 * the correction coefficients to ±altup_coef_clip in every forward).
 */
export function altupCorrect(
  predictions: readonly Float64Array[],
  activated: Float64Array,
  modalities: Float64Array,
  coefs: Mat,
  clip: number | undefined,
  active: number,
): Float64Array[] {
  const clipped: Mat =
    clip === undefined
      ? coefs
      : { ...coefs, data: coefs.data.map((x) => Math.min(clip, Math.max(-clip, x))) };
  const c = matVec(clipped, modalities).map((x) => x + 1);
  const pa = predictions[active]!;
  return predictions.map((pj, j) => {
    const out = Float64Array.from(pj);
    for (let d = 0; d < out.length; d++) out[d]! += c[j]! * (activated[d]! - pa[d]!);
    return out;
  });
}

/** x · rms(ref) / √max(mean(x²), eps). */
export function magnitudeMatch(x: Float64Array, ref: Float64Array, eps: number): Float64Array {
  const meanSq = (v: Float64Array) => v.reduce((a, b) => a + b * b, 0) / v.length;
  const factor = Math.sqrt(meanSq(ref)) / Math.sqrt(Math.max(meanSq(x), eps));
  return x.map((v) => v * factor);
}
