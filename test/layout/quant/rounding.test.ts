import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeScales,
  encodeScales,
  f16Bits,
  resolveScheme,
  roundHalfEven,
  roundScale,
  type ScaleDtype,
} from "../../../src/layout/quant/index.js";
import { bf16ToF32, f16ToF32, f32ToBf16 } from "../../../src/util/float.js";

/** All non-negative finite values of a 16-bit float format, in increasing order, then +Infinity. */
function table(decode: (bits: number) => number, maxBits: number): number[] {
  const out: number[] = [];
  for (let b = 0; b <= maxBits; b++) out.push(decode(b));
  out.push(Number.POSITIVE_INFINITY);
  return out;
}
const BF16_TABLE = table(bf16ToF32, 0x7f7f);
const F16_TABLE = table(f16ToF32, 0x7bff);

/** Reference nearest-value rounding by search; ties go to the even code (even index). */
function nearest(tab: readonly number[], x: number): number {
  let lo = 0;
  let hi = tab.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (tab[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const a = tab[lo]!;
  const b = tab[hi]!;
  if (x === a) return a;
  // Overflow: the step after the largest finite value is as wide as the last one.
  const bEff = b === Number.POSITIVE_INFINITY ? a + (a - tab[lo - 1]!) : b;
  const da = x - a;
  const db = bEff - x;
  if (da < db) return a;
  if (db < da) return b;
  return lo % 2 === 0 ? a : b;
}

describe("roundHalfEven", () => {
  it("rounds ties to the even integer, in both signs", () => {
    const cases: [number, number][] = [
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [3.5, 4],
      [-0.5, 0],
      [-1.5, -2],
      [-2.5, -2],
      [-3.5, -4],
      [7.5, 8],
      [-8.5, -8],
      [2.4999999, 2],
      [2.5000001, 3],
    ];
    for (const [x, want] of cases) expect(roundHalfEven(x) + 0).toBe(want);
  });

  it("is the nearest integer, ties to even (property)", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (x) => {
        const r = roundHalfEven(x);
        expect(Number.isInteger(r)).toBe(true);
        const d = Math.abs(x - r);
        expect(d).toBeLessThanOrEqual(0.5);
        if (d === 0.5) expect(Math.abs(r) % 2).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe("roundScale", () => {
  it("matches the shared BF16 conversion on float32 inputs", () => {
    fc.assert(
      fc.property(fc.float({ min: 0, max: Math.fround(1e30), noNaN: true }), (x) => {
        expect(roundScale(x, "bf16")).toBe(bf16ToF32(f32ToBf16(x)));
      }),
      { numRuns: 500 },
    );
  });

  it("rounds float64 scales once, ties to even, to BF16 and F16 (subnormals and overflow included)", () => {
    const doubles = fc.oneof(
      fc.double({ min: 0, max: 1e5, noNaN: true }),
      fc.double({ min: 0, max: 1e-4, noNaN: true }),
      fc.double({ min: 0, max: 1e-38, noNaN: true }),
    );
    fc.assert(
      fc.property(doubles, (x) => {
        expect(roundScale(x, "bf16")).toBe(nearest(BF16_TABLE, x));
        expect(roundScale(x, "f16")).toBe(nearest(F16_TABLE, x));
        expect(roundScale(x, "f32")).toBe(Math.fround(x));
      }),
      { numRuns: 1000 },
    );
  });

  it("breaks exact ties to the even code (a double-rounding-prone value)", () => {
    // 1 + 2^-8 is exactly half-way between BF16 neighbours 1 and 1 + 2^-7: even is 1.
    expect(roundScale(1 + 2 ** -8, "bf16")).toBe(1);
    // 1 + 3·2^-8 is half-way between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
    expect(roundScale(1 + 3 * 2 ** -8, "bf16")).toBe(1 + 2 ** -6);
    // Just above a tie, a float32 pre-rounding would land on the tie and round down; we round up.
    expect(roundScale(1 + 2 ** -8 + 2 ** -40, "bf16")).toBe(1 + 2 ** -7);
    expect(roundScale(65519, "f16")).toBe(65504);
    expect(roundScale(65520, "f16")).toBe(Number.POSITIVE_INFINITY);
    expect(roundScale(0, "f16")).toBe(0);
  });
});

describe("scale encoding", () => {
  const dtypes: ScaleDtype[] = ["bf16", "f16", "f32"];
  it("round-trips stored scales through little-endian bytes for every dtype", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...dtypes),
        fc.array(fc.double({ min: 0, max: 6e4, noNaN: true }), { maxLength: 40 }),
        (dtype, xs) => {
          const scales = Float32Array.from(xs, (x) => roundScale(x, dtype));
          const bytes = encodeScales(scales, dtype);
          expect(bytes.length).toBe(scales.length * (dtype === "f32" ? 4 : 2));
          expect(Array.from(decodeScales(bytes, dtype))).toEqual(Array.from(scales));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("writes the documented bit patterns", () => {
    expect(Array.from(encodeScales(Float32Array.of(1, -2), "bf16"))).toEqual([0x80, 0x3f, 0x00, 0xc0]);
    expect(Array.from(encodeScales(Float32Array.of(1, 2 ** -24), "f16"))).toEqual([0x00, 0x3c, 0x01, 0x00]);
    expect(f16Bits(65504)).toBe(0x7bff);
    expect(f16Bits(-0.5)).toBe(0xb800);
    expect(Array.from(encodeScales(Float32Array.of(1), "f32"))).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });
});

describe("resolveScheme", () => {
  it("defaults to the pccx runtime: per-row BF16 scales, no search", () => {
    expect(resolveScheme()).toEqual({ scaleGroup: "row", scaleDtype: "bf16", quantSearch: false });
    expect(resolveScheme({ scaleGroup: 64, scaleDtype: "f16", quantSearch: true })).toEqual({
      scaleGroup: 64,
      scaleDtype: "f16",
      quantSearch: true,
    });
  });

  it("rejects unsupported values with a stable code and the supported list", () => {
    expect(() => resolveScheme({ scaleGroup: 48 })).toThrowError(/scale group 48/);
    try {
      resolveScheme({ scaleDtype: "fp8" });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: "layout/quant-scale-dtype", exitCode: 3 });
      expect((e as { fix: string }).fix).toContain("bf16, f16, f32");
    }
    expect(() => resolveScheme({ quantSearch: "yes" })).toThrowError(/quantSearch/);
  });
});
