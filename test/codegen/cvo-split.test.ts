/**
 * SFU calls longer than one CVO instruction takes are split: a logit softcap over a vocabulary
 * beyond the 16-bit length field on kv260-v002-ext, and (functionally) a tiny Gemma 2 compiled for
 * a target whose SFU limit is a few words, simulated against the same model without splits.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codegen, machineOf, verifyProgram } from "../../src/codegen/index.js";
import { splitCvo } from "../../src/codegen/lower/cvo-split.js";
import type { NpuStep, Program } from "../../src/codegen/program.js";
import type { Target } from "../../src/target/index.js";
import { simulateGeneration } from "../../src/validate/sim/index.js";
import { compileTiny } from "../validate/sim/e2e-chain.js";
import { llamaLike } from "./graphs.js";
import { ext, plan } from "./helpers.js";

const cvoSteps = (p: Program) =>
  p.segments.flatMap((s) =>
    s.steps.flatMap((x) => (x.kind === "npu" && x.instr.opcode === "CVO" ? [x as NpuStep] : [])),
  );
const fieldsOf = (s: NpuStep) => s.instr.fields as Record<string, unknown>;

/** The target with its SFU limited to `max` elements per CVO instruction. */
function withCvoMax(t: Target, max: number): Target {
  return { ...t, file: { ...t.file, l2: { ...t.file.l2, cvo_max_length_elements: max } } };
}

describe("splitCvo", () => {
  const m = machineOf(ext());
  const c = Math.floor(m.cvoMaxLength / m.elemsPerWord) * m.elemsPerWord;

  it("caps the limit by the target and the ISA length field", () => {
    expect(m.cvoMaxLength).toBeLessThanOrEqual(ext().file.l2.cvo_max_length_elements);
    expect(m.cvoMaxLength).toBeLessThan(2 ** 16);
  });

  it("keeps a call within the limit as one piece", () => {
    expect(splitCvo(m, "EXP", "unary", 1000, false)).toEqual([{ word: 0, length: 1000, accm: false }]);
  });

  it("splits word-aligned pieces covering the length; REDUCE_SUM accumulates after the first", () => {
    const n = 2 * c + 24;
    const p = splitCvo(m, "REDUCE_SUM", "reduce", n, false);
    expect(p.map((x) => x.length)).toEqual([c, c, 24]);
    expect(p.map((x) => x.word)).toEqual([0, c / m.elemsPerWord, (2 * c) / m.elemsPerWord]);
    expect(p.map((x) => x.accm)).toEqual([false, true, true]);
    expect(splitCvo(m, "TANH", "unary", n, false).map((x) => x.accm)).toEqual([false, false, false]);
  });

  it("splits a relocated length into clamped relocated pieces", () => {
    const len = { base: 8, terms: [{ variable: "kv_len[0]", stride: 1 }], max: c + 100 };
    const p = splitCvo(m, "EXP", "unary", len, false);
    expect(p).toHaveLength(2);
    expect(p[0]!.length).toEqual({ base: 8, terms: len.terms, min: 0, max: c });
    expect(p[1]!.length).toEqual({ base: 8 - c, terms: len.terms, min: 0, max: 100 });
  });

  it("refuses to split RoPE pairs", () => {
    expect(() => splitCvo(m, "ROPE_ROTATE", "rope_pairs", c + 8, false)).toThrow(/cannot be split/);
  });
});

describe("a logit softcap over a vocabulary beyond the CVO length field", () => {
  it("compiles on kv260-v002-ext into verified pieces within the limit", () => {
    const t = ext();
    const m = machineOf(t);
    const vocab = 70_000;
    const g = llamaLike({ vocab, finalSoftcap: 30, softcap: 50 });
    const r = codegen(g, plan(g, t), t, { segments: ["decode"] });
    expect(verifyProgram(r.program, t)).toEqual([]);
    const cvo = cvoSteps(r.program);
    for (const s of cvo) expect(Number(fieldsOf(s).length)).toBeLessThanOrEqual(m.cvoMaxLength);
    // The softcap is SCALE, TANH, SCALE over the vocabulary: each in ceil(vocab / piece) pieces.
    const pieces = Math.ceil(vocab / (Math.floor(m.cvoMaxLength / m.elemsPerWord) * m.elemsPerWord));
    const final = cvo.filter(
      (s) => fieldsOf(s).cvo_func === "TANH" && s.origin.label.startsWith("softcap logits tanh"),
    );
    const total = (ss: NpuStep[]) => ss.reduce((a, s) => a + Number(fieldsOf(s).length), 0);
    expect(final).toHaveLength(pieces);
    expect(total(final)).toBe(vocab);
  });
});

