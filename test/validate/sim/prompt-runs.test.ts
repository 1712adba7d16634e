/**
 * How the simulator's driver loop feeds a prompt (docs/program.md §2): whole prefill chunks up to the
 * segment's maxPos, then decode token by token. Regression: a prompt shorter than a chunk used to go
 * through prefill as a partial chunk, whose logits are those of the chunk's last (unused) row — so
 * `pccxc compile` (which emits a prefill segment) failed validation from step 0.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadTarget } from "../../../src/target/index.js";
import { GoldenModel, goldenGenerate } from "../../../src/validate/golden/index.js";
import { imageWeightReader, promptRuns, simulateGeneration, untie } from "../../../src/validate/sim/index.js";
import { compileTiny } from "./e2e-chain.js";

describe("promptRuns", () => {
  it("a prompt shorter than a chunk goes token by token through decode", () => {
    expect(promptRuns(4, { maxPos: 48 }, 16)).toEqual(
      [0, 1, 2, 3].map((pos) => ({ pos, tokens: 1, prefill: false })),
    );
  });
  it("whole chunks through prefill, then the tail through decode", () => {
    const r = promptRuns(35, {}, 16);
    expect(r.slice(0, 2)).toEqual([
      { pos: 0, tokens: 16, prefill: true },
      { pos: 16, tokens: 16, prefill: true },
    ]);
    expect(r.slice(2)).toEqual([32, 33, 34].map((pos) => ({ pos, tokens: 1, prefill: false })));
  });
  it("no chunk starts past maxPos; without a prefill segment everything is decode", () => {
    const r = promptRuns(40, { maxPos: 10 }, 8);
    expect(r.filter((x) => x.prefill).map((x) => x.pos)).toEqual([0, 8]);
    expect(r.filter((x) => !x.prefill)).toHaveLength(24);
    expect(promptRuns(3, undefined, 16).every((x) => !x.prefill)).toBe(true);
  });
});

describe("prefill + decode program against the golden reference (tiny llama)", () => {
  const TINY = fileURLToPath(new URL("../../../examples/tiny/llama", import.meta.url));
  const target = loadTarget("kv260-v002");
  it("the validation prompt of `pccxc compile` (BOS 255, 2, 3, 4) and a chunk + tail prompt give the golden tokens", async () => {
    const c = await compileTiny(TINY, target, 64, ["decode", "prefill"]);
    expect(c.program.segments.some((s) => s.kind === "prefill")).toBe(true);
    const g = untie(c.graph);
    const model = await GoldenModel.load(g, imageWeightReader(c.bin, c.manifest, g));
    for (const prompt of [[255, 2, 3, 4], Array.from({ length: 18 }, (_, i) => i + 1)]) {
      const gold = await goldenGenerate(model, prompt, 6);
      const sim = simulateGeneration(c.program, c.image, target, prompt, 6, "exact", {
        logits: { vocab: c.vocab },
      });
      expect(sim.faults.map((f) => f.message)).toEqual([]);
      expect(sim.tokens).toEqual(gold.tokens);
    }
  });
});
