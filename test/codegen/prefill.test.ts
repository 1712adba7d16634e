/**
 * The prefill segment: projections as GEMM tiles over the chunk's rows (reading the same weight
 * tiles as decode), attention row by row over the ring, the head on the last row only.
 */
import { describe, expect, it } from "vitest";
import { codegen, verifyProgram } from "../../src/codegen/index.js";
import type { NpuStep, Step } from "../../src/codegen/program.js";
import { ALL_FIXTURES } from "../resolver/graph/fixtures.js";
import { llamaLike } from "./graphs.js";
import { base, plan } from "./helpers.js";

const npu = (s: Step): s is NpuStep => s.kind === "npu";

describe("prefill on kv260-v002", () => {
  const t = base();
  const g = llamaLike({ window: (l) => (l === 0 ? 8 : undefined) });
  const both = codegen(g, plan(g, t), t, { prefillChunk: 4 });
  const decodeOnly = codegen(g, plan(g, t), t, { segments: ["decode"] });
  const pre = both.program.segments.find((s) => s.kind === "prefill")!;

  it("verifies", () => {
    expect(verifyProgram(both.program, t)).toEqual([]);
  });

  it("runs projections as GEMMs and reads the tiles decode reads (weights stored once)", () => {
    const gemm = pre.steps.filter((s) => npu(s) && s.instr.opcode === "GEMM");
    expect(gemm.length).toBeGreaterThan(0);
    expect(both.segments.length).toBe(decodeOnly.segments.length);
    expect(
      both.program.ddr
        .filter((d) => d.kind === "weights" && d.name.startsWith("weights."))
        .map((d) => d.bytes),
    ).toEqual(
      decodeOnly.program.ddr
        .filter((d) => d.kind === "weights" && d.name.startsWith("weights."))
        .map((d) => d.bytes),
    );
    // GEMM weights travel on the GEMM's ports.
    const ports = new Set(
      pre.steps
        .filter((s) => s.kind === "dma" && s.origin.label.includes("L0.q n"))
        .map((s) => (s.kind === "dma" ? s.port : "")),
    );
    expect(ports).toEqual(new Set(["hp0", "hp1"]));
  });

  it("writes and attends row by row, one token variable per row", () => {
    const writes = pre.steps.filter((s) => s.kind === "host" && s.fn === "kv_write" && s.attrs.layer === 0);
    expect(writes.map((s) => (s.kind === "host" ? s.attrs.row : -1))).toEqual([0, 1, 2, 3]);
    expect(both.program.variables.filter((v) => v.name.startsWith("token[")).map((v) => v.name)).toEqual([
      "token[0]",
      "token[1]",
      "token[2]",
      "token[3]",
    ]);
    expect(pre.maxPos).toBe(64 - 4);
  });

  it("computes the head on the last row only (GEMV)", () => {
    const head = pre.steps.filter((s) => npu(s) && s.origin.label.startsWith("logits n"));
    expect(head.length).toBeGreaterThan(0);
    for (const s of head) expect(npu(s) && s.instr.opcode).toBe("GEMV");
  });

  it("limits replays for a layer that shares a sliding-window ring", () => {
    const gn = ALL_FIXTURES.gemmaN!();
    const r = codegen(gn, plan(gn, t), t, { prefillChunk: 2 });
    const p = r.program.segments.find((s) => s.kind === "prefill")!;
    // gemmaN's sliding window is 3: a 2-row chunk may start at positions 0 and 1 only.
    expect(p.maxPos).toBe(1);
    expect(verifyProgram(r.program, t)).toEqual([]);
    // The automatic chunk is shrunk until such a ring can hold it.
    const auto = codegen(gn, plan(gn, t), t);
    expect(auto.stats.prefillChunk).toBeLessThanOrEqual(2);
  });

  it("picks the largest chunk that fits L2 by default", () => {
    const r = codegen(g, plan(g, t), t);
    expect(r.stats.prefillChunk).toBe(16);
    expect(r.program.variables.filter((v) => v.name.startsWith("token[")).length).toBe(16);
  });
});
