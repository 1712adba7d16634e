import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SCHEME,
  ExactSum,
  QuantStats,
  quantizeF32Rows,
  quantizeTensor,
  type RowSums,
  summaryToJson,
} from "../../../src/layout/quant/index.js";
import { matrixArb, splitRows } from "./helpers.js";

const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true });

describe("ExactSum", () => {
  it("is exact where float addition is not", () => {
    const s = new ExactSum();
    for (const x of [1e16, 1, -1e16, 1]) s.add(x);
    expect(s.value()).toBe(2);
    let naive = 0;
    for (let i = 0; i < 10; i++) naive += 0.1;
    const t = new ExactSum();
    for (let i = 0; i < 10; i++) t.add(0.1);
    expect(naive).not.toBe(1);
    expect(t.value()).toBe(1); // ten float64 0.1s add up to 1 + 5.6e-17 exactly: 1 when rounded once
  });

  it("gives the same value for any order and any merge grouping (property)", () => {
    fc.assert(
      fc.property(fc.array(finite, { maxLength: 60 }), fc.integer({ min: 0, max: 59 }), (xs, cut) => {
        const one = new ExactSum();
        for (const x of xs) one.add(x);
        const rev = new ExactSum();
        for (const x of [...xs].reverse()) rev.add(x);
        const a = new ExactSum();
        const b = new ExactSum();
        for (const [i, x] of xs.entries()) (i < cut ? a : b).add(x);
        b.merge(a);
        expect(rev.value()).toBe(one.value());
        expect(b.value()).toBe(one.value());
        expect(new ExactSum(one.toJSON()).value()).toBe(one.value());
      }),
      { numRuns: 300 },
    );
  });
});

const rowSumsArb: fc.Arbitrary<RowSums> = fc.record({
  n: fc.integer({ min: 1, max: 4096 }),
  sumSq: fc.double({ min: 0, max: 1e3, noNaN: true }),
  sumErrSq: fc.double({ min: 0, max: 10, noNaN: true }),
  sumDeqSq: fc.double({ min: 0, max: 1e3, noNaN: true }),
  sumCross: fc.double({ min: 0, max: 1e3, noNaN: true }),
  maxAbsError: fc.double({ min: 0, max: 1, noNaN: true }),
  maxAbsWeight: fc.double({ min: 0, max: 10, noNaN: true }),
  clamped: fc.integer({ min: 0, max: 5 }),
});

function statsOf(rows: readonly RowSums[]): QuantStats {
  const s = new QuantStats();
  for (const r of rows) s.addRow(r);
  return s;
}

describe("QuantStats", () => {
  it("merges associatively and commutatively, bit for bit (property)", () => {
    fc.assert(
      fc.property(
        fc.array(rowSumsArb, { maxLength: 8 }),
        fc.array(rowSumsArb, { maxLength: 8 }),
        fc.array(rowSumsArb, { maxLength: 8 }),
        (a, b, c) => {
          const left = statsOf(a).merge(statsOf(b)).merge(statsOf(c));
          const right = statsOf(a).merge(statsOf(b).merge(statsOf(c)));
          const swapped = statsOf(c).merge(statsOf(a)).merge(statsOf(b));
          const oneShot = statsOf([...a, ...b, ...c]);
          expect(right.summary()).toEqual(left.summary());
          expect(swapped.summary()).toEqual(left.summary());
          expect(oneShot.summary()).toEqual(left.summary());
          // Through the plain-data form used between threads.
          expect(new QuantStats(left.toData()).summary()).toEqual(left.summary());
        },
      ),
      { numRuns: 200 },
    );
  });

  it("combined over row blocks equals the one-shot statistics of the whole tensor (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        matrixArb({ maxRows: 12 }),
        fc.array(fc.integer({ min: 1, max: 5 })),
        async (m, cuts) => {
          const whole = quantizeF32Rows(m.data, m.k, DEFAULT_SCHEME);
          const blocks = splitRows(m.data, m.k, cuts);
          const t = await quantizeTensor(blocks, { k: m.k, rows: m.rows });
          expect(t.summary).toEqual(whole.stats.summary());
          expect(t.packed).toEqual(whole.packed);
          expect(t.scales).toEqual(whole.scales);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("defines SNR, cosine and RMSE as documented, including the exact and all-zero cases", () => {
    // w = (1, 1, 1, 1), ŵ = (0.9, 1, 1, 1.1)
    const s = statsOf([
      {
        n: 4,
        sumSq: 4,
        sumErrSq: 0.02,
        sumDeqSq: 4.02,
        sumCross: 4,
        maxAbsError: 0.1,
        maxAbsWeight: 1,
        clamped: 0,
      },
    ]).summary();
    expect(s.snrDb).toBeCloseTo(10 * Math.log10(200), 12);
    expect(s.rmse).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(s.cosine).toBeCloseTo(4 / Math.sqrt(4 * 4.02), 12);
    const exact = statsOf([
      { n: 2, sumSq: 2, sumErrSq: 0, sumDeqSq: 2, sumCross: 2, maxAbsError: 0, maxAbsWeight: 1, clamped: 0 },
    ]).summary();
    expect(exact.snrDb).toBe(Number.POSITIVE_INFINITY);
    expect(summaryToJson(exact).snrDb).toBe("inf");
    const lost = statsOf([
      { n: 1, sumSq: 1, sumErrSq: 1, sumDeqSq: 0, sumCross: 0, maxAbsError: 1, maxAbsWeight: 1, clamped: 0 },
    ]).summary();
    expect(lost.cosine).toBe(0);
    expect(lost.snrDb).toBe(0);
  });
});
