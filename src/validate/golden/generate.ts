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

/**
 * Prefill `prompt`, then choose `n` tokens one decode call at a time: `pick(i, logits)` chooses
 * token i from the logits it is compared against.
 */
function generate(
  model: GoldenModel,
  prompt: readonly number[],
  n: number,
  pick: (i: number, logits: Float64Array) => number,
): GoldenRun {
  if (prompt.length === 0) throw usageError("golden/empty-prompt", "the prompt needs at least one token");
  const s = model.session();
  const pre = s.forward(prompt);
  const prefill = Array.from({ length: pre.rows }, (_, t) => Float64Array.from(rowOf(pre, t)));
  const steps: Float64Array[] = [];
  const tokens: number[] = [];
  let logits = prefill[prefill.length - 1]!;
  for (let i = 0; i < n; i++) {
    steps.push(logits);
    const tok = pick(i, logits);
    tokens.push(tok);
    if (i + 1 < n) logits = Float64Array.from(rowOf(s.forward([tok]), 0));
  }
  return { prefill, steps, tokens };
}

/** Prefill `prompt`, then choose `newTokens` tokens greedily, decoding one token per call. */
export async function goldenGenerate(
  model: GoldenModel,
  prompt: readonly number[],
  newTokens: number,
): Promise<GoldenRun> {
  return generate(model, prompt, newTokens, (_, logits) => argmax(logits));
}

/**
 * Prefill `prompt`, then feed `forced` token by token (teacher forcing): the logits each of `forced`
 * is compared against, as a GoldenRun whose tokens are `forced`. Compares two models (e.g. the
 * golden on the INT4 image's weights and on the checkpoint's) step by step on the same sequence.
 */
export async function goldenForced(
  model: GoldenModel,
  prompt: readonly number[],
  forced: readonly number[],
): Promise<GoldenRun> {
  return generate(model, prompt, forced.length, (i) => forced[i]!);
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
