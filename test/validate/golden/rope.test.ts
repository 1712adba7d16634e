import { describe, expect, it } from "vitest";
import {
  ropeAttentionFactor,
  ropeDependsOnLength,
  ropeInvFreq,
  yarnCorrectionRange,
  yarnGetMscale,
} from "../../../src/resolver/graph/index.js";
import { ropeRotate } from "../../../src/validate/golden/index.js";

const close = (a: ArrayLike<number>, b: readonly number[], digits = 12) => {
  expect(a.length).toBe(b.length);
  for (const [i, v] of b.entries()) expect(a[i]).toBeCloseTo(v, digits);
};

describe("RoPE conventions on x = [1, 2, 3, 4], θ = 10000, d = 4", () => {
  // invFreq = [10000^(0/4), 10000^(-2/4)] = [1, 0.01].
  const inv = ropeInvFreq({ type: "default", theta: 10000 }, 4);
  const x = [1, 2, 3, 4];

  it("has the default inverse frequencies [1, 0.01]", () => close(inv, [1, 0.01], 15));

  it("is the identity at position 0 for both conventions", () => {
    close(ropeRotate(x, 0, inv, 0, "half"), x, 15);
    close(ropeRotate(x, 0, inv, 0, "interleaved"), x, 15);
  });

  it("rotate-half pairs (x0, x2) and (x1, x3) at position 1", () => {
    // cos 1 = 0.5403023059, sin 1 = 0.8414709848, cos .01 = 0.9999500004, sin .01 = 0.0099998333.
    // out0 = 1·cos1 − 3·sin1 = 0.5403023 − 2.5244130 = −1.9841106
    // out2 = 3·cos1 + 1·sin1 = 1.6209069 + 0.8414710 =  2.4623779
    // out1 = 2·cos.01 − 4·sin.01 = 1.9999000 − 0.0399993 = 1.9599007
    // out3 = 4·cos.01 + 2·sin.01 = 3.9998000 + 0.0199997 = 4.0197997
    close(
      ropeRotate(x, 0, inv, 1, "half"),
      [-1.9841106485555495, 1.959900667496664, 2.4623779024123156, 4.019799668334994],
    );
  });

  it("interleaved pairs (x0, x1) and (x2, x3) at position 1", () => {
    // out0 = 1·cos1 − 2·sin1 = 0.5403023 − 1.6829420 = −1.1426397
    // out1 = 2·cos1 + 1·sin1 = 1.0806046 + 0.8414710 =  1.9220756
    // out2 = 3·cos.01 − 4·sin.01 = 2.9998500 − 0.0399993 = 2.9598507
    // out3 = 4·cos.01 + 3·sin.01 = 3.9998000 + 0.0299995 = 4.0297995
    close(
      ropeRotate(x, 0, inv, 1, "interleaved"),
      [-1.1426396637476532, 1.922075596544176, 2.9598506679133294, 4.029799501669161],
    );
  });

  it("rotates by twice the angle at position 2", () => {
    // cos 2 = −0.4161468365, sin 2 = 0.9092974268, cos .02 = 0.9998000067, sin .02 = 0.0199986667.
    // half:  out0 = −0.4161468 − 3·0.9092974 = −3.1440391; out2 = 3·(−0.4161468) + 0.9092974 = −0.3391431
    //        out1 = 2·0.9998000 − 4·0.0199987 = 1.9196053; out3 = 4·0.9998000 + 2·0.0199987 = 4.0391974
    close(
      ropeRotate(x, 0, inv, 2, "half"),
      [-3.1440391170241875, 1.9196053465598233, -0.33914308281574557, 4.039197360052977],
    );
    // interleaved: out0 = −0.4161468 − 2·0.9092974 = −2.2347417; out1 = 2·(−0.4161468) + 0.9092974 = 0.0770038
    //              out2 = 3·0.9998000 − 4·0.0199987 = 2.9194054; out3 = 4·0.9998000 + 3·0.0199987 = 4.0591960
    close(
      ropeRotate(x, 0, inv, 2, "interleaved"),
      [-2.234741690198506, 0.0770037537313969, 2.919405353226401, 4.05919602674631],
    );
  });

  it("leaves features outside [offset, offset + rotaryDim) untouched and scales the rotated ones", () => {
    // A 6-wide head with 2 pass-through features first (DeepSeek puts nope before rope).
    const head = [7, 8, 1, 2, 3, 4];
    const out = ropeRotate(head, 2, inv, 1, "half", 2);
    expect(Array.from(out.subarray(0, 2))).toEqual([7, 8]);
    close(out.subarray(2), [
      -1.9841106485555495 * 2,
      1.959900667496664 * 2,
      2.4623779024123156 * 2,
      4.019799668334994 * 2,
    ]);
  });
});

/** YaRN θ = 1e4, factor 40 over 4096 positions (the DeepSeek-V3 setting), truncated correction range. */
const YARN_40 = {
  type: "yarn" as const,
  theta: 10000,
  factor: 40,
  originalMaxPositionEmbeddings: 4096,
  betaFast: 32,
  betaSlow: 1,
  truncate: true,
};

