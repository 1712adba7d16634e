/**
 * A DMA step whose bytes are 0 is not issued (docs/program.md §2); a wait on its tag completes when
 * the commands issued before it on its channel have completed. Regression: such waits once hung.
 * Status reads follow the generated driver (docs/timing.md, "Waits and status reads").
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

describe("timing: zero-byte DMA", () => {
  it("a wait on a zero-byte command's tag waits for the channel's earlier commands", () => {
    const B = 40_000;
    const cycles = decodeCycles([
      dma("hp2", "weights.hp2", B, 1),
      dma("hp2", "weights.hp2", 0, 2),
      waitDma("hp2", 2),
    ]);
    // issue, transfer, the blocking wait's detection delay; the zero-byte step costs nothing
    expect(cycles).toBeCloseTo(C.dmIssue + B / PORT + C.syncWait, 6);
  });

  it("a zero-byte command reusing a tag does not leave the wait on the older command", () => {
    const B = 40_000;
    const cycles = decodeCycles([
      dma("hp2", "weights.hp2", 16, 2),
      dma("hp2", "weights.hp2", B, 1),
      dma("hp2", "weights.hp2", 0, 2),
      waitDma("hp2", 2),
    ]);
    const onLast = decodeCycles([
      dma("hp2", "weights.hp2", 16, 2),
      dma("hp2", "weights.hp2", B, 1),
      waitDma("hp2", 1),
    ]);
    expect(cycles).toBeCloseTo(onLast, 6);
    expect(cycles).toBeGreaterThan(B / PORT);
  });

  it("a wait on a zero-byte command with nothing before it on its channel reads no status", () => {
    // the driver's ring holds no command with that tag (src/stubs/c/runtime.ts wait_dma): no bus access
    expect(decodeCycles([dma("hp2", "weights.hp2", 0, 5), waitDma("hp2", 5)])).toBe(0);
  });

  it("a wait on a zero-byte command whose predecessor's status was read costs nothing more", () => {
    const B = 40_000;
    const cycles = decodeCycles([
      dma("hp2", "weights.hp2", B, 1),
      waitDma("hp2", 1),
      dma("hp2", "weights.hp2", 0, 2),
      waitDma("hp2", 2),
    ]);
    expect(cycles).toBeCloseTo(C.dmIssue + B / PORT + C.syncWait, 6);
  });
});
