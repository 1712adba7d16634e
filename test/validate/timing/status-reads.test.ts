/**
 * DataMover status reads as the generated driver does them (src/stubs/c/runtime.ts: push_dma,
 * wait_dma, pop_n): each command's status is popped once, in order, one MMIO read each; a wait on
 * a status already read touches no register; a push with max_outstanding unread commands first
 * drains the complete ones. docs/timing.md, "Waits and status reads".
 */
import { describe, expect, it } from "vitest";
import { runTiming, timingModel } from "../../../src/validate/timing/index.js";
import { dma, KV260, program, waitDma } from "./helpers.js";

const M = timingModel(KV260);
const C = M.control;
const PORT = M.channels.get("hp2")!.bytesPerCycle;

const decodeCycles = (steps: Parameters<typeof program>[0]["decode"]) => {
  const out = runTiming(program({ decode: steps }), KV260);
  return out.result.runs.find((r) => r.kind === "decode")!.cycles;
};

/** Small commands that complete long before the host's next step (16 bytes, no consumer needed). */
const small = (tag: number) => dma("hp2", "weights.hp2", 16, tag);

describe("timing: DataMover status reads", () => {
  it("a satisfied wait reads the statuses up to its command, one read each", () => {
    // three commands, the first two complete and unread when the host waits on the second
    const cycles = decodeCycles([small(1), small(2), small(3), waitDma("hp2", 2)]);
    expect(cycles).toBeCloseTo(3 * C.dmIssue + 2 * C.mmioRead, 6);
  });

  it("a wait on a command whose status was already read touches no register", () => {
    const once = decodeCycles([small(1), small(2), small(3), waitDma("hp2", 2)]);
    const again = decodeCycles([
      small(1),
      small(2),
      small(3),
      waitDma("hp2", 2),
      waitDma("hp2", 1),
      waitDma("hp2", 2),
    ]);
    expect(again).toBeCloseTo(once, 9);
    // the third status is still unread: a wait on it reads once more
    const third = decodeCycles([small(1), small(2), small(3), waitDma("hp2", 2), waitDma("hp2", 3)]);
    expect(third).toBeCloseTo(once + C.mmioRead, 6);
  });

  it("a push with max_outstanding unread commands drains the complete ones first", () => {
    const n = C.maxOutstanding;
    const steps = Array.from({ length: n + 1 }, (_, i) => small(i + 1));
    // the (n+1)-th push reads the n complete statuses; none is left in flight, so no empty read
    expect(decodeCycles(steps)).toBeCloseTo((n + 1) * C.dmIssue + n * C.mmioRead + 16 / PORT, 6);
  });

  it("the drain reads once more when a command is still in flight", () => {
    const n = C.maxOutstanding;
    const B = 40_000; // longer than the host's remaining issues: still in flight at the last push
    const steps = [
      ...Array.from({ length: n - 1 }, (_, i) => small(i + 1)),
      dma("hp2", "weights.hp2", B, n),
      // the DataMover queue has room (n − 1 complete), the driver's ring is full: drain n − 1 + 1
      small(n + 1),
      waitDma("hp2", n + 1),
    ];
    // the drain makes the last push cost n reads more; the wait then blocks on the big command
    const out = runTiming(program({ decode: steps }), KV260).result.runs.find((r) => r.kind === "decode")!;
    expect(out.engines.host!.busy).toBeCloseTo((n + 1) * C.dmIssue + n * C.mmioRead + C.syncWait, 6);
    expect(out.cycles).toBeCloseTo(n * C.dmIssue + (B + 16) / PORT + C.syncWait, 6);
  });
});
