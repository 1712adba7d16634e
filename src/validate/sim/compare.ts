/**
 * Simulated generation against the golden reference, step by step: are the greedy tokens the same,
 * and how far apart are the logits each token was chosen from.
 *
 * - relative error of a step: max_i |sim_i − gold_i| / max_i |gold_i| (the largest deviation
 *   against the logit scale; element-wise ratios blow up at logits near zero);
 * - cosine: Σ sim·gold / (‖sim‖·‖gold‖);
 * - top-1 agreement: the share of steps whose argmax agree (the steps compare the same positions;
 *   once tokens diverge the contexts differ, which the flag `tokensEqual` shows).
 */
import { argmax } from "./generate.js";

export interface StepComparison {
  readonly maxAbsErr: number;
  readonly maxRelErr: number;
  readonly cosine: number;
  readonly top1: boolean;
}

export interface GoldenComparison {
  readonly tokensEqual: boolean;
  /** Index of the first differing token, or −1. */
  readonly firstDivergence: number;
  /** Per golden step (a step the simulation did not reach is a total miss). */
  readonly maxRelErr: readonly number[];
  readonly cosine: readonly number[];
  readonly steps: readonly StepComparison[];
  /** Fraction of steps whose argmax agree. */
  readonly top1Agreement: number;
  /** Worst figures over the steps. */
  readonly worst: { readonly maxRelErr: number; readonly maxAbsErr: number; readonly cosine: number };
}

interface Run {
  readonly steps: readonly ArrayLike<number>[];
  readonly tokens: readonly number[];
}

export function compareStep(sim: ArrayLike<number>, gold: ArrayLike<number>): StepComparison {
  const n = Math.min(sim.length, gold.length);
  let maxAbs = 0;
  let scale = 0;
  let dot = 0;
  let ss = 0;
  let gg = 0;
  for (let i = 0; i < n; i++) {
    const s = sim[i]!;
    const g = gold[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(s - g));
    scale = Math.max(scale, Math.abs(g));
    dot += s * g;
    ss += s * s;
    gg += g * g;
  }
  if (sim.length !== gold.length) maxAbs = Number.POSITIVE_INFINITY;
  const cosine = ss === 0 && gg === 0 ? 1 : ss === 0 || gg === 0 ? 0 : dot / Math.sqrt(ss * gg);
  return {
    maxAbsErr: maxAbs,
    maxRelErr: scale === 0 ? (maxAbs === 0 ? 0 : Number.POSITIVE_INFINITY) : maxAbs / scale,
    cosine,
    top1: argmax(sim) === argmax(gold),
  };
}

export function compareToGolden(sim: Run, golden: Run): GoldenComparison {
  // A step the simulation did not reach (it stopped on faults) compares as a total miss.
  const n = golden.steps.length;
  const missing: StepComparison = {
    maxAbsErr: Number.POSITIVE_INFINITY,
    maxRelErr: Number.POSITIVE_INFINITY,
    cosine: 0,
    top1: false,
  };
  const steps = Array.from({ length: n }, (_, i) => {
    const s = sim.steps[i];
    return s ? compareStep(s, golden.steps[i]!) : missing;
  });
  let first = -1;
  const len = Math.max(sim.tokens.length, golden.tokens.length);
  for (let i = 0; i < len && first < 0; i++) if (sim.tokens[i] !== golden.tokens[i]) first = i;
  return {
    tokensEqual: first < 0,
    firstDivergence: first,
    maxRelErr: steps.map((s) => s.maxRelErr),
    cosine: steps.map((s) => s.cosine),
    steps,
    top1Agreement: n === 0 ? 1 : steps.filter((s) => s.top1).length / n,
    worst: {
      maxRelErr: Math.max(0, ...steps.map((s) => s.maxRelErr)),
      maxAbsErr: Math.max(0, ...steps.map((s) => s.maxAbsErr)),
      cosine: Math.min(1, ...steps.map((s) => s.cosine)),
    },
  };
}
