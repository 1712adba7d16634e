/**
 * Special functions the op semantics need and JavaScript lacks: erf/erfc (exact GELU), the standard
 * normal CDF and its inverse (Gemma 3n's Gaussian top-k threshold Φ⁻¹(sparsity)). Written for
 * accuracy near double precision (relative error ≲ 1e-15 on the ranges used), not for speed.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf for |x| < 2: e^{−x²}·(2/√π)·Σ (2x²)ⁿ·x / (1·3·…·(2n+1)), a series of positive terms. */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
}

/** erfc for x ≥ 2: Laplace's continued fraction e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))). */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let n = 200; n >= 1; n--) f = x + n / 2 / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (Math.abs(x) < 2) return erfSeries(x);
  const c = erfcContinuedFraction(Math.abs(x));
  return x > 0 ? 1 - c : c - 1;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x >= 2) return erfcContinuedFraction(x);
  if (x <= -2) return 2 - erfcContinuedFraction(-x);
  return 1 - erfSeries(x);
}

/** Φ(x), the standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** x ≥ 0 with Q(x) = 1 − Φ(x) = q, for q in (0, 0.5]: a rational first guess, then Newton steps. */
function upperQuantile(q: number): number {
  // Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4) as the starting point.
  const t = Math.sqrt(-2 * Math.log(q));
  let x =
    t -
    (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t ** 3);
  for (let i = 0; i < 50; i++) {
    const step = (0.5 * erfc(x / Math.SQRT2) - q) / normalPdf(x);
    x += step;
    if (Math.abs(step) <= 1e-16 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

/** Φ⁻¹(p), the standard normal quantile (torch Normal(0,1).icdf, jax norm.ppf). */
export function normalIcdf(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  return p > 0.5 ? upperQuantile(1 - p) : -upperQuantile(p);
}
