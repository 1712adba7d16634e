/**
 * The decode overlap rewrite (passes/overlap.ts, run by `schedule`): a CVO long enough to pay for
 * its wait (minOverlapElements) runs async just before an independent GEMV, so the SFU works while weights stream; the
 * GLU product is cut at the up projection's tile boundaries so each piece can go beside the next
 * tile. Checked on programs built from graphs wide enough to have such CVOs.
 */
import { describe, expect, it } from "vitest";
import { codegen, verifyProgram } from "../../src/codegen/index.js";
import { machineOf } from "../../src/codegen/machine.js";
import { minOverlapElements } from "../../src/codegen/passes/overlap.js";
import type { NpuStep, Program, Step } from "../../src/codegen/program.js";
import { loadTarget } from "../../src/target/index.js";
import { llamaLike } from "./graphs.js";
import { ext, plan } from "./helpers.js";

const decode = (p: Program): readonly Step[] => p.segments.find((s) => s.name === "decode")!.steps;
const isCvo = (s: Step): s is NpuStep => s.kind === "npu" && s.instr.opcode === "CVO";
const asyncCvos = (p: Program) => decode(p).filter((s) => isCvo(s) && s.instr.fields.async === 1);

// Wide enough that the activation and the GLU pieces are worth a wait, with several up tiles.
const wide = () => llamaLike({ H: 1024, heads: 8, kvHeads: 2, hd: 128, inter: 4096, layers: 2 });

describe("decode overlap of SFU work with GEMVs", () => {
  const g = wide();
  const te = ext();
  const run = (t = te) => codegen(g, plan(g, t), t, { segments: ["decode"] }).program;
  const pe = run();
  const min = minOverlapElements(machineOf(te));

  it("takes the smallest worthwhile CVO from the target's wait costs", () => {
    // kv260-v002-ext: (1000 ns / 2 + 400 ns) at 400 MHz, one element per clock
    expect(min).toBe(360);
  });

  it("verifies, and marks async only big CVOs, each right before a GEMV it does not touch", () => {
    expect(verifyProgram(pe, te)).toEqual([]);
    const steps = decode(pe);
    const marked = asyncCvos(pe);
    expect(marked.length).toBeGreaterThan(0);
    for (const c of marked) {
      expect(Number((c as NpuStep).instr.fields.length)).toBeGreaterThanOrEqual(min);
      let i = steps.indexOf(c) + 1;
      while (steps[i]!.kind === "dma" || steps[i]!.kind === "wait") i++;
      const next = steps[i]!;
      expect(next.kind === "npu" && next.instr.opcode).toBe("GEMV");
    }
  });

  it("cuts the GLU product at the up projection's tiles and overlaps the pieces", () => {
    const steps = decode(pe);
    const muls = steps.filter((s) => isCvo(s) && s.origin.label.startsWith("glu "));
    const upTiles = steps.filter(
      (s) => s.kind === "npu" && s.instr.opcode === "GEMV" && /\bup n /.test(s.origin.label),
    );
    // two layers, each a product per up tile
    expect(muls.length).toBe(upTiles.length);
    expect(muls.length).toBeGreaterThan(2);
    expect(muls.filter((s) => isCvo(s) && s.instr.fields.async === 1).length).toBeGreaterThan(0);
  });

  it("leaves every CVO synchronous on a target without async (kv260-v002-rtl)", () => {
    const rtl = loadTarget("kv260-v002-rtl");
    expect(rtl.file.control.async_supported).toBe(false);
    const p = codegen(g, plan(g, rtl), rtl, { segments: ["decode"] }).program;
    expect(asyncCvos(p)).toEqual([]);
    expect(verifyProgram(p, rtl)).toEqual([]);
  });

  it("is deterministic", () => {
    expect(JSON.stringify(run())).toBe(JSON.stringify(pe));
  });

  it("cuts the final soft-cap into the SFU limit's piece count, the last piece three tiles wide", () => {
    const vocab = 262_400; // Gemma 3n's
    const gv = llamaLike({ vocab, finalSoftcap: 30 });
    const p = codegen(gv, plan(gv, te), te, { segments: ["decode"] }).program;
    expect(verifyProgram(p, te)).toEqual([]);
    const m = machineOf(te);
    const limit = Math.floor(m.cvoMaxLength / m.elemsPerWord) * m.elemsPerWord;
    const tanh = decode(p).filter(
      (s) => isCvo(s) && s.instr.fields.cvo_func === "TANH" && s.origin.label.startsWith("softcap logits"),
    ) as NpuStep[];
    const lengths = tanh.map((s) => Number(s.instr.fields.length));
    expect(lengths).toHaveLength(Math.ceil(vocab / limit));
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(vocab);
    for (const l of lengths) expect(l).toBeLessThanOrEqual(limit);
    expect(lengths[lengths.length - 1]).toBe(3 * m.tileRows);
    // every piece but the last runs async beside an LM-head tile
    const asyncPieces = decode(p).filter(
      (s) => isCvo(s) && s.instr.fields.async === 1 && s.origin.label.startsWith("softcap logits"),
    );
    expect(asyncPieces.length).toBeGreaterThanOrEqual(3 * (lengths.length - 1));
  });
});
