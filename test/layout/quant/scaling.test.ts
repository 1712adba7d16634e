import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  DEFAULT_SCHEME,
  QuantPool,
  type QuantScheme,
  quantizeF32Rows,
  type RowBlock,
} from "../../../src/layout/quant/index.js";
import { runQuantTask } from "../../../src/layout/quant/task.js";
import { bf16Value, randomMatrix, toBf16Bits } from "./helpers.js";

/** The reference: scale in float32 first (as the image writer used to on its main thread), then quantize. */
function scaledReference(
  m: Float32Array,
  k: number,
  colScale: Float32Array | undefined,
  rowScale: Float32Array | undefined,
  scheme: QuantScheme,
) {
  const w = new Float32Array(m.length);
  for (let i = 0; i < m.length; i++) {
    let v = m[i]!;
    if (colScale) v = Math.fround(v * colScale[i % k]!);
    if (rowScale) v = Math.fround(v * rowScale[Math.floor(i / k)]!);
    w[i] = v;
  }
  return quantizeF32Rows(w, k, scheme);
}

function factors(n: number, seed: number): Float32Array {
  // Norm-like factors around 1, a few negative or zero (folded (1 + w) can be anything).
  const f = randomMatrix(1, n, seed, 1.5);
  for (let i = 0; i < n; i++) f[i] = Math.fround(1 + f[i]!);
  if (n > 3) f[3] = 0;
  return f;
}

const schemes: QuantScheme[] = [
  DEFAULT_SCHEME,
  { scaleGroup: 32, scaleDtype: "f16", quantSearch: false },
  { scaleGroup: 64, scaleDtype: "f32", quantSearch: true },
];

describe("folded-norm factors applied by the quant task (QuantTask.colScale / rowScale)", () => {
  const pool = new QuantPool(2);
  afterAll(() => pool.close());

  it("equals scaling in float32 and then quantizing, for BF16 and F32 blocks (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 130 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.constantFrom(0, 1, 2),
        fc.constantFrom("col", "row", "both"),
        (rows, k, seed, si, which) => {
          const scheme = schemes[si]!;
          const m = randomMatrix(rows, k, seed, 0.05, true);
          const colScale = which !== "row" ? factors(k, seed + 1) : undefined;
          const rowScale = which !== "col" ? factors(rows, seed + 2) : undefined;
          const want = scaledReference(m, k, colScale, rowScale, scheme);
          for (const block of [{ kind: "bf16", bits: toBf16Bits(m) } as RowBlock, m.slice()]) {
            const got = runQuantTask({
              block,
              k,
              firstRow: 0,
              scheme,
              ...(colScale ? { colScale } : {}),
              ...(rowScale ? { rowScale } : {}),
            });
            expect(got.packed).toEqual(want.packed);
            expect(got.scales).toEqual(want.scales);
            expect(got.stats).toEqual(want.stats.toData());
          }
        },
      ),
      { numRuns: 60, seed: 5 },
    );
  });

  it("gives the same bytes on a worker as inline, and leaves the caller's factors intact", async () => {
    const k = 96;
    const m = randomMatrix(40, k, 9, 0.05, true);
    const colScale = factors(k, 4);
    const inline = runQuantTask({
      block: { kind: "bf16", bits: toBf16Bits(m) },
      k,
      firstRow: 0,
      scheme: DEFAULT_SCHEME,
      colScale,
    });
    // Two tasks share one factor array (and a sub-view of a larger one): cloned, never detached.
    const big = new Float32Array(3 * k);
    big.set(colScale, k);
    const view = big.subarray(k, 2 * k);
    const [a, b] = await Promise.all([
      pool.run({
        block: { kind: "bf16", bits: toBf16Bits(m) },
        k,
        firstRow: 0,
        scheme: DEFAULT_SCHEME,
        colScale,
      }),
      pool.run({
        block: { kind: "bf16", bits: toBf16Bits(m) },
        k,
        firstRow: 0,
        scheme: DEFAULT_SCHEME,
        colScale: view,
      }),
    ]);
    for (const r of [a!, b!]) {
      expect(r.packed).toEqual(inline.packed);
      expect(r.scales).toEqual(inline.scales);
      expect(r.stats).toEqual(inline.stats);
    }
    expect(colScale.length).toBe(k);
    expect(big.length).toBe(3 * k);
  });

  it("rejects factors that do not fit the block (an internal bug)", () => {
    const m = randomMatrix(4, 32, 1);
    expect(() =>
      runQuantTask({ block: m, k: 32, firstRow: 0, scheme: DEFAULT_SCHEME, colScale: new Float32Array(31) }),
    ).toThrow(expect.objectContaining({ code: "layout/quant-block-shape", exitCode: 70 }));
    expect(() =>
      runQuantTask({ block: m, k: 32, firstRow: 0, scheme: DEFAULT_SCHEME, rowScale: new Float32Array(5) }),
    ).toThrow(expect.objectContaining({ code: "layout/quant-block-shape" }));
  });

  it("reports a factor that makes a weight infinite as a non-finite weight, at its place", () => {
    const m = randomMatrix(3, 8, 2, 1, true);
    m[1 * 8 + 5] = 3e38;
    const colScale = new Float32Array(8).fill(1);
    colScale[5] = 10;
    expect(() =>
      runQuantTask({ block: m, k: 8, firstRow: 100, scheme: DEFAULT_SCHEME, colScale, tensor: "t" }),
    ).toThrow(
      expect.objectContaining({
        code: "layout/quant-nonfinite",
        message: "tensor t has Infinity at [101, 5]",
      }),
    );
  });
});

