/**
 * Decode on kv260-v002-ext for the tiny Gemma 3n (AltUp, LAuReL, Gaussian top-k sparsity, per-layer
 * inputs): the sparse layers' Gaussian top-k and the GLU after it run on the SFU (no host step), the
 * program verifies, and the functional simulator in exact mode reproduces the golden tokens with
 * every step's logits within 1e-4. Hardware mode runs without faults; its error is above the base
 * target's floor (floors.ts) because the ext GLU uses the SFU's GELU (x·σ(1.702x)) where the base
 * target's host computes GELU-tanh: measured with top-k and GLU still on the host, cosine min 0.620 /
 * mean 0.897; with them on the SFU 0.638 / 0.899 — the floor below keeps that from degrading.
 *
 * The committed tiny models are too narrow (64 features) for the overlap pass to make any CVO
 * async, so the second test generates wider ones (512 features) and checks the async program
 * against the golden run in exact mode.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { verifyProgram } from "../../src/codegen/index.js";
import { loadTarget } from "../../src/target/index.js";
import { generateTiny } from "../../src/tiny/index.js";
import { GoldenModel, goldenGenerate } from "../../src/validate/golden/index.js";
import {
  compareToGolden,
  imageWeightReader,
  simulateGeneration,
  untie,
} from "../../src/validate/sim/index.js";
import { compileTiny } from "../validate/sim/e2e-chain.js";

const TINY = fileURLToPath(new URL("../../examples/tiny/gemma3n", import.meta.url));
const CONFIGS = fileURLToPath(new URL("../../examples/configs/", import.meta.url));
const PROMPT = [1, 2, 3, 4, 5];
const STEPS = 32;
const target = loadTarget("kv260-v002-ext");

describe("tiny gemma3n decode on kv260-v002-ext", () => {
  it("runs Gaussian top-k and the GLU on the SFU and reproduces the golden run", async () => {
    const c = await compileTiny(TINY, target, 64, ["decode"], "int4");
    expect(verifyProgram(c.program, target)).toEqual([]);
    const steps = c.program.segments.find((s) => s.name === "decode")!.steps;
    const hostFns = new Set(steps.flatMap((s) => (s.kind === "host" ? [s.fn] : [])));
    expect(hostFns.has("gaussian_topk")).toBe(false);
    expect(hostFns.has("glu")).toBe(false);
    const cut = steps.filter(
      (s) => s.kind === "npu" && s.instr.opcode === "CVO" && s.origin.label.startsWith("gaussian_topk"),
    );
    expect(cut.length).toBeGreaterThan(0);

    const g = untie(c.graph);
    const gold = await goldenGenerate(
      await GoldenModel.load(g, imageWeightReader(c.bin, c.manifest, g)),
      PROMPT,
      STEPS,
    );
    const logits = { vocab: c.vocab };
    const exact = simulateGeneration(c.program, c.image, target, PROMPT, STEPS, "exact", { logits });
    expect(exact.faults.map((f) => f.message)).toEqual([]);
    expect(exact.tokens).toEqual(gold.tokens);
    const ex = compareToGolden(exact, gold);
    for (const r of ex.maxRelErr) expect(r).toBeLessThan(1e-4);

    const hw = simulateGeneration(c.program, c.image, target, PROMPT, STEPS, "hardware", {
      logits,
      forceTokens: gold.tokens,
    });
    expect(hw.faults.map((f) => f.message)).toEqual([]);
    const h = compareToGolden(hw, gold);
    const mean = h.cosine.reduce((a, b) => a + b, 0) / h.cosine.length;
    console.info(
      `tiny gemma3n on ext: exact max rel ${Math.max(...ex.maxRelErr).toExponential(1)}, hw cos min ` +
        `${Math.min(...h.cosine).toFixed(4)} mean ${mean.toFixed(4)} top-1 ${h.top1Agreement.toFixed(3)}`,
    );
    for (const cos of h.cosine) expect(cos).toBeGreaterThanOrEqual(0.6);
    expect(mean).toBeGreaterThanOrEqual(0.89);
  }, 120_000);

  for (const [family, source] of [
    ["llama", "meta-llama__Llama-3.2-1B"],
    ["gemma3n", "google__gemma-3n-E2B-it"],
  ] as const) {
    it(`${family} at 512 features: async SFU work beside GEMVs gives the golden tokens (exact mode)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "pccxc-overlap-"));
      try {
        await generateTiny(`${CONFIGS}${source}/config.json`, dir, { hidden: 512 });
        const c = await compileTiny(dir, target, 64, ["decode"], "int4");
        expect(verifyProgram(c.program, target)).toEqual([]);
        const steps = c.program.segments.find((s) => s.name === "decode")!.steps;
        const async = steps.filter(
          (s) => s.kind === "npu" && s.instr.opcode === "CVO" && s.instr.fields.async === 1,
        );
        expect(async.length).toBeGreaterThan(0);
        const g = untie(c.graph);
        const gold = await goldenGenerate(
          await GoldenModel.load(g, imageWeightReader(c.bin, c.manifest, g)),
          PROMPT,
          8,
        );
        const exact = simulateGeneration(c.program, c.image, target, PROMPT, 8, "exact", {
          logits: { vocab: c.vocab },
        });
        expect(exact.faults.map((f) => f.message)).toEqual([]);
        expect(exact.tokens).toEqual(gold.tokens);
        for (const r of compareToGolden(exact, gold).maxRelErr) expect(r).toBeLessThan(1e-4);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
