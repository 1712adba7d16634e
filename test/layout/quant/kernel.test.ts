import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SCHEME,
  decodeScales,
  dequantizeInt4,
  encodeScales,
  type QuantScheme,
  quantizeF32Rows,
  quantizeTensor,
  roundScale,
  type ScaleDtype,
  type ScaleGroup,
  unpackInt4,
} from "../../../src/layout/quant/index.js";
import { matrixArb, randomMatrix, referenceStats, toBf16Bits } from "./helpers.js";

const scheme = (over: Partial<QuantScheme> = {}): QuantScheme => ({ ...DEFAULT_SCHEME, ...over });

describe("quantizeF32Rows: format", () => {
  it("quantizes a hand-checked row: scale = max|w|/7 rounded to BF16, codes packed low nibble first", () => {
    const q = quantizeF32Rows(Float32Array.of(0.7, -0.35, 0.1, 0), 4, scheme());
    // 0.7/7 = 0.1 → BF16 0.10009765625; codes 7, −3, 1, 0; −3 = 0xD as a nibble.
    expect(Array.from(q.scales)).toEqual([0.10009765625]);
    expect(Array.from(q.packed)).toEqual([0xd7, 0x01]);
  });

  it("rounds ties to even (w/s exactly half-way)", () => {
    // max 3.5 → s = 0.5 exactly; t = w/s: 7, 0.5, 1.5, 2.5, −1.5, −2.5, 3.5, −0.5.
    const w = Float32Array.of(3.5, 0.25, 0.75, 1.25, -0.75, -1.25, 1.75, -0.25);
    const q = quantizeF32Rows(w, 8, scheme());
    expect(q.scales[0]).toBe(0.5);
    expect(Array.from(unpackInt4(q.packed, 1, 8))).toEqual([7, 0, 2, 2, -2, -2, 4, 0]);
  });

  it("rounds random exact ties to even (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -20, max: 20 }),
        fc.integer({ min: 128, max: 255 }),
        fc.array(fc.integer({ min: -7, max: 6 }), { minLength: 1, maxLength: 30 }),
        (e, m, qs) => {
          const s = m * 2 ** (e - 7); // a BF16 value
          const w = Float32Array.from([7 * s, ...qs.map((q) => (q + 0.5) * s)]);
          const out = quantizeF32Rows(w, w.length, scheme());
          expect(out.scales[0]).toBe(s);
          const codes = Array.from(unpackInt4(out.packed, 1, w.length));
          expect(codes).toEqual([7, ...qs.map((q) => (q % 2 === 0 ? q : q + 1))]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("pads an odd K with a zero high nibble", () => {
    const q = quantizeF32Rows(Float32Array.of(-1, 1, -1, 2, 2, 2), 3, scheme());
    expect(q.packed.length).toBe(4);
    expect(q.packed[1]! >>> 4).toBe(0);
    expect(q.packed[3]! >>> 4).toBe(0);
    expect(Array.from(unpackInt4(q.packed, 2, 3))).toEqual([-7, 7, -7, 7, 7, 7]);
    expect(Array.from(quantizeF32Rows(Float32Array.of(-3), 1, scheme()).packed)).toEqual([0x09]);
  });

  it("encodes all-zero rows and groups with scale 0, codes 0 and no NaN in the statistics", () => {
    const w = new Float32Array(3 * 64);
    w.fill(0.5, 64, 96); // row 1: first group non-zero, second group zero
    const q = quantizeF32Rows(w, 64, scheme({ scaleGroup: 32 }));
    expect(Array.from(q.scales)).toEqual([0, 0, roundScale(0.5 / 7, "bf16"), 0, 0, 0]);
    expect(q.packed.slice(0, 32).every((b) => b === 0)).toBe(true);
    expect(q.packed.slice(48, 64).every((b) => b === 0)).toBe(true);
    const zero = quantizeF32Rows(new Float32Array(10), 5, scheme()).stats.summary();
    expect(zero).toMatchObject({
      count: 10,
      rmse: 0,
      maxAbsError: 0,
      snrDb: Number.POSITIVE_INFINITY,
      cosine: 1,
    });
  });
});

describe("quantizeF32Rows: properties", () => {
  const dtypes: ScaleDtype[] = ["bf16", "f16", "f32"];

  it("stores rounded scales, quantizes against them, and keeps |w − ŵ| ≤ scale/2 with codes in −7..7", () => {
    fc.assert(
      fc.property(
        matrixArb(),
        fc.constantFrom(...dtypes),
        fc.constantFrom<ScaleGroup>("row", 32, 64),
        (m, dtype, g) => {
          const sch = scheme({ scaleDtype: dtype, scaleGroup: g });
          const q = quantizeF32Rows(m.data, m.k, sch);
          // Every stored scale is exactly representable in its dtype.
          expect(Array.from(decodeScales(encodeScales(q.scales, dtype), dtype))).toEqual(
            Array.from(q.scales),
          );
          const codes = unpackInt4(q.packed, m.rows, m.k);
          const gl = g === "row" ? m.k : g;
          const gpr = Math.ceil(m.k / gl);
          for (let r = 0; r < m.rows; r++) {
            for (let j = 0; j < m.k; j++) {
              const s = q.scales[r * gpr + Math.floor(j / gl)]!;
              const w = m.data[r * m.k + j]!;
              const c = codes[r * m.k + j]!;
              expect(c).toBeGreaterThanOrEqual(-8);
              expect(c).toBeLessThanOrEqual(7);
              if (s === 0) expect(c).toBe(0);
              // A subnormal stored scale may round far below max/7; with a normal one nothing is clipped.
              else if (s >= (dtype === "f16" ? 2 ** -14 : 2 ** -126)) {
                expect(Math.abs(c)).toBeLessThanOrEqual(7);
                expect(Math.abs(w - c * s)).toBeLessThanOrEqual(s / 2);
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("gives identical bytes and scales for group = K and per-row scales", () => {
    fc.assert(
      fc.property(matrixArb({ ks: [32, 64, 128] }), fc.constantFrom(...dtypes), (m, dtype) => {
        const a = quantizeF32Rows(m.data, m.k, scheme({ scaleDtype: dtype }));
        const b = quantizeF32Rows(
          m.data,
          m.k,
          scheme({ scaleDtype: dtype, scaleGroup: m.k as 32 | 64 | 128 }),
        );
        expect(b.packed).toEqual(a.packed);
        expect(b.scales).toEqual(a.scales);
        expect(b.stats.summary()).toEqual(a.stats.summary());
      }),
      { numRuns: 100 },
    );
  });

  it("reports statistics equal to a plain reference computation", () => {
    const w = randomMatrix(16, 96, 7);
    const q = quantizeF32Rows(w, 96, scheme({ scaleGroup: 32 }));
    const d = dequantizeInt4(q.packed, q.scales, 16, 96, 32);
    const ref = referenceStats(w, d);
    const s = q.stats.summary();
    expect(s.count).toBe(w.length);
    expect(s.maxAbsError).toBe(ref.maxAbsError);
    expect(s.rmse).toBeCloseTo(ref.rmse, 12);
    expect(s.snrDb).toBeCloseTo(ref.snrDb, 9);
    expect(s.cosine).toBeCloseTo(ref.cosine, 12);
    expect(s.snrDb).toBeGreaterThan(20); // INT4 on uniform data: ≈ 10·log10(4·7²) ≈ 22.9 dB per row
  });
});

describe("BF16 input", () => {
  it("decodes BF16 bits to the same result as float32 rows, for even and odd K and unaligned views", async () => {
    for (const k of [64, 33]) {
      const m = randomMatrix(9, k, k, 0.3, true);
      const want = quantizeF32Rows(m, k, scheme());
      const bits = toBf16Bits(m);
      const unaligned = new Uint16Array(bits.length + 1).subarray(1);
      unaligned.set(bits);
      for (const b of [bits, unaligned]) {
        const t = await quantizeTensor([{ kind: "bf16", bits: b }], { k, rows: 9 });
        expect(t.packed).toEqual(want.packed);
        expect(t.scales).toEqual(want.scales);
        expect(t.summary).toEqual(want.stats.summary());
      }
    }
  });
});

describe("quantizeF32Rows: errors", () => {
  it("rejects NaN and Infinity with the tensor name and the element position", () => {
    const w = randomMatrix(3, 8, 1);
    w[2 * 8 + 5] = Number.NaN;
    try {
      quantizeF32Rows(w, 8, scheme(), { tensor: "model.layers.0.mlp.up_proj.weight", firstRow: 40 });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: "layout/quant-nonfinite", exitCode: 2 });
      expect((e as Error).message).toBe("tensor model.layers.0.mlp.up_proj.weight has NaN at [42, 5]");
    }
    w[2 * 8 + 5] = Number.NEGATIVE_INFINITY;
    expect(() => quantizeF32Rows(w, 8, scheme({ scaleGroup: 32 }))).toThrowError(/-Infinity at \[2, 5\]/);
  });

  it("rejects a scale that overflows F16 and points to a wider dtype", () => {
    try {
      quantizeF32Rows(Float32Array.of(1e6, 1), 2, scheme({ scaleDtype: "f16" }));
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: "layout/quant-scale-range", exitCode: 3 });
      expect((e as { fix: string }).fix).toMatch(/bf16 or f32/);
    }
  });

  it("encodes an F16 scale that underflows to 0 as all-zero codes, with the error counted", () => {
    const q = quantizeF32Rows(Float32Array.of(1e-9, -2e-9), 2, scheme({ scaleDtype: "f16" }));
    expect(q.scales[0]).toBe(0);
    expect(q.packed[0]).toBe(0);
    const s = q.stats.summary();
    expect(s.maxAbsError).toBeCloseTo(2e-9, 15);
    expect(s.snrDb).toBe(0);
  });

  it("rejects a block that is not whole rows as an internal error", () => {
    expect(() => quantizeF32Rows(new Float32Array(7), 2, scheme())).toThrowError(
      expect.objectContaining({ code: "layout/quant-block-shape", exitCode: 70 }),
    );
  });
});