describe("BF16 rows decoded and scanned in one pass", () => {
  it("give exactly the float32 path's codes, scales and row sums, for every scheme (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.constantFrom(0, 1, 2),
        (rows, k, seed, si) => {
          const scheme = schemes[si]!;
          // Magnitudes over 40 binades, so that float64 sums of squares round (and their order matters).
          const m = randomMatrix(rows, k, seed, 0.3).map((v, i) =>
            bf16Value(v * 2 ** -((i * 7919 + seed) % 41)),
          );
          if (k > 40) m.fill(0, 0, 40); // an all-zero group or row prefix
          const want = quantizeF32Rows(m, k, scheme);
          const got = runQuantTask({ block: { kind: "bf16", bits: toBf16Bits(m) }, k, firstRow: 0, scheme });
          expect(got.packed).toEqual(want.packed);
          expect(got.scales).toEqual(want.scales);
          expect(got.stats).toEqual(want.stats.toData());
        },
      ),
      { numRuns: 80, seed: 17 },
    );
  });

  it("still reports the first NaN of a row at its column", () => {
    const m = randomMatrix(4, 64, 8, 0.3, true);
    m[2 * 64 + 37] = Number.NaN;
    expect(() =>
      runQuantTask({
        block: { kind: "bf16", bits: toBf16Bits(m) },
        k: 64,
        firstRow: 10,
        scheme: { scaleGroup: 32, scaleDtype: "bf16", quantSearch: false },
        tensor: "w",
      }),
    ).toThrow(
      expect.objectContaining({ code: "layout/quant-nonfinite", message: "tensor w has NaN at [12, 37]" }),
    );
  });
});

describe("recycled blocks and outputs (shared memory)", () => {
  const pool = new QuantPool(2, 2);
  afterAll(() => pool.close());

  it("writes into the given output buffers (overwriting stale bytes) and ignores ones of the wrong size", async () => {
    const k = 33; // odd K: the last byte's high nibble must be 0 even in a dirty buffer
    const m = randomMatrix(7, k, 3);
    m.fill(0, 2 * k, 3 * k); // an all-zero row (scale 0) must be written as zeros, not left stale
    const want = quantizeF32Rows(m, k, DEFAULT_SCHEME);
    const packed = new SharedArrayBuffer(7 * 17);
    const scales = new SharedArrayBuffer(7 * 4);
    new Uint8Array(packed).fill(0xff);
    new Float32Array(scales).fill(Number.NaN);
    const r = runQuantTask({ block: m, k, firstRow: 0, scheme: DEFAULT_SCHEME, output: { packed, scales } });
    expect(r.packed.buffer).toBe(packed);
    expect(r.scales.buffer).toBe(scales);
    expect(r.packed).toEqual(want.packed);
    expect(r.scales).toEqual(want.scales);
    const wrong = runQuantTask({
      block: m,
      k,
      firstRow: 0,
      scheme: DEFAULT_SCHEME,
      output: { packed: new SharedArrayBuffer(5), scales },
    });
    expect(wrong.packed.buffer).not.toBe(scales);
    expect(wrong.packed).toEqual(want.packed);
  });

  it("shares SharedArrayBuffer blocks and outputs with the workers instead of transferring them", async () => {
    const k = 64;
    const rows = 12;
    const m = randomMatrix(rows, k, 5, 0.05, true);
    const want = quantizeF32Rows(m, k, DEFAULT_SCHEME);
    const input = new SharedArrayBuffer(rows * k * 2);
    const bits = new Uint16Array(input);
    bits.set(toBf16Bits(m));
    const packed = new SharedArrayBuffer(rows * 32);
    const scales = new SharedArrayBuffer(rows * 4);
    const r = await pool.run({
      block: { kind: "bf16", bits },
      k,
      firstRow: 0,
      scheme: DEFAULT_SCHEME,
      output: { packed, scales },
    });
    expect(bits.length).toBe(rows * k); // not detached
    expect(new Uint8Array(packed)).toEqual(want.packed); // written in place by the worker
    expect(new Float32Array(scales)).toEqual(want.scales);
    expect(r.packed).toEqual(want.packed);
  });

  it("keeps up to `depth` tasks on each worker and still answers in submission order", async () => {
    const k = 32;
    const blocks = Array.from({ length: 9 }, (_, i) => randomMatrix(1 + (i % 4) * 20, k, 20 + i));
    const want = blocks.map((b) => quantizeF32Rows(b, k, DEFAULT_SCHEME).packed);
    const got = await Promise.all(
      blocks.map((b) => pool.run({ block: b.slice(), k, firstRow: 0, scheme: DEFAULT_SCHEME })),
    );
    expect(pool.depth).toBe(2);
    expect(got.map((r) => r.packed)).toEqual(want);
  });
});
