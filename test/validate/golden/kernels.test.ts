import { describe, expect, it } from "vitest";
import { erf, erfc, normalCdf, normalIcdf } from "../../../src/resolver/graph/index.js";
import {
  activate,
  gaussianTopk,
  gluElement,
  layerNorm,
  rmsNorm,
  softcap,
  softmax,
} from "../../../src/validate/golden/index.js";

const close = (a: ArrayLike<number>, b: readonly number[], digits = 12) => {
  expect(a.length).toBe(b.length);
  for (const [i, v] of b.entries()) expect(a[i]).toBeCloseTo(v, digits);
};

describe("special functions against published values", () => {
  it("erf / erfc match tables (A&S 7.1, DLMF 7.2)", () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf(2)).toBeCloseTo(0.9953222650189527, 15);
    expect(erf(-2.5)).toBeCloseTo(-0.999593047982555, 15);
    // Relative accuracy in the tail, where 1 − erf would lose it.
    expect(erfc(3) / 2.2090496998585438e-5).toBeCloseTo(1, 13);
    expect(erfc(5) / 1.5374597944280351e-12).toBeCloseTo(1, 13);
    expect(erf(0)).toBe(0);
  });

  it("Φ(1) = 0.8413447460685429 and Φ⁻¹ gives the textbook quantiles", () => {
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(normalIcdf(0.5)).toBe(0);
    expect(normalIcdf(0.95)).toBeCloseTo(1.6448536269514722, 13);
    expect(normalIcdf(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalIcdf(0.05)).toBeCloseTo(-1.6448536269514722, 13);
    expect(normalIcdf(1e-10)).toBeCloseTo(-6.361340902404056, 9);
    expect(normalIcdf(normalCdf(1))).toBeCloseTo(1, 13);
    expect(normalIcdf(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalIcdf(1.5)).toBeNaN();
  });
});

describe("activations", () => {
  it("exact GELU is x·Φ(x); the tanh form differs slightly", () => {
    // gelu(1) = Φ(1) = 0.8413447461; gelu(−1) = −(1 − Φ(1)) = −0.1586552539; gelu(2) = 2·Φ(2) = 1.9544997361.
    expect(activate("gelu", 1)).toBeCloseTo(0.8413447460685429, 15);
    expect(activate("gelu", -1)).toBeCloseTo(-0.15865525393145707, 15);
    expect(activate("gelu", 2)).toBeCloseTo(1.9544997361036416, 15);
    // tanh form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715x³))); at x = 1: √(2/π)·1.044715 = 0.8335557,
    // tanh = 0.6823840, 0.5·1.6823840 = 0.8411920.
    expect(activate("gelu_tanh", 1)).toBeCloseTo(0.8411919906082768, 15);
    expect(activate("gelu_tanh", -1)).toBeCloseTo(-0.15880800939172324, 15);
    expect(activate("gelu_tanh", 2)).toBeCloseTo(1.954597694087775, 15);
    expect(activate("gelu_tanh", -3)).toBeCloseTo(-0.0036373920817729943, 15);
    expect(activate("gelu", -3)).toBeCloseTo(-0.00404969409489031, 15);
  });

  it("SiLU is x·σ(x), ReLU clips, tanh and sigmoid are the textbook ones", () => {
    // silu(1) = 1/(1 + e^−1) = 0.7310585786; silu(−2) = −2/(1 + e²) = −0.2384058440.
    expect(activate("silu", 1)).toBeCloseTo(0.7310585786300049, 15);
    expect(activate("silu", -2)).toBeCloseTo(-0.2384058440442351, 15);
    expect(activate("relu", -2)).toBe(0);
    expect(activate("relu", 3)).toBe(3);
    expect(activate("sigmoid", 0)).toBe(0.5);
    expect(activate("tanh", 0.5)).toBeCloseTo(Math.tanh(0.5), 15);
  });

  it("gpt-oss clamped SwiGLU: (clamp(u, ±7) + 1)·g·σ(1.702·g) with g = min(gate, 7)", () => {
    const act = { fn: "clamped_swiglu" as const, alpha: 1.702, limit: 7 };
    // gate 1, up 2: (2 + 1)·1·σ(1.702) = 3·0.8457964 = 2.5373891.
    expect(gluElement(act, 1, 2)).toBeCloseTo(3 / (1 + Math.exp(-1.702)), 14);
    // gate 10 → 7, up −9 → −7: (−7 + 1)·7·σ(11.914) = −42·0.9999933 = −41.999718.
    expect(gluElement(act, 10, -9)).toBeCloseTo(-42 / (1 + Math.exp(-11.914)), 12);
    // The gate is only clamped from above: gate −10 stays −10.
    expect(gluElement(act, -10, 0)).toBeCloseTo(-10 / (1 + Math.exp(17.02)), 15);
    expect(gluElement({ fn: "silu" }, 1, 2)).toBeCloseTo(2 * 0.7310585786300049, 15);
  });
});

