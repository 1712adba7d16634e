import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { machineOf } from "../../src/codegen/machine.js";
import { kvTileGeometry, kvTileProblem, portRows, tileBytes } from "../../src/codegen/tiles.js";
import { base, ext } from "./helpers.js";

const m = machineOf(base());

describe("tile formats (docs/program.md §4.3)", () => {
  it("sizes a row-major tile with per-row scales by hand", () => {
    // 3 rows × 40 K: each row 2 beats (32 INT4 per beat); 3 BF16 scales = 6 bytes → one beat.
    expect(tileBytes(m, { order: 0, group: 0, n: 3, k: 40 })).toBe(3 * 32 + 16);
    // 2048 × 2048: 64 beats per row, 2048 scales = 4096 bytes.
    expect(tileBytes(m, { order: 0, group: 0, n: 2048, k: 2048 })).toBe(2048 * 1024 + 4096);
  });

  it("sizes group scales per row", () => {
    // 4 rows × 64 K with group 32: 2 scales per row, 8 scales = 16 bytes.
    expect(tileBytes(m, { order: 0, group: 32, n: 4, k: 64 })).toBe(4 * 32 + 16);
    // KV K rows: headDim 16, group 2 (one scale beat per row).
    expect(tileBytes(m, { order: 0, group: 2, n: 5, k: 16 })).toBe(5 * 16 + 5 * 16);
  });

  it("sizes a K-block-major tile block by block", () => {
    // V tile: 16 features × 40 slots → 2 blocks of (16 beats + 2 scale beats).
    expect(tileBytes(m, { order: 1, group: 32, n: 16, k: 40 })).toBe(2 * (16 * 16 + 2 * 16));
    expect(tileBytes(m, { order: 1, group: 32, n: 0, k: 40 })).toBe(0);
  });

  it("splits rows over ports in ceil(N/P) contiguous ranges", () => {
    expect(portRows(10, 4)).toEqual([
      { start: 0, count: 3 },
      { start: 3, count: 3 },
      { start: 6, count: 3 },
      { start: 9, count: 1 },
    ]);
    expect(portRows(1, 2)).toEqual([
      { start: 0, count: 1 },
      { start: 1, count: 0 },
    ]);
  });

  it("portRows partitions any row count (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 8 }), (n, p) => {
        const r = portRows(n, p);
        expect(r.length).toBe(p);
        let next = 0;
        for (const x of r) {
          expect(x.start).toBe(Math.min(next, n));
          next = x.start + x.count;
        }
        expect(next).toBe(n);
      }),
      { numRuns: 200 },
    );
  });

  it("K tiles of the KV cache stay linear in their rows (one scale beat per row)", () => {
    const g = kvTileGeometry(m, 256, 256);
    expect(g.kScaleRowBytes).toBe(16);
    expect(g.kGroup).toBe(32);
    for (const n of [1, 7, 8, 33, 100])
      expect(tileBytes(m, { order: 0, group: g.kGroup, n, k: 256 })).toBe(
        n * (g.kRowBytes + g.kScaleRowBytes),
      );
  });

  it("names the geometry the NPU cache cannot stream", () => {
    expect(kvTileProblem(m, 4, 4)).toMatch(/not whole L2 words/);
    expect(kvTileProblem(m, 16, 16)).toBeUndefined();
    expect(kvTileProblem(m, 4096, 64)).toMatch(/K limit/);
  });

  it("reads the engines' ports from the target", () => {
    expect(m.enginePorts.gemv).toEqual(["hp2", "hp3"]);
    expect(m.enginePorts.gemm).toEqual(["hp0", "hp1"]);
    expect(machineOf(ext()).enginePorts.gemv).toEqual(["hp0", "hp1", "hp2", "hp3"]);
    expect(m.tileRows).toBe(2048);
  });
});
