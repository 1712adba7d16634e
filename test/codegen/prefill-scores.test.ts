/**
 * Prefill Q·Kᵀ as one GEMM per query row and head over every reachable ring slot (lower/prefill-scores.ts):
 * the port split it takes from the GEMV chunks' kv_rows variables, the program it gives (verified,
 * decode unchanged), the targets where it does not apply, and (functional simulator) the logits of
 * token-by-token decode (chunked GEMVs) on a target whose ring chunk is 32 slots.
 */

import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { codegen, verifyProgram } from "../../src/codegen/index.js";
import type { NpuStep, Program, Step } from "../../src/codegen/program.js";
import { portRows } from "../../src/codegen/tiles.js";
import { deriveTarget, type Target } from "../../src/target/index.js";
import { GoldenModel, goldenGenerate } from "../../src/validate/golden/index.js";
import {
  compareToGolden,
  imageWeightReader,
  simulateGeneration,
  untie,
} from "../../src/validate/sim/index.js";
import { compileTiny } from "../validate/sim/e2e-chain.js";
import { llamaLike } from "./graphs.js";
import { base, ext, plan } from "./helpers.js";

const npu = (s: Step): s is NpuStep => s.kind === "npu";
const seg = (p: Program, kind: string) => p.segments.find((s) => s.kind === kind)!;
const scoreSteps = (p: Program, kind: string) =>
  seg(p, kind).steps.filter((s): s is NpuStep => npu(s) && /^scores /.test(s.origin.label));

/** kv_write's kv_rows[c][j] formula (host-ops table). */
function kvRows(len: number, chunk: number, P: number, c: number, j: number): number {
  const n = Math.min(Math.max(len - c * chunk, 0), chunk);
  const r = Math.ceil(n / P);
  return Math.min(Math.max(n - j * r, 0), r);
}