describe("norms and softcap", () => {
  it("RMSNorm: x/√(mean x² + eps) times w, or (1 + w) for Gemma", () => {
    // x = [1, 2, 3, 4]: mean x² = 30/4 = 7.5, √7.5 = 2.7386128 → x̂ = [0.3651484, 0.7302967, 1.0954451, 1.4605935].
    const x = [1, 2, 3, 4];
    close(
      rmsNorm(x, undefined, 1, 0),
      [0.3651483716701107, 0.7302967433402214, 1.0954451150103321, 1.4605934866804429],
      15,
    );
    // Gemma (1 + w) with w = [0, 0.5, −1, 1]: factors [1, 1.5, 0, 2].
    close(
      rmsNorm(x, [0, 0.5, -1, 1], 1, 0),
      [0.3651483716701107, 1.0954451150103321, 0, 2.9211869733608857],
      15,
    );
    // Llama w: factors [0, 0.5, −1, 1].
    close(
      rmsNorm(x, [0, 0.5, -1, 1], 0, 0),
      [0, 0.3651483716701107, -1.0954451150103321, 1.4605934866804429],
      15,
    );
    // eps enters under the root: √(7.5 + 1e−6).
    close(
      rmsNorm(x, undefined, 1, 1e-6),
      [0.3651483473268884, 0.7302966946537768, 1.0954450419806652, 1.4605933893075536],
      15,
    );
  });

  it("LayerNorm uses the biased variance", () => {
    // mean 2.5, var = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25, √1.25 = 1.1180340;
    // x̂ = [−1.3416408, −0.4472136, 0.4472136, 1.3416408]; w = [1, 2, 1, 1], b = [0, 0, 1, −1].
    const s = Math.sqrt(1.25);
    close(
      layerNorm([1, 2, 3, 4], [1, 2, 1, 1], [0, 0, 1, -1], 0),
      [-1.5 / s, (-0.5 / s) * 2, 0.5 / s + 1, 1.5 / s - 1],
      15,
    );
    close(
      layerNorm([1, 2, 3, 4], [1, 2, 1, 1], [0, 0, 1, -1], 0),
      [-1.3416407864998738, -0.894427190999916, 1.4472135954999579, 0.3416407864998738],
      14,
    );
  });

  it("softcap is c·tanh(x/c)", () => {
    // 50·tanh(2) = 48.2013790; 50·tanh(−0.5) = −23.1058579.
    expect(softcap(100, 50)).toBeCloseTo(48.20137900379085, 12);
    expect(softcap(-25, 50)).toBeCloseTo(-23.105857863000487, 12);
    expect(softcap(0, 30)).toBe(0);
    expect(Math.abs(softcap(1e6, 30))).toBeLessThanOrEqual(30);
  });
});

describe("softmax with attention sinks", () => {
  it("the sink takes its share of the denominator and is dropped", () => {
    // logits [0, ln 2], sink 0: exp → [1, 2] and 1 → probabilities [1/4, 2/4], sum 3/4.
    close(softmax([0, Math.log(2)], 0), [0.25, 0.5], 15);
    close(softmax([0, Math.log(2)]), [1 / 3, 2 / 3], 15);
    // A very negative sink changes nothing; a large one absorbs almost everything.
    close(softmax([1, 2], -1e9), softmax([1, 2]), 15);
    expect(softmax([1, 2], 50).reduce((a, b) => a + b, 0)).toBeLessThan(1e-15);
  });
});

describe("Gaussian top-k activation sparsity", () => {
  it("keeps what exceeds mean + std·Φ⁻¹(sparsity) (population std)", () => {
    // x = [1, 2, 3, 4, 5]: mean 3, population std √2 = 1.4142136.
    // sparsity 0.5 → Φ⁻¹ = 0 → cutoff 3 → relu(x − 3) = [0, 0, 0, 1, 2].
    close(gaussianTopk([1, 2, 3, 4, 5], 0.5), [0, 0, 0, 1, 2], 14);
    // sparsity Φ(1) = 0.8413447 → Φ⁻¹ = 1 → cutoff 3 + √2 = 4.4142136 → [0, 0, 0, 0, 0.5857864].
    close(gaussianTopk([1, 2, 3, 4, 5], 0.8413447460685429), [0, 0, 0, 0, 5 - 3 - Math.SQRT2], 12);
    // sparsity 0.95 (Gemma 3n) → Φ⁻¹ = 1.6448536 → cutoff 3 + 2.3261870 = 5.3261870: all zero.
    close(gaussianTopk([1, 2, 3, 4, 5], 0.95), [0, 0, 0, 0, 0], 15);
    close(gaussianTopk([0, 0, 0, 10], 0.95), [0, 0, 0, 10 - 2.5 - Math.sqrt(18.75) * 1.6448536269514722], 12);
  });
});