describe("frequency schedules against the published formulas", () => {
  it("llama3 keeps high, divides low and smooths middle frequencies (θ = 500000, d = 8)", () => {
    // base invFreq_i = 500000^(−2i/8) = [1, 0.0376060, 0.00141421, 5.31830e−5];
    // wavelengths 2π/f = [6.28, 167.1, 4442.9, 118142.8]; orig 8192, low_freq_factor 1, high 4, factor 8:
    // high_freq_wavelen = 8192/4 = 2048, low_freq_wavelen = 8192/1 = 8192.
    // i=0,1: wavelen < 2048 → unchanged. i=3: wavelen > 8192 → f/8 = 6.64787e−6.
    // i=2: smooth = (8192/4442.883 − 1)/(4 − 1) = 0.2812826; f·((1 − s)/8 + s) = 0.00141421·0.3711222 = 5.248462e−4.
    const f = ropeInvFreq(
      {
        type: "llama3",
        theta: 500000,
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 8192,
      },
      8,
    );
    close(f, [1, 0.03760603093086393, 5.248461609929547e-4, 6.647869871181235e-6], 15);
  });

  it("yarn blends interpolation and extrapolation across the correction range (θ = 1e4, d = 8, factor 40)", () => {
    // find_correction_dim(r) = 8·ln(4096/(2πr)) / (2 ln 10000): r = 32 → 1.30903, r = 1 → 2.81418.
    // truncate: low = floor = 1, high = ceil = 3; ramp_i = clamp((i − 1)/2, 0, 1) = [0, 0, 0.5, 1];
    // invFreq_i = base_i/40 · ramp_i + base_i · (1 − ramp_i) with base = [1, 0.1, 0.01, 0.001]:
    // [1, 0.1, 0.01·(0.5/40 + 0.5) = 0.005125, 0.001/40 = 2.5e−5].
    const spec = YARN_40;
    expect(yarnCorrectionRange(spec, 8)).toEqual({ low: 1, high: 3 });
    close(ropeInvFreq(spec, 8), [1, 0.1, 0.005125, 2.5e-5], 15);
    // Without truncation (gpt-oss): ramp_2 = (2 − 1.30903)/(2.81418 − 1.30903) = 0.459070,
    // invFreq_2 = 0.01·(0.459070/40 + 0.540930) = 0.00552406.
    close(ropeInvFreq({ ...spec, truncate: false }, 8), [1, 0.1, 0.005524062977468265, 2.5e-5], 12);
  });

  it("yarn attention factor: mscale(40) = 0.1·ln 40 + 1 = 1.3688879; a ratio of equal mscales is 1", () => {
    const base = YARN_40;
    expect(ropeAttentionFactor(base)).toBeCloseTo(1.3688879454113936, 14);
    expect(yarnGetMscale(40)).toBeCloseTo(1.3688879454113936, 14);
    expect(ropeAttentionFactor({ ...base, mscale: 0.8, mscaleAllDim: 0.8 })).toBe(1);
    // DeepSeek-V3: mscale 1, mscale_all_dim 1 → cos/sin factor 1 (the mscale² goes into the attention scale).
    expect(ropeAttentionFactor({ ...base, mscale: 1, mscaleAllDim: 1 })).toBe(1);
    expect(ropeAttentionFactor({ ...base, attentionFactor: 0.5 })).toBe(0.5);
    expect(yarnGetMscale(1)).toBe(1);
  });

  it("linear divides by the factor; dynamic NTK only changes beyond max positions", () => {
    close(ropeInvFreq({ type: "linear", theta: 10000, factor: 4 }, 4), [0.25, 0.0025], 15);
    const dyn = { type: "dynamic" as const, theta: 10000, factor: 2, maxPositionEmbeddings: 100 };
    close(ropeInvFreq(dyn, 4, 50), [1, 0.01], 15);
    // seqLen 200: θ' = 10000·(2·200/100 − 1)^(4/2) = 10000·9 = 90000 → invFreq_1 = 90000^(−1/2) = 1/300.
    close(ropeInvFreq(dyn, 4, 200), [1, 1 / 300], 15);
    expect(ropeDependsOnLength(dyn)).toBe(true);
  });

  it("longrope picks short or long factors by length; its attention factor is √(1 + ln f / ln orig)", () => {
    const spec = {
      type: "longrope" as const,
      theta: 10000,
      shortFactor: [1, 2],
      longFactor: [4, 8],
      originalMaxPositionEmbeddings: 4096,
      factor: 32,
    };
    close(ropeInvFreq(spec, 4, 4096), [1, 0.005], 15);
    close(ropeInvFreq(spec, 4, 4097), [0.25, 0.00125], 15);
    // √(1 + ln 32 / ln 4096) = √(1 + 5/12) = 1.1902381.
    expect(ropeAttentionFactor(spec)).toBeCloseTo(Math.sqrt(17 / 12), 14);
    expect(ropeAttentionFactor({ ...spec, factor: 1 })).toBe(1);
  });

  it("proportional rotates the first ⌊p·d/2⌋ angles over the whole head and freezes the rest", () => {
    // d = 8, p = 0.5 → 2 angles: θ^(0/8) = 1, θ^(−2/8) = 1e6^(−1/4) = 0.0316228; the last 2 are 0.
    const f = ropeInvFreq({ type: "proportional", theta: 1e6, factor: 1, partialRotaryFactor: 0.5 }, 8);
    close(f, [1, 0.03162277660168379, 0, 0], 15);
    const head = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = ropeRotate(head, 0, f, 5, "half");
    // Pairs (2, 6) and (3, 7) have frequency 0: unchanged.
    expect([out[2], out[3], out[6], out[7]]).toEqual([3, 4, 7, 8]);
    expect(out[0]).toBeCloseTo(1 * Math.cos(5) - 5 * Math.sin(5), 14);
  });
});
