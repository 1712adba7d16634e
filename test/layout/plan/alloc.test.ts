import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import { type AllocRequest, allocateRegions, requireInCapacity } from "../../../src/layout/plan/alloc.js";

const kinds = ["weights", "embedding", "kv", "buffer", "logits", "table"] as const;

const requests = fc
  .uniqueArray(
    fc.record({
      name: fc.stringMatching(/^[a-z][a-z0-9.]{0,11}$/),
      bytes: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 2 ** 31 })),
      kind: fc.constantFrom(...kinds),
      inImage: fc.boolean(),
    }),
    { selector: (r) => r.name, maxLength: 40 },
  )
  .map((rs) => rs as AllocRequest[]);

describe("DDR allocator", () => {
  it("gives aligned, ordered, non-overlapping regions, or a precise overflow error", () => {
    fc.assert(
      fc.property(
        requests,
        fc.constantFrom(16, 64, 4096, 65536),
        fc.double({ min: 0, max: 1.5, noNaN: true }),
        (reqs, alignment, frac) => {
          const total = reqs.reduce((s, r) => s + Math.ceil(r.bytes / alignment) * alignment, 0);
          const capacity = Math.floor(total * frac);
          const a = allocateRegions(reqs, { alignment, capacity });
          expect(a.regions.map((r) => r.name)).toEqual(reqs.map((r) => r.name));
          let at = 0;
          for (const [i, r] of a.regions.entries()) {
            expect(r.offset).toBe(at);
            expect(r.offset % alignment).toBe(0);
            expect(r.bytes % alignment).toBe(0);
            expect(r.used).toBe(reqs[i]!.bytes);
            expect(r.bytes - r.used).toBeGreaterThanOrEqual(0);
            expect(r.bytes - r.used).toBeLessThan(alignment);
            expect(r.fileOffset).toBe(reqs[i]!.inImage ? r.offset : undefined);
            at = r.offset + r.bytes;
          }
          expect(a.end).toBe(at);
          expect(a.end).toBe(total);
          if (a.end <= capacity) {
            expect(a.overBy).toBe(0);
            expect(() => requireInCapacity(a)).not.toThrow();
            for (const r of a.regions) expect(r.offset + r.bytes).toBeLessThanOrEqual(capacity);
          } else {
            expect(a.overBy).toBe(a.end - capacity);
            let err: unknown;
            try {
              requireInCapacity(a);
            } catch (e) {
              err = e;
            }
            expect(err).toBeInstanceOf(PccxError);
            const e = err as PccxError;
            expect([e.code, e.exitCode]).toEqual(["layout/ddr-overflow", ExitCode.UNSUPPORTED]);
            expect(e.message).toContain(`needs ${a.end} bytes`);
            expect(e.message).toContain(`but ${capacity} bytes`);
            expect(e.message).toContain(`over by ${a.end - capacity} bytes`);
            const largest = [...a.regions].sort(
              (x, y) => y.bytes - x.bytes || (x.name < y.name ? -1 : 1),
            )[0]!;
            expect(e.notes[0]).toContain(`largest regions: ${largest.name} `);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects a bad alignment, a bad size and a repeated name as compiler bugs", () => {
    const r = (name: string, bytes: number): AllocRequest => ({ name, bytes, kind: "buffer" });
    for (const [reqs, alignment] of [
      [[r("a", 1)], 3000],
      [[r("a", -1)], 16],
      [[r("a", 1.5)], 16],
      [[r("a", 1), r("a", 2)], 16],
    ] as const) {
      expect(() => allocateRegions(reqs, { alignment, capacity: 1e9 })).toThrow(
        expect.objectContaining({ code: "layout/alloc-request", exitCode: ExitCode.INTERNAL }),
      );
    }
  });
});
