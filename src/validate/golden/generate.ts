/**
 * Greedy generation with the golden reference: prefill a prompt, then decode token by token with the
 * KV cache, keeping the logits of every step. Also the cache-free recomputation used to check that
 * decoding with a cache is exact.
 */
import { usageError } from "../../diag/index.js";
import type { ModelGraph } from "../../resolver/graph/index.js";
import { GoldenModel } from "./executor.js";
import { argmax, rowOf } from "./tensor.js";
import type { WeightReader } from "./weights.js";

export interface GoldenRun {
  /** Logits of every prompt position (T rows of vocab). */
  readonly prefill: readonly Float64Array[];
  /** steps[i]: the logits tokens[i] was chosen from (steps[0] is the last prefill row). */
  readonly steps: readonly Float64Array[];
  /** The greedily chosen tokens (argmax, lowest id on ties). */
  readonly tokens: readonly number[];
}

/** Prefill `prompt`, then choose `newTokens` tokens greedily, decoding one token per call. */
export async function goldenGenerate(
  model: GoldenModel,
  prompt: readonly number[],
  newTokens: number,
): Promise<GoldenRun> {
  if (prompt.length === 0) throw usageError("golden/empty-prompt", "the prompt needs at least one token");
  const s = model.session();
  const pre = s.forward(prompt);
  const prefill = Array.from({ length: pre.rows }, (_, t) => Float64Array.from(rowOf(pre, t)));
  const steps: Float64Array[] = [];
  const tokens: number[] = [];
  let logits = prefill[prefill.length - 1]!;
  for (let i = 0; i < newTokens; i++) {
    steps.push(logits);
    const tok = argmax(logits);
    tokens.push(tok);
    if (i + 1 < newTokens) logits = Float64Array.from(rowOf(s.forward([tok]), 0));
  }
  return { prefill, steps, tokens };
}

/** The logits of the last position of `sequence`, recomputed from scratch (no cache reuse). */
export function recomputeLast(model: GoldenModel, sequence: readonly number[]): Float64Array {
  const out = model.session().forward(sequence);
  return Float64Array.from(rowOf(out, out.rows - 1));
}

/** Loads the weights and runs `goldenGenerate` (the one-call entry point). */
export async function golden(
  graph: ModelGraph,
  reader: WeightReader,
  prompt: readonly number[],
  newTokens: number,
): Promise<GoldenRun> {
  return goldenGenerate(await GoldenModel.load(graph, reader), prompt, newTokens);
}
