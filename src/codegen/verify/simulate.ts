/**
 * The concrete half of verifyProgram: replays one segment for one assignment of the variables, as
 * an abstract machine that knows only what the contract says (docs/program.md §4–6): in-order NPU
 * with async instructions pending until an idle wait, DataMover channels completing in order, a
 * weight stream per port consumed by GEMV/GEMM tiles, the constant cache, L2 words initialised or
 * not, DDR ranges being read or written by unfinished transfers. Each violation is a diagnostic.
 *
 * The replay state and the checks all steps share are in replay-state.ts; the NPU instructions in
 * replay-npu.ts; DataMover commands, waits and host steps in replay-io.ts.
 */
import type { Diagnostic } from "../../diag/index.js";
import { dmaStep, hostStep, waitStep } from "./replay-io.js";
import { npuStep } from "./replay-npu.js";
import { SegmentReplay, type SimContext } from "./replay-state.js";

export type { SimContext } from "./replay-state.js";

/** Replays segment `si` with driver variables `driverVars`; pushes problems into `out`. */
export function simulateSegment(
  ctx: SimContext,
  si: number,
  driverVars: ReadonlyMap<string, number>,
  hostChoice: (name: string, min: number, max: number) => number,
  out: Diagnostic[],
  sampleNote: string,
): void {
  const seg = ctx.p.segments[si]!;
  const r = new SegmentReplay(ctx, si, driverVars, hostChoice, out, sampleNote);
  seg.steps.forEach((s, i) => {
    if (s.kind === "npu") npuStep(r, s, i);
    else if (s.kind === "dma") dmaStep(r, s, i);
    else if (s.kind === "host") hostStep(r, s, i);
    else waitStep(r, s, i);
  });
  const last = seg.steps.length - 1;
  for (const [port, list] of r.channels)
    if (list.length)
      r.err("verify/unfinished", `segment ends with ${list.length} ${port} command(s) not waited for`, last);
  if (r.asyncPending.length)
    r.err("verify/unfinished", "segment ends with async instructions not waited for", last);
  for (const [port, q] of r.streamQueue)
    if (q.length)
      r.err(
        "verify/stream",
        `segment ends with ${q.reduce((a, b) => a + b.bytes, 0)} bytes on ${port} that no instruction consumed`,
        last,
      );
  if (r.isLoad) {
    ctx.constAfterLoad = r.consts;
    ctx.l2AfterLoad = r.init;
  }
}
