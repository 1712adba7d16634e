import { describe, expect, it } from "vitest";
import {
  GoldenModel,
  goldenForced,
  goldenGenerate,
  recomputeLast,
  rowOf,
} from "../../../src/validate/golden/index.js";
import { ALL_FIXTURES, randomWeights } from "../../resolver/graph/fixtures.js";

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

// Prompt longer than the sliding windows (3) of the fixtures, so windows and caches both matter.
const PROMPT = [3, 17, 5, 29, 11, 2];
const NEW = 6;

describe.each(Object.keys(ALL_FIXTURES))("KV-cached decoding of the %s block", (name) => {
  it("equals recomputing the whole prefix without a cache, at every step", async () => {
    const g = ALL_FIXTURES[name]!();
    const model = await GoldenModel.load(g, randomWeights(g, 11));
    const run = await goldenGenerate(model, PROMPT, NEW);
    expect(run.tokens).toHaveLength(NEW);
    for (let i = 0; i < NEW; i++) {
      const seq = [...PROMPT, ...run.tokens.slice(0, i)];
      const ref = recomputeLast(model, seq);
      expect(maxDiff(run.steps[i]!, ref)).toBeLessThan(1e-12);
      expect(ref.every(Number.isFinite)).toBe(true);
    }
    // The logits are not degenerate (the check above would pass trivially on constants).
    const first = run.steps[0]!;
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(1e-3);
  });

  it("teacher forcing with the greedy tokens reproduces the greedy run; other tokens give the recomputed logits", async () => {
    const g = ALL_FIXTURES[name]!();
    const model = await GoldenModel.load(g, randomWeights(g, 13));
    const greedy = await goldenGenerate(model, PROMPT, NEW);
    const same = await goldenForced(model, PROMPT, greedy.tokens);
    expect(same.tokens).toEqual(greedy.tokens);
    for (let i = 0; i < NEW; i++) expect(maxDiff(same.steps[i]!, greedy.steps[i]!)).toBe(0);
    const forced = [7, 1, 30, 4];
    const other = await goldenForced(model, PROMPT, forced);
    expect(other.steps).toHaveLength(forced.length);
    for (let i = 0; i < forced.length; i++) {
      const ref = recomputeLast(model, [...PROMPT, ...forced.slice(0, i)]);
      expect(maxDiff(other.steps[i]!, ref)).toBeLessThan(1e-12);
    }
  });

  it("gives the same logits for a prompt prefilled in one call or in two chunks", async () => {
    const g = ALL_FIXTURES[name]!();
    const model = await GoldenModel.load(g, randomWeights(g, 12));
    const whole = model.session().forward(PROMPT);
    const chunked = model.session();
    chunked.forward(PROMPT.slice(0, 4));
    const tail = chunked.forward(PROMPT.slice(4));
    for (let t = 0; t < 2; t++) expect(maxDiff(rowOf(tail, t), rowOf(whole, 4 + t))).toBeLessThan(1e-12);
  });
});
