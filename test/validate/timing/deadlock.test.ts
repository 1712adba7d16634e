/**
 * The deadlock guard of the timing loop (docs/timing.md, "The event loop"): a program whose host
 * blocks on something only a later step could release makes no progress, and the run stops with
 * `timing/deadlock` (exit 2) naming the step, instead of spinning or returning a made-up time.
 */
import { describe, expect, it } from "vitest";
import type { Program } from "../../../src/codegen/program.js";
import { PccxError } from "../../../src/diag/index.js";
import { runTiming, timingModel } from "../../../src/validate/timing/index.js";
import { dma, gemv, KV260, memset, program, waitNpu } from "./helpers.js";

const M = timingModel(KV260);
const FIFO = M.channels.get("hp2")!.fifoBytes;

function deadlock(p: Program): PccxError {
  try {
    runTiming(p, KV260);
  } catch (e) {
    if (e instanceof PccxError) return e;
    throw e;
  }
  throw new Error("the run completed");
}

describe("timing: deadlock guard", () => {
  it("a full DataMover queue that no consumer drains: the host is stuck at the next DMA", () => {
    // max_outstanding commands larger than the FIFO on a port nothing reads: none completes
    const n = M.control.maxOutstanding;
    const steps = Array.from({ length: n + 1 }, (_, i) => dma("hp2", "weights.hp2", FIFO + 16, i));
    const e = deadlock(program({ decode: steps }));
    expect(e.code).toBe("timing/deadlock");
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(new RegExp(`dma_queue at step ${n} \\(dma dma hp2\\)`));
  });

  it("a GEMV whose weights were never issued: the wait for the NPU never ends", () => {
    // the GEMV streams 2048 × 2048 weights from HP2/HP3, but no DMA carries them
    const e = deadlock(program({ decode: [memset(0, 0, 1, 2048, 2048), gemv(0, 1), waitNpu()] }));
    expect(e.code).toBe("timing/deadlock");
    expect(e.message).toMatch(/the host is wait at step 2 \(wait wait npu-idle\)/);
    expect(e.message).toMatch(/the NPU is sync/);
    expect(e.fix).toMatch(/functional/);
  });
});