describe("the GEMM port split as a sum of the GEMV chunks' kv_rows", () => {
  it("is exact for P ≤ 2 and an even chunk, whatever kv_len", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2),
        fc.integer({ min: 1, max: 64 }).map((x) => 2 * x),
        fc.integer({ min: 0, max: 1000 }),
        (P, chunk, len) => {
          const chunks = Math.ceil(1000 / chunk);
          const split = portRows(len, P);
          for (let j = 0; j < P; j++) {
            let sum = 0;
            for (let c = 0; c < chunks; c++) sum += kvRows(len, chunk, P, c, j);
            expect(sum).toBe(split[j]!.count);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("is not for four ports (why the lowering requires P ≤ 2)", () => {
    // kv_len 2,049 over 2,048-slot chunks: port 3 of one GEMM has 510 rows, the chunk sums give 512.
    const sum = kvRows(2049, 2048, 4, 0, 3) + kvRows(2049, 2048, 4, 1, 3);
    expect(sum).toBe(512);
    expect(portRows(2049, 4)[3]!.count).toBe(510);
  });
});

describe("prefill scores on kv260-v002 with a ring of several GEMV chunks", () => {
  const t = base();
  const g = llamaLike({ layers: 1 });
  const p = plan(g, t, { context: 5000 });
  const r = codegen(g, p, t, { prefillChunk: 4 });
  const chunkOnly = codegen(g, p, t, { segments: ["decode"] });

  it("verifies", () => {
    expect(verifyProgram(r.program, t)).toEqual([]);
  });

  it("computes each row's scores of each head with one GEMM, N = kv_len up to the ring", () => {
    const s = scoreSteps(r.program, "prefill");
    expect(s.length).toBe(4 * 4); // rows × heads
    for (const x of s) {
      expect(x.instr.opcode).toBe("GEMM");
      expect(x.origin.label).not.toMatch(/chunk/);
      expect((x.instr.fields.flags as Record<string, number>).findemax).toBe(1);
    }
    // Its shape's N is relocated by kv_len (clamped to the ring), M = 1, K = headDim.
    const pre = seg(r.program, "prefill");
    const idx = pre.steps.indexOf(s[0]!);
    const memsets = r.program.relocations.filter(
      (x) => x.segment === pre.name && x.step < idx && x.expr.terms.some((v) => v.variable === "kv_len[0]"),
    );
    expect(memsets.some((x) => x.expr.max === 5000 && x.field.endsWith("b_value"))).toBe(true);
  });

  it("streams the K rows and scale beats of port j from Σ_c kv_rows[0][c][j] (GEMM ports)", () => {
    const pre = seg(r.program, "prefill");
    const s = scoreSteps(r.program, "prefill")[0]!;
    const dmas = pre.steps
      .map((x, i) => ({ x, i }))
      .filter(({ x }) => x.kind === "dma" && x.origin.label === `weights for ${s.origin.label}`);
    // Two pieces (K rows, scale beats) per GEMM port, in that order on each port.
    dmas.sort((a, b) => (a.x.kind === "dma" && b.x.kind === "dma" ? a.x.port.localeCompare(b.x.port) : 0));
    expect(dmas.map(({ x }) => (x.kind === "dma" ? x.port : ""))).toEqual(["hp0", "hp0", "hp1", "hp1"]);
    const bytesOf = (i: number) =>
      r.program.relocations.find((x) => x.segment === pre.name && x.step === i && x.field === "bytes")!;
    const chunks = Math.ceil(5000 / 2048);
    const vars = (j: number) => Array.from({ length: chunks }, (_, c) => `kv_rows[0][${c}][${j}]`);
    expect(bytesOf(dmas[0]!.i).expr.terms.map((v) => v.variable)).toEqual(vars(0));
    expect(bytesOf(dmas[2]!.i).expr.terms.map((v) => v.variable)).toEqual(vars(1));
    const offset1 = r.program.relocations.find(
      (x) => x.segment === pre.name && x.step === dmas[2]!.i && x.field === "offset",
    )!;
    expect(offset1.expr.terms.map((v) => v.variable)).toEqual(vars(0));
  });

  it("leaves decode's chunked GEMVs alone", () => {
    const dec = scoreSteps(r.program, "decode");
    expect(dec.every((x) => x.instr.opcode === "GEMV")).toBe(true);
    expect(dec.length).toBe(scoreSteps(chunkOnly.program, "decode").length);
    expect(dec.length).toBe(4 * Math.ceil(5000 / 2048));
  });
});

describe("where the chunked GEMVs stay", () => {
  it("a ring of one GEMV chunk (every tiny context)", () => {
    const t = base();
    const g = llamaLike({ layers: 1 });
    const r = codegen(g, plan(g, t), t, { prefillChunk: 4 });
    const s = scoreSteps(r.program, "prefill");
    expect(s.length).toBe(16);
    expect(s.every((x) => x.instr.opcode === "GEMV")).toBe(true);
  });

  it("kv260-v002-ext: 4 GEMV ports, 2 GEMM ports (the kv_rows do not give the GEMM's split)", () => {
    const t = ext();
    const g = llamaLike({ layers: 1 });
    const r = codegen(g, plan(g, t, { context: 5000 }), t, { prefillChunk: 4 });
    const s = scoreSteps(r.program, "prefill");
    expect(s.length).toBe(16 * Math.ceil(5000 / 2048));
    expect(s.every((x) => x.instr.opcode === "GEMV")).toBe(true);
    expect(verifyProgram(r.program, t)).toEqual([]);
  });
});

/** The target with `rowsPerLane` GEMV rows per lane (the ring's chunks are cores × that many slots). */
function withGemvRows(t: Target, rowsPerLane: number): Target {
  const file = { ...t.file, gemv: { ...t.file.gemv, max_rows_per_lane: rowsPerLane } };
  return { ...t, file, derived: deriveTarget(file) };
}

const TINY = fileURLToPath(new URL("../../examples/tiny/llama", import.meta.url));

describe("one GEMM computes what the chunked GEMVs compute (functional simulator)", () => {
  it("tiny Llama, 32-slot ring chunks: prefill chunks give the logits of token-by-token decode and of the golden run", async () => {
    const t = withGemvRows(base(), 8);
    expect(t.derived.gemv.max_rows_per_call).toBe(32);
    const chunked = await compileTiny(TINY, t, 64, ["decode", "prefill"], "int4");
    const decodeOnly = await compileTiny(TINY, t, 64, ["decode"], "int4");
    // 64 slots = 2 ring chunks of 32: prefill scores are GEMMs, decode's are 2 GEMVs per head.
    const gemm = scoreSteps(chunked.program, "prefill");
    expect(gemm.length).toBeGreaterThan(0);
    expect(gemm.every((x) => x.instr.opcode === "GEMM")).toBe(true);
    expect(scoreSteps(chunked.program, "decode").every((x) => x.instr.opcode === "GEMV")).toBe(true);
    expect(verifyProgram(chunked.program, t)).toEqual([]);
    // 48 tokens: prefill chunks at 0, 16 and 32; the last one's rows attend over both ring chunks.
    const prompt = Array.from({ length: 48 }, (_, i) => (7 * i + 3) % 200);
    const a = simulateGeneration(decodeOnly.program, decodeOnly.image, t, prompt, 3, "exact");
    const b = simulateGeneration(chunked.program, chunked.image, t, prompt, 3, "exact");
    expect(a.faults).toEqual([]);
    expect(b.faults).toEqual([]);
    expect(b.prefill.length).toBe(3);
    expect(b.tokens).toEqual(a.tokens);
    // And the golden reference on the same (dequantised image) weights: same tokens, logits within 1e-4.
    const g = untie(chunked.graph);
    const gold = await goldenGenerate(
      await GoldenModel.load(g, imageWeightReader(chunked.bin, chunked.manifest, g)),
      prompt,
      3,
    );
    expect(b.tokens).toEqual(gold.tokens);
    for (const r of compareToGolden(b, gold).maxRelErr) expect(r).toBeLessThan(1e-4);
    const pairs = [
      ...[15, 31, 47].map((p, i) => [a.prefill[p]!, b.prefill[i]!] as const),
      ...a.steps.map((x, i) => [x, b.steps[i]!] as const),
    ];
    for (const [x, y] of pairs) {
      const scale = Math.max(...x.map(Math.abs));
      let worst = 0;
      for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j]! - y[j]!));
      expect(worst / scale).toBeLessThan(1e-5);
    }
  }, 120_000);
});
