/**
 * The simulator's BF16 rounding is util/float's: `bf16Round` (one value) and `bf16RoundInPlace`
 * (L2 ranges, on the float32 bits) agree with `f32ToBf16`/`roundBf16` on every float32, NaN,
 * ±Infinity, subnormals and ties included, and with the bit formula the simulator used before
 * (kept here as the reference: round to nearest even on the upper 16 bits, NaN → quiet NaN).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeBf16, f32ToBf16, roundBf16, roundBf16InPlace } from "../../../src/util/float.js";
import { bf16Round } from "../../../src/validate/sim/index.js";
import { bf16RoundInPlace } from "../../../src/validate/sim/numeric.js";

/** The simulator's former in-place rounding, verbatim. */
function reference(b: number): number {
  if ((b & 0x7f800000) === 0x7f800000) return b & 0x007fffff ? ((b | 0x00400000) & 0xffff0000) >>> 0 : b;
  return (((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16) >>> 0;
}

const bitsOf = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;
const floatOfBits = (b: number) => new Float32Array(Uint32Array.of(b).buffer)[0]!;

/** Any float32 bits, one in three an exact tie (low half 0x8000), one in six ±Infinity or a NaN. */
const anyBits = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }).map((h) => ((h << 16) | 0x8000) >>> 0), weight: 2 },
  {
    arbitrary: fc
      .integer({ min: 0, max: 0x1ffffff })
      .map((m) => (0x7f800000 | (m & 0x7fffff) | (m >> 23 ? 0x80000000 : 0)) >>> 0),
    weight: 1,
  },
);

describe("BF16 rounding: the simulator uses util/float", () => {
  it("rounds ties to even, keeps ±Infinity, quiets NaN, overflows the largest float32 to Infinity", () => {
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7 (BF16 keeps 7 fraction bits): to even, 1.
    expect(bf16Round(1 + 2 ** -8)).toBe(1);
    // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
    expect(bf16Round(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6);
    expect(bf16Round(-(1 + 2 ** -8))).toBe(-1);
    expect(bf16Round(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(bf16Round(Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(bf16Round(3.4028234663852886e38)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(bf16Round(Number.NaN))).toBe(true);
    // A signalling NaN's payload survives with the quiet bit set.
    const bits = Uint32Array.of(0x7f800001, 0xff812345, 0x00000001, 0x80008000);
    bf16RoundInPlace(bits, 0, 4);
    expect([...bits]).toEqual([0x7fc00000, 0xffc10000, 0, 0x80000000]);
  });

  it("bf16Round and bf16RoundInPlace agree with util/float and the former bit formula on every float32", () => {
    fc.assert(
      fc.property(anyBits, (b) => {
        const x = floatOfBits(b);
        const one = Uint32Array.of(0, b, 0);
        bf16RoundInPlace(one, 1, 1);
        expect(one[0]).toBe(0);
        expect(one[2]).toBe(0);
        expect(one[1]).toBe(reference(b));
        expect(one[1]).toBe((f32ToBf16(x) << 16) >>> 0);
        expect(Object.is(bf16Round(x), roundBf16(x))).toBe(true);
        expect(Number.isNaN(x) ? Number.isNaN(bf16Round(x)) : bitsOf(bf16Round(x)) === reference(b)).toBe(
          true,
        );
      }),
      { numRuns: 3000 },
    );
  });

  it("roundBf16InPlace rounds exactly the range asked", () => {
    const f = Float32Array.of(1.001, 1.001, 1.001, 1.001);
    roundBf16InPlace(new Uint32Array(f.buffer), 1, 2);
    expect([...f]).toEqual([Math.fround(1.001), 1, 1, Math.fround(1.001)]);
  });

  it("encodeBf16 writes f32ToBf16 little-endian (the image's vector encoding)", () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: false }), { maxLength: 20 }), (xs) => {
        const bytes = encodeBf16(xs);
        expect(bytes).toHaveLength(2 * xs.length);
        for (const [i, x] of xs.entries())
          expect(bytes[2 * i]! | (bytes[2 * i + 1]! << 8)).toBe(f32ToBf16(x));
      }),
      { numRuns: 200 },
    );
  });
});
