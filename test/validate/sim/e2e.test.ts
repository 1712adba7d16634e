/**
 * End to end: each tiny model compiled through the stage APIs (parse → … → codegen → weight image)
 * with each KV cache format the target offers (int8: attention on the host; int4: attention on the
 * GEMV engines), then a 5-token prompt and 32 greedy decode steps simulated and compared with the
 * golden reference run on the same dequantized weights (imageWeightReader).
 *
 * - exact mode: identical tokens and every step's logits within 1e-4 (relative to the logit scale);
 * - hardware mode, teacher-forced on the golden tokens (so every step compares the same context):
 *   the family's floor (floors.ts, docs/simulator.md): every step's cosine and their mean, and the
 *   top-1 agreement over the 32 steps. The measurements are printed at the end.
 */
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadTarget } from "../../../src/target/index.js";
import { GoldenModel, goldenGenerate } from "../../../src/validate/golden/index.js";
import {
  compareToGolden,
  imageWeightReader,
  simulateGeneration,
  untie,
} from "../../../src/validate/sim/index.js";
import { SUPPORTED_FAMILIES } from "../../helpers/families.js";
import { compileTiny } from "./e2e-chain.js";
import { FLOORS, floorOf, type KvFormat } from "./floors.js";

const TINY = fileURLToPath(new URL("../../../examples/tiny/", import.meta.url));
const PROMPT = [1, 2, 3, 4, 5];
const STEPS = 32;
const target = loadTarget("kv260-v002");

const MODELS = SUPPORTED_FAMILIES;
const FORMATS: readonly KvFormat[] = ["int8", "int4"];

const measured: string[] = [];

describe("functional simulation of tiny models against the golden reference", () => {
  for (const kv of FORMATS) {
    for (const model of MODELS) {
      it(`${model} (KV ${kv}): exact mode reproduces the golden run; hardware mode stays above its floor`, async () => {
        const c = await compileTiny(`${TINY}${model}`, target, 64, ["decode"], kv);
        expect(c.missingRegions).toEqual([]);
        const g = untie(c.graph);
        const gold = await goldenGenerate(
          await GoldenModel.load(g, imageWeightReader(c.bin, c.manifest, g)),
          PROMPT,
          STEPS,
        );
        const logits = { vocab: c.vocab };

        const exact = simulateGeneration(c.program, c.image, target, PROMPT, STEPS, "exact", { logits });
        expect(exact.faults.map((f) => f.message)).toEqual([]);
        const ex = compareToGolden(exact, gold);
        expect(exact.tokens).toEqual(gold.tokens);
        expect(ex.steps).toHaveLength(STEPS);
        for (const r of ex.maxRelErr) expect(r).toBeLessThan(1e-4);

        const hw = simulateGeneration(c.program, c.image, target, PROMPT, STEPS, "hardware", {
          logits,
          forceTokens: gold.tokens,
        });
        expect(hw.faults.map((f) => f.message)).toEqual([]);
        const h = compareToGolden(hw, gold);
        const min = Math.min(...h.cosine);
        const mean = h.cosine.reduce((a, b) => a + b, 0) / h.cosine.length;
        measured.push(
          `${model.padEnd(12)} ${kv}  exact ${Math.max(...ex.maxRelErr).toExponential(1)}  ` +
            `hw cos min ${min.toFixed(4)} mean ${mean.toFixed(4)} max rel ${h.worst.maxRelErr.toFixed(3)} ` +
            `top-1 ${h.top1Agreement.toFixed(3)}`,
        );
        const floor = floorOf(kv, model);
        for (const cos of h.cosine) expect(cos).toBeGreaterThanOrEqual(floor.min);
        expect(mean).toBeGreaterThanOrEqual(floor.mean);
        expect(h.top1Agreement).toBeGreaterThanOrEqual(floor.top1);
      });
    }
  }

  it("every family below the default floor has a measured floor with its reason", () => {
    for (const kv of FORMATS)
      for (const [m, f] of Object.entries(FLOORS[kv])) {
        expect(MODELS).toContain(m);
        expect(f.why?.length ?? 0).toBeGreaterThan(20);
      }
  });

  afterAll(() => {
    if (measured.length > 0) console.info(`sim e2e measurements (kv260-v002):\n${measured.join("\n")}`);
  });
});
