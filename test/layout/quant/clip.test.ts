import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CLIP_RATIOS,
  DEFAULT_SCHEME,
  groupSquaredError,
  quantizeF32Rows,
  roundScale,
  type ScaleDtype,
  searchScale,
  unpackInt4,
} from "../../../src/layout/quant/index.js";
import { matrixArb } from "./helpers.js";

const maxAbs = (w: Float32Array) => w.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe("clipping search", () => {
  it("tries 21 clip ratios from 1.0 down to 0.5 in steps of 1/40", () => {
    expect(CLIP_RATIOS.length).toBe(21);
    expect(CLIP_RATIOS[0]).toBe(1);
    expect(CLIP_RATIOS[20]).toBe(0.5);
    expect(CLIP_RATIOS[1]).toBe(0.975);
  });

  it("never does worse than the plain scale and returns one of the candidate scales (property)", () => {
    fc.assert(
      fc.property(matrixArb({ maxRows: 1 }), fc.constantFrom<ScaleDtype>("bf16", "f32"), (m, dtype) => {
        const w = m.data;
        const mx = maxAbs(w);
        if (mx === 0) return;
        const plain = roundScale(mx / 7, dtype);
        const best = searchScale(w, 0, w.length, mx, dtype);
        const candidates = CLIP_RATIOS.map((c) => roundScale((mx * c) / 7, dtype));
        expect(candidates).toContain(best);
        expect(groupSquaredError(w, 0, w.length, best)).toBeLessThanOrEqual(
          groupSquaredError(w, 0, w.length, plain),
        );
        for (const c of candidates) {
          if (c > 0)
            expect(groupSquaredError(w, 0, w.length, best)).toBeLessThanOrEqual(
              groupSquaredError(w, 0, w.length, c),
            );
        }
      }),
      { numRuns: 150 },
    );
  });

  it("clips an outlier when that lowers the squared error, and the kernel reports it", () => {
    const w = new Float32Array(128);
    for (let i = 0; i < 128; i++) w[i] = ((i % 15) - 7) * 0.01;
    w[5] = 0.1; // outlier: the plain scale wastes most levels on it
    const plain = quantizeF32Rows(w, 128, DEFAULT_SCHEME);
    const searched = quantizeF32Rows(w, 128, { ...DEFAULT_SCHEME, quantSearch: true });
    expect(searched.scales[0]).toBeLessThan(plain.scales[0]!);
    expect(searched.stats.sumErrSq.value()).toBeLessThan(plain.stats.sumErrSq.value());
    expect(searched.stats.summary().clamped).toBeGreaterThan(0);
    expect(unpackInt4(searched.packed, 1, 128)[5]).toBe(7);
  });

  it("keeps |w − ŵ| ≤ scale/2 for every value inside the clipped range (property)", () => {
    fc.assert(
      fc.property(matrixArb({ ks: [16, 33, 64] }), (m) => {
        const q = quantizeF32Rows(m.data, m.k, { ...DEFAULT_SCHEME, quantSearch: true, scaleGroup: 32 });
        const codes = unpackInt4(q.packed, m.rows, m.k);
        const gpr = Math.ceil(m.k / 32);
        for (let i = 0; i < m.data.length; i++) {
          const r = Math.floor(i / m.k);
          const s = q.scales[r * gpr + Math.floor((i % m.k) / 32)]!;
          const w = m.data[i]!;
          const c = codes[i]!;
          expect(c).toBeGreaterThanOrEqual(-8);
          expect(c).toBeLessThanOrEqual(7);
          if (s > 0 && w / s <= 7.5 && w / s >= -8.5) expect(Math.abs(w - c * s)).toBeLessThanOrEqual(s / 2);
          if (s > 0 && w / s > 7.5) expect(c).toBe(7);
          if (s > 0 && w / s < -8.5) expect(c).toBe(-8);
        }
      }),
      { numRuns: 100 },
    );
  });
});
