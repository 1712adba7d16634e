/**
 * Shared helpers of the plugin tests: locating the real configs (the shared collection, skipped
 * with a note when absent, and the shipped examples), shrinking a real config to a tiny one,
 * seeded random weights and the golden reference's KV-cache consistency check.
 */
import { existsSync, readFileSync } from "node:fs";
import { expect } from "vitest";
import { type ParsedConfig, parseConfigObject, parseConfigText } from "../../../src/parser/config/index.js";
import { type ModelGraph, resolve, storedTensors } from "../../../src/resolver/index.js";
import { mulberry32 } from "../../../src/util/random.js";
import {
  GoldenModel,
  MemoryWeights,
  recomputeLast,
  rowOf,
  type WeightTensor,
} from "../../../src/validate/golden/index.js";
import { EXAMPLE_CONFIGS, HAVE_SHARED, SHARED_CONFIGS } from "../../helpers/paths.js";

export { EXAMPLE_CONFIGS, HAVE_SHARED, SHARED_CONFIGS };

/** Path of `<dir>/<model>/config.json`, or undefined when absent. */
export function configPath(dir: string, model: string): string | undefined {
  const p = `${dir}/${model}/config.json`;
  return existsSync(p) ? p : undefined;
}

export function parseFile(path: string): ParsedConfig {
  return parseConfigText(readFileSync(path, "utf8"), path);
}

/** The raw JSON object of a config (for shrinking). */
export function rawConfig(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/** The raw JSON object of a config shipped in examples/configs. */
export function exampleRaw(model: string): Record<string, unknown> {
  const p = configPath(EXAMPLE_CONFIGS, model);
  if (!p) throw new Error(`examples/configs/${model}/config.json is missing`);
  return rawConfig(p);
}

/** Where a model's config can be read from: the shared collection and/or the shipped examples. */
export function sourcesOf(model: string): { where: string; path: string }[] {
  const out: { where: string; path: string }[] = [];
  const s = configPath(SHARED_CONFIGS, model);
  if (s) out.push({ where: "shared", path: s });
  const e = configPath(EXAMPLE_CONFIGS, model);
  if (e) out.push({ where: "examples", path: e });
  return out;
}

/** Warns once per skipped shared-config test so a missing ../shared is visible in the run. */
export function warnSkipped(what: string): void {
  if (!HAVE_SHARED) console.warn(`[skip] ../shared/configs not found: ${what} skipped`);
}

/** Resolves a config file (the graph only). */
export function graphOf(path: string): ModelGraph {
  return resolve(parseFile(path)).graph;
}

/** The weights of a graph declared for `layer`, by name. */
export function layerWeights(g: ModelGraph, layer: number): Map<string, ModelGraph["weights"][number]> {
  return new Map(g.weights.filter((w) => w.layer === layer && !w.tiedTo).map((w) => [w.name, w]));
}

/** Tiny dimensions applied to a real config (HF key names; GPT-2 files are handled by the caller). */
export const TINY = {
  hidden_size: 64,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 96,
  num_hidden_layers: 2,
  vocab_size: 128,
} as const;

/** A real config object with its dimensions replaced by `TINY` plus `extra`, parsed. */
export function shrink(raw: Record<string, unknown>, extra: Record<string, unknown> = {}): ParsedConfig {
  const copy: Record<string, unknown> = { ...raw, ...TINY };
  if ("head_dim" in raw) copy.head_dim = 16;
  Object.assign(copy, extra);
  return parseConfigObject(copy, "tiny-config.json");
}

/** Seeded weights for every stored tensor: norms near 1, everything else uniform in ±0.3. */
export function randomWeights(g: ModelGraph, seed = 1): MemoryWeights {
  const next = mulberry32(seed);
  const tensors: [string, WeightTensor][] = [];
  for (const w of storedTensors(g)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = w.role === "norm" ? 1 + 0.2 * (next() - 0.5) : 0.6 * (next() - 0.5);
    tensors.push([w.name, { shape: w.shape, data }]);
  }
  return new MemoryWeights(tensors);
}

/**
 * cacheConsistency, asserting what every plugin's tiny golden check asserts: realistic (non-zero)
 * logits, and cached decoding equal to recomputation to 1e-9.
 */
export async function expectCacheConsistent(
  g: ModelGraph,
  prompt: readonly number[],
  steps: number,
): Promise<{ maxDiff: number; compared: number; maxAbs: number }> {
  const r = await cacheConsistency(g, prompt, steps);
  expect(r.maxAbs).toBeGreaterThan(1e-3);
  expect(r.maxDiff).toBeLessThan(1e-9);
  return r;
}

/**
 * Prefills `prompt`, then decodes `steps` tokens with the KV cache; returns the largest absolute
 * difference between each decode step's logits and the same position recomputed without a cache,
 * and the number of logits compared.
 */
export async function cacheConsistency(
  g: ModelGraph,
  prompt: readonly number[],
  steps: number,
  seed = 1,
): Promise<{ maxDiff: number; compared: number; maxAbs: number }> {
  const model = await GoldenModel.load(g, randomWeights(g, seed));
  const s = model.session();
  s.forward(prompt);
  const seq = [...prompt];
  let maxDiff = 0;
  let compared = 0;
  let maxAbs = 0;
  for (let i = 0; i < steps; i++) {
    const tok = (7 * i + 3) % g.meta.vocabSize;
    seq.push(tok);
    const cached = rowOf(s.forward([tok]), 0);
    const fresh = recomputeLast(model, seq);
    for (let j = 0; j < fresh.length; j++) {
      maxDiff = Math.max(maxDiff, Math.abs(cached[j]! - fresh[j]!));
      maxAbs = Math.max(maxAbs, Math.abs(fresh[j]!));
      compared++;
    }
  }
  return { maxDiff, compared, maxAbs };
}
