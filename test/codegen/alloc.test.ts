import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateIntervals, type Interval } from "../../src/codegen/alloc/intervals.js";
import { codegen } from "../../src/codegen/index.js";
import { loadTarget } from "../../src/target/index.js";
import { llamaLike } from "./graphs.js";
import { base, plan } from "./helpers.js";

describe("liveness allocator", () => {
  it("reuses the space of dead items", () => {
    const items: Interval[] = [
      { key: 1, size: 10, first: 0, last: 1 },
      { key: 2, size: 10, first: 2, last: 3 },
      { key: 3, size: 5, first: 1, last: 2 },
    ];
    const r = allocateIntervals(items, 100);
    expect(r.offsets.get(1)).toBe(0);
    expect(r.offsets.get(3)).toBe(10);
    expect(r.offsets.get(2)).toBe(0);
    expect(r.peak).toBe(15);
    expect(r.highWater).toBe(15);
    expect(r.fragmentation).toBe(0);
  });

  it("reports an overflow with the step and what is live", () => {
    const r = allocateIntervals(
      [
        { key: 1, size: 60, first: 0, last: 5 },
        { key: 2, size: 60, first: 3, last: 4 },
      ],
      100,
    );
    expect(r.overflow?.step).toBe(3);
    expect(r.overflow?.live.map((x) => x.key).sort()).toEqual([1, 2]);
  });

  it("never overlaps two items live at the same time (property)", () => {
    const item = fc.record({
      size: fc.integer({ min: 1, max: 50 }),
      first: fc.integer({ min: 0, max: 40 }),
      len: fc.integer({ min: 0, max: 10 }),
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), (raw) => {
        const items = raw.map((x, key) => ({ key, size: x.size, first: x.first, last: x.first + x.len }));
        const r = allocateIntervals(items, Number.MAX_SAFE_INTEGER);
        for (const a of items)
          for (const b of items) {
            if (a.key >= b.key || a.last < b.first || b.last < a.first) continue;
            const oa = r.offsets.get(a.key)!;
            const ob = r.offsets.get(b.key)!;
            expect(oa + a.size <= ob || ob + b.size <= oa).toBe(true);
          }
        const peak = Math.max(
          0,
          ...items.map((a) =>
            items.filter((b) => b.first <= a.first && b.last >= a.first).reduce((s, b) => s + b.size, 0),
          ),
        );
        expect(r.peak).toBe(peak);
        expect(r.highWater).toBeGreaterThanOrEqual(r.peak);
      }),
      { numRuns: 150 },
    );
  });
});

describe("allocate-l2 and allocate-const on a program", () => {
  const g = llamaLike();
  const r = codegen(g, plan(g), base(), { segments: ["decode"] });

  it("records every L2 allocation inside the backed words, with live ranges", () => {
    const l2 = r.program.allocations.filter((a) => a.space === "l2");
    expect(l2.length).toBeGreaterThan(10);
    for (const a of l2) {
      expect(a.offset).toBeGreaterThanOrEqual(0);
      expect(a.offset + a.size).toBeLessThanOrEqual(base().file.l2.backed_words);
      if (a.segment) expect(a.live![0]).toBeLessThanOrEqual(a.live![1]);
    }
    const decode = r.stats.l2.find((s) => s.segment === "decode")!;
    expect(decode.peakWords).toBeGreaterThan(0);
    expect(decode.highWaterWords).toBeGreaterThanOrEqual(decode.peakWords);
    expect(decode.fragmentation).toBeGreaterThanOrEqual(0);
  });

  it("segment buffers live at the same time never share words", () => {
    const l2 = r.program.allocations.filter((a) => a.space === "l2" && a.segment === "decode");
    for (const a of l2)
      for (const b of l2) {
        if (a === b || a.live![1] < b.live![0] || b.live![1] < a.live![0]) continue;
        expect(a.offset + a.size <= b.offset || b.offset + b.size <= a.offset).toBe(true);
      }
  });

  it("writes each constant entry before use and emits fewer MEMSETs than uses", () => {
    const decode = r.program.segments.find((s) => s.kind === "decode")!;
    const memsets = decode.steps.filter((s) => s.kind === "npu" && s.instr.opcode === "MEMSET").length;
    const uses = decode.steps.filter(
      (s) => s.kind === "npu" && ["GEMV", "MEMCPY"].includes(s.instr.opcode),
    ).length;
    expect(memsets).toBeLessThan(uses / 4);
    const fmap = r.stats.constCache.find((c) => c.bank === "fmap_shape")!;
    expect(fmap.pinned + (fmap.memsets.decode ?? 0)).toBeGreaterThan(0);
  });

  it("fails precisely when a segment does not fit L2", () => {
    const small = loadTarget("kv260-v002", ["l2.backed_words=40"]);
    expect(() => codegen(g, plan(g, small), small, { segments: ["decode"] })).toThrow(
      /needs \d+ L2 words at step/,
    );
    try {
      codegen(g, plan(g, small), small, { segments: ["decode"] });
    } catch (e) {
      expect((e as { code: string }).code).toBe("codegen/l2-overflow");
      expect((e as { exitCode: number }).exitCode).toBe(3);
    }
  });
});