describe("a softmax over a score vector beyond the SFU limit", () => {
  it("splits EXP, REDUCE_SUM and SCALE with relocated lengths that stay within the limit", () => {
    const t = withCvoMax(ext(), 40);
    const g = llamaLike({});
    const r = codegen(g, plan(g, t), t, { segments: ["decode"] });
    expect(verifyProgram(r.program, t)).toEqual([]);
    const seg = r.program.segments.find((s) => s.name === "decode")!;
    const lengthRelocs = r.program.relocations.filter((x) => x.segment === "decode" && x.field === "length");
    const softmax = (fn: string) =>
      seg.steps.flatMap((s, i) =>
        s.kind === "npu" &&
        s.instr.opcode === "CVO" &&
        (s.instr.fields as Record<string, unknown>).cvo_func === fn
          ? [{ s, reloc: lengthRelocs.find((x) => x.step === i) }]
          : [],
      );
    for (const fn of ["EXP", "REDUCE_SUM", "SCALE"]) {
      const pieces = softmax(fn).filter((x) => /softmax/.test(x.s.origin.label));
      expect(pieces.length, fn).toBeGreaterThan(1);
      for (const p of pieces) {
        expect(p.reloc, `${fn} ${p.s.origin.label}`).toBeDefined();
        expect(p.reloc!.expr.max).toBeLessThanOrEqual(40);
      }
    }
    // Every SCALE piece after the first reads its scalar from a restored word: save, scalar, restore.
    const labels = seg.steps.map((s) => s.origin.label);
    expect(labels.some((l) => /softmax normalise.*\[2\/\d+\] save/.test(l))).toBe(true);
    expect(labels.some((l) => /softmax normalise.*\[2\/\d+\] restore/.test(l))).toBe(true);
  });
});

const TINY = fileURLToPath(new URL("../../examples/tiny/gemma2", import.meta.url));

describe("split SFU calls compute what one call computes (functional simulator)", () => {
  it("tiny Gemma 2 on an SFU limited to 40 elements: same logits as without splits", async () => {
    const t = ext();
    const small = withCvoMax(t, 40);
    const whole = await compileTiny(TINY, t);
    const split = await compileTiny(TINY, small);
    const nWhole = cvoSteps(whole.program).length;
    const nSplit = cvoSteps(split.program).length;
    expect(nSplit).toBeGreaterThan(nWhole);
    for (const s of cvoSteps(split.program)) expect(Number(fieldsOf(s).length)).toBeLessThanOrEqual(40);
    expect(verifyProgram(split.program, small)).toEqual([]);
    const splitOf = (fn: string) =>
      cvoSteps(split.program).filter((s) => fieldsOf(s).cvo_func === fn && /\[2\/\d+\]/.test(s.origin.label));
    // (compileTiny's INT8 KV cache keeps attention on the host: EXP is checked statically below.)
    for (const fn of ["SCALE", "REDUCE_SUM", "TANH", "MUL", "ADD"])
      expect(splitOf(fn).length, fn).toBeGreaterThan(0);
    for (const s of splitOf("REDUCE_SUM")) expect(fieldsOf(s).flags).toMatchObject({ accm: 1 });
    const prompt = [1, 2, 3];
    const a = simulateGeneration(whole.program, whole.image, t, prompt, 3, "exact");
    const b = simulateGeneration(split.program, split.image, small, prompt, 3, "exact");
    expect(a.faults).toEqual([]);
    expect(b.faults).toEqual([]);
    expect(b.tokens).toEqual(a.tokens);
    for (let i = 0; i < a.steps.length; i++) {
      const x = a.steps[i]!;
      const y = b.steps[i]!;
      const scale = Math.max(...x.map(Math.abs));
      let worst = 0;
      for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j]! - y[j]!));
      expect(worst / scale).toBeLessThan(1e-3);
    }
  }, 60_000);
});
