/**
 * The per-op error trace (op-error.ts) and the exact parts of hardware mode, on tiny models: the
 * trace locates the INT8 activation cost in the first GEMV (and `exactParts` removes it), and it
 * reproduces the Gemma 4 finding of docs/simulator.md — at position 12 the per-layer-input gate of
 * layer 6 has a tiny output (all pre-activations negative or near zero) whose relative error jumps
 * above 100 %, a part of it from the SFU's GELU formula.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadTarget } from "../../../src/target/index.js";
import { GoldenModel, goldenGenerate } from "../../../src/validate/golden/index.js";
import { imageWeightReader, type OpErrorRow, opErrorTrace, untie } from "../../../src/validate/sim/index.js";
import { compileTiny } from "./e2e-chain.js";

const TINY = fileURLToPath(new URL("../../../examples/tiny/", import.meta.url));
const PROMPT = [1, 2, 3, 4, 5];
const target = loadTarget("kv260-v002");

async function goldenTokens(model: string) {
  const c = await compileTiny(`${TINY}${model}`, target, 64, ["decode"], "int8");
  const g = untie(c.graph);
  const gold = await goldenGenerate(
    await GoldenModel.load(g, imageWeightReader(c.bin, c.manifest, g)),
    PROMPT,
    12,
  );
  return { c, tokens: [...PROMPT, ...gold.tokens] };
}

const row = (rows: readonly OpErrorRow[], what: string, label: string) => {
  const r = rows.find((x) => x.what === what && x.label.includes(label));
  if (!r) throw new Error(`no ${what} row labelled ${label}`);
  return r;
};

describe("per-op error trace (exact vs hardware, step by step)", () => {
  it("llama: the first GEMV carries the INT8 activation cost; exactParts removes it", async () => {
    const { c, tokens } = await goldenTokens("llama");
    const hw = opErrorTrace(c.program, c.image, target, tokens, 3);
    expect(hw.faults).toEqual([]);
    expect(hw.rows.map((r) => r.step)).toEqual([...hw.rows.map((r) => r.step)].sort((a, b) => a - b));
    // The embedding row is BF16 in the image: copied identically by both machines.
    expect(row(hw.rows, "MEMCPY", "embedding").relErr).toBe(0);
    const q = row(hw.rows, "GEMV", "L0.q");
    expect(q.relErr).toBeGreaterThan(5e-3);
    expect(q.relErr).toBeLessThan(3e-2);
    const exact = opErrorTrace(c.program, c.image, target, tokens, 3, {
      exactParts: ["activations", "l2", "sfu"],
    });
    // Left: the host's BF16 RMS factor (≈ 1e-3), which the GEMV passes on without adding to it.
    const norm = row(exact.rows, "CVO:SCALE", "L0.input_layernorm");
    const q2 = row(exact.rows, "GEMV", "L0.q");
    expect(q2.relErr).toBeLessThan(2e-3);
    expect(Math.abs(q2.relErr - norm.relErr)).toBeLessThan(1e-4);
    expect(() => opErrorTrace(c.program, c.image, target, tokens, tokens.length)).toThrow(
      expect.objectContaining({ code: "sim/trace-position" }),
    );
  });

  it("gemma4: the per-layer-input gate of layer 6 at position 12 (docs/simulator.md)", async () => {
    const { c, tokens } = await goldenTokens("gemma4");
    const hw = opErrorTrace(c.program, c.image, target, tokens, 12);
    expect(hw.faults).toEqual([]);
    const gelu = (rows: readonly OpErrorRow[], layer: number) =>
      rows.find((r) => r.what === "CVO:GELU" && r.layer === layer)!;
    const l5 = gelu(hw.rows, 5);
    const l6 = gelu(hw.rows, 6);
    expect(l5.relErr).toBeLessThan(0.1);
    expect(l6.maxAbs).toBeLessThan(0.1); // a tiny GELU output ...
    expect(l6.relErr).toBeGreaterThan(1); // ... with a relative error above 100 %
    // The RMSNorm after the per-layer projection passes it on at full scale.
    const after = hw.rows.find((r) => r.layer === 6 && r.step > l6.step && r.what === "host:rms_norm")!;
    expect(after.maxAbs).toBeGreaterThan(1);
    expect(after.relErr).toBeGreaterThan(1);
    // The SFU's x·σ(1.702x) is part of it: with the intended gelu_tanh the jump is smaller.
    const sfu = opErrorTrace(c.program, c.image, target, tokens, 12, { exactParts: ["sfu"] });
    expect(gelu(sfu.rows, 6).relErr).toBeLessThan(l6.relErr);
  });
});
