import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BEAT_BYTES,
  beatElement,
  beatRowBytes,
  beatValue,
  DEFAULT_SCHEME,
  dequantizeInt4,
  packBeats,
  packInt4,
  quantizeF32Rows,
  unpackBeats,
  unpackInt4,
} from "../../../src/layout/quant/index.js";
import { randomMatrix } from "./helpers.js";

const codesArb = fc
  .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 100 }))
  .chain(([rows, k]) =>
    fc
      .array(fc.integer({ min: -8, max: 7 }), { minLength: rows * k, maxLength: rows * k })
      .map((c) => ({ rows, k, codes: Int8Array.from(c) })),
  );

describe("plain INT4 packing", () => {
  it("puts the even input index in the low nibble and sign-extends on unpack", () => {
    expect(Array.from(packInt4(Int8Array.of(1, 2, -8, 7, -1), 1, 5))).toEqual([0x21, 0x78, 0x0f]);
    expect(Array.from(unpackInt4(Uint8Array.of(0x21, 0x78, 0x0f), 1, 5))).toEqual([1, 2, -8, 7, -1]);
  });

  it("round-trips any codes for any shape (property)", () => {
    fc.assert(
      fc.property(codesArb, ({ rows, k, codes }) => {
        const packed = packInt4(codes, rows, k);
        expect(packed.length).toBe(rows * Math.ceil(k / 2));
        expect(unpackInt4(packed, rows, k)).toEqual(codes);
        if (k % 2 === 1)
          for (let r = 0; r < rows; r++) expect(packed[(r + 1) * ((k + 1) / 2) - 1]! >>> 4).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("agrees with the kernel's packing", () => {
    const w = randomMatrix(5, 37, 3);
    const q = quantizeF32Rows(w, 37, DEFAULT_SCHEME);
    expect(packInt4(unpackInt4(q.packed, 5, 37), 5, 37)).toEqual(q.packed);
  });
});

describe("128-bit beat packing", () => {
  it("holds element i at bits [4i+3:4i] of each beat (checked bit by bit on 128-bit integers)", () => {
    fc.assert(
      fc.property(codesArb, ({ rows, k, codes }) => {
        const beats = packBeats(packInt4(codes, rows, k), rows, k);
        const perRow = beatRowBytes(k) / BEAT_BYTES;
        expect(beats.length).toBe(rows * perRow * BEAT_BYTES);
        for (let r = 0; r < rows; r++) {
          for (let b = 0; b < perRow; b++) {
            const beat = beatValue(beats, r * perRow + b);
            for (let i = 0; i < 32; i++) {
              const j = b * 32 + i;
              expect(beatElement(beat, i)).toBe(j < k ? codes[r * k + j]! : 0);
            }
          }
        }
        expect(unpackBeats(beats, rows, k)).toEqual(packInt4(codes, rows, k));
      }),
      { numRuns: 100 },
    );
  });

  it("is byte-identical to plain packing when K is a multiple of 32", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), (rows, kb) => {
        const k = 32 * kb;
        const codes = Int8Array.from({ length: rows * k }, (_, i) => ((i * 5) % 16) - 8);
        const plain = packInt4(codes, rows, k);
        expect(packBeats(plain, rows, k)).toEqual(plain);
      }),
      { numRuns: 20 },
    );
  });

  it("pads each row to a whole beat otherwise", () => {
    const codes = Int8Array.from({ length: 2 * 40 }, () => -1);
    const beats = packBeats(packInt4(codes, 2, 40), 2, 40);
    expect(beats.length).toBe(2 * 32);
    expect(Array.from(beats.subarray(0, 20)).every((b) => b === 0xff)).toBe(true);
    expect(Array.from(beats.subarray(20, 32)).every((b) => b === 0)).toBe(true);
    expect(beats[32]).toBe(0xff);
  });
});

describe("dequantizeInt4", () => {
  it("gives code × scale of the element's group", () => {
    const packed = packInt4(Int8Array.of(1, -2, 3, -8), 1, 4);
    expect(Array.from(dequantizeInt4(packed, Float32Array.of(0.5), 1, 4, 32))).toEqual([0.5, -1, 1.5, -4]);
    expect(Array.from(dequantizeInt4(packed, Float32Array.of(0.5), 1, 4, "row"))).toEqual([0.5, -1, 1.5, -4]);
    const g = packInt4(
      Int8Array.from({ length: 40 }, () => 1),
      1,
      40,
    );
    const d = dequantizeInt4(g, Float32Array.of(0.25, 4), 1, 40, 32);
    expect([d[31], d[32], d[39]]).toEqual([0.25, 4, 4]);
  });

  it("rejects a scale array of the wrong length", () => {
    expect(() => dequantizeInt4(new Uint8Array(2), new Float32Array(2), 1, 4, "row")).toThrowError(
      expect.objectContaining({ code: "layout/quant-pack-shape" }),
    );
  });
});
