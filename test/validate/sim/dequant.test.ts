/**
 * Read-back of the weight image (dequant.ts): a tile packed with `packTile` from known codes and
 * stored scales decodes to code × scale at every element,
 * for both tile orders, per-row and group scales (groups of whole beats and groups that split a
 * beat), BF16/F16/F32 scales, shapes that are not multiples of a beat, and any destination strides;
 * INT4 tables decode row by row the same way.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ManifestSegment, WeightManifest } from "../../../src/layout/image/manifest.js";
import { encodeScales } from "../../../src/layout/quant/rounding.js";
import { roundBf16, roundF16 } from "../../../src/util/float.js";
import { mulberry32 } from "../../../src/util/random.js";
import {
  decodeManifestTensor,
  decodeTile,
  decodeTileInto,
  packTile,
} from "../../../src/validate/sim/index.js";

type Dtype = "bf16" | "f16" | "f32";
const stored = (x: number, d: Dtype) =>
  d === "bf16" ? roundBf16(x) : d === "f16" ? roundF16(x) : Math.fround(x);

interface Case {
  readonly rows: number;
  readonly k: number;
  readonly order: 0 | 1;
  readonly group: number;
  readonly dtype: Dtype;
  readonly codes: Int8Array;
  readonly scales: Float32Array;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    rows: fc.integer({ min: 1, max: 9 }),
    k: fc.integer({ min: 1, max: 140 }),
    kind: fc.constantFrom("row", "g16", "g32", "g48", "g64", "kblock"),
    dtype: fc.constantFrom<Dtype>("bf16", "f16", "f32"),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map(({ rows, k, kind, dtype, seed }) => {
    const order = kind === "kblock" ? 1 : 0;
    const group = kind === "row" ? 0 : kind === "kblock" ? 32 : Number(kind.slice(1));
    const groups = group === 0 ? 1 : Math.ceil(k / group);
    const next = mulberry32(seed);
    const codes = Int8Array.from({ length: rows * k }, () => Math.floor(next() * 16) - 8);
    // Stored scales (already in their format, as the quantizer and kv_write write them: packTile
    // and encodeScales take rounded values).
    const scales = Float32Array.from({ length: rows * groups }, () => stored((next() - 0.3) * 0.07, dtype));
    return { rows, k, order, group, dtype, codes, scales } as Case;
  });

function segmentOf(c: Case, bytes: number): ManifestSegment {
  return {
    id: "t",
    tensor: "w",
    rows: { start: 0, count: c.rows },
    cols: { start: 0, count: c.k },
    order: c.order,
    group: c.group,
    scaleDtype: c.dtype,
    fileOffset: 0,
    bytes,
    transforms: [],
  } as unknown as ManifestSegment;
}

const expected = (c: Case, r: number, e: number) => {
  const groups = c.group === 0 ? 1 : Math.ceil(c.k / c.group);
  const g = c.group === 0 ? 0 : Math.floor(e / c.group);
  return Math.fround(c.codes[r * c.k + e]! * c.scales[r * groups + g]!);
};

describe("weight image read-back (dequant.ts)", () => {
  it("decodeTile gives code × stored scale at every element, in every tile format", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const fmt = { order: c.order, group: c.group, scales: true, scaleDtype: c.dtype } as const;
        const bytes = packTile(c.codes, c.scales, c.rows, c.k, fmt);
        const got = decodeTile(bytes, segmentOf(c, bytes.length));
        expect(got).toHaveLength(c.rows * c.k);
        for (let r = 0; r < c.rows; r++)
          for (let e = 0; e < c.k; e++) expect(got[r * c.k + e]).toBe(expected(c, r, e));
      }),
      { numRuns: 150 },
    );
  });

  it("decodeTileInto writes at base + r·rowStride + c·colStride and nowhere else", () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), (c, transposed) => {
        const fmt = { order: c.order, group: c.group, scales: true, scaleDtype: c.dtype } as const;
        const bytes = packTile(c.codes, c.scales, c.rows, c.k, fmt);
        const base = 3;
        const [rs, cs] = transposed ? [1, c.rows + 2] : [c.k + 1, 1];
        const out = new Float32Array(base + c.rows * rs + c.k * cs + 4).fill(Number.NaN);
        decodeTileInto(bytes, segmentOf(c, bytes.length), out, base, rs, cs);
        const want = new Float32Array(out.length).fill(Number.NaN);
        for (let r = 0; r < c.rows; r++)
          for (let e = 0; e < c.k; e++) want[base + r * rs + e * cs] = expected(c, r, e);
        expect(out).toEqual(want);
      }),
      { numRuns: 100 },
    );
  });

  it("a tile shorter than its layout is an invalid-input error, not garbage", () => {
    const c = { rows: 2, k: 32, order: 0, group: 0, dtype: "bf16" } as const;
    const bytes = packTile(new Int8Array(64), new Float32Array(2).fill(1), 2, 32, {
      order: 0,
      group: 0,
      scales: true,
      scaleDtype: "bf16",
    });
    const seg = segmentOf({ ...c, codes: new Int8Array(64), scales: new Float32Array(2) }, 16);
    expect(() => decodeTile(bytes.subarray(0, 16), seg)).toThrow(/segment t: its tile needs 48 bytes/);
  });

  it("decodeManifestTensor decodes INT4 table rows (codes padded to a beat, then the row's scales)", () => {
    // 3 rows × 40 columns, group 32 (2 BF16 scales per row): codes 32 bytes (two beats), scales
    // 4 bytes padded to a beat, so rowStride = 48.
    const rows = 3;
    const cols = 40;
    const rowStride = 48;
    const bytes = new Uint8Array(rows * rowStride);
    const code = (r: number, j: number) => ((r * 7 + j * 3) % 16) - 8;
    const scales = [0.5, -0.25, 0.125, 1.5, 2, 0.0625];
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++)
        bytes[r * rowStride + (j >>> 1)]! |= (code(r, j) & 15) << (j & 1 ? 4 : 0);
      bytes.set(encodeScales(Float32Array.from(scales.slice(2 * r, 2 * r + 2)), "bf16"), r * rowStride + 32);
    }
    const t = {
      layout: "table",
      rows,
      cols,
      rowStride,
      group: 32,
      scaleDtype: "bf16",
    } as unknown as WeightManifest["tensors"][number];
    const got = decodeManifestTensor(bytes, t);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < cols; j++)
        expect(got[r * cols + j]).toBe(code(r, j) * scales[2 * r + Math.floor(j / 32)]!);
  });
});
