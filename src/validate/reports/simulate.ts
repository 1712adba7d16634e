/**
 * The library side of `pccxc simulate`: time a compiled program (and, when asked, run it through
 * the functional simulator on its weight image), build the report from the results and what the
 * directory holds, and render the report files. The CLI command only parses options and prints.
 */
import type { Target } from "../../target/index.js";
import { imageFromManifest, simulateGeneration } from "../sim/index.js";
import type { Fault } from "../sim/types.js";
import {
  DEFAULT_SWEEP,
  decodeRuns,
  loadRuns,
  prefillChunk,
  prefillRuns,
  runTiming,
  type TimingOutput,
} from "../timing/index.js";
import { buildReport, detailRun } from "./build.js";
import { renderReport } from "./files.js";
import { type CompiledDir, readWeightImage } from "./outdir.js";
import type { Report } from "./schema.js";

export interface SimulateOptions {
  readonly timing: boolean;
  readonly functional: boolean;
  /** Decode tokens (timing: ending at `context`; functional: generated after a one-token prompt). */
  readonly tokens?: number;
  /** KV rows of the last decoded token (default: the largest context, the target's ring capacity). */
  readonly context?: number;
  /**
   * Prompt tokens to prefill from position 0 for the timing. Default: one prefill chunk ending at
   * `context` (its rows attend to about `context` cached rows: the marginal prompt rate there).
   */
  readonly prompt?: number;
}

export interface FunctionalRunSummary {
  readonly faults: readonly Fault[];
  readonly tokens: readonly number[];
}

export interface SimulateResult {
  readonly report: Report;
  readonly files: ReadonlyMap<string, string | Uint8Array>;
  readonly timing?: TimingOutput;
  readonly functional?: FunctionalRunSummary;
}

/** Prompt token id of the functional run: 1 (a BOS id in most vocabularies; the value is immaterial). */
export const FUNCTIONAL_PROMPT: readonly number[] = [1];

export async function simulateCompiled(
  d: CompiledDir,
  target: Target,
  o: SimulateOptions,
): Promise<SimulateResult> {
  const p = d.program;
  const maxContext = target.file.numeric.kv_cache.ring_capacity_tokens;
  const context = Math.min(o.context ?? maxContext, maxContext);
  let timing: TimingOutput | undefined;
  if (o.timing) {
    const chunk = Math.min(prefillChunk(p), context);
    const prefill =
      o.prompt !== undefined ? prefillRuns(p, 0, o.prompt) : prefillRuns(p, context - chunk, chunk);
    timing = runTiming(p, target, {
      runs: [...loadRuns(p), ...prefill, ...decodeRuns(p, context, o.tokens ?? 1)],
      context,
      maxContext,
      timeline: true,
      sweep: [...new Set([...DEFAULT_SWEEP, context])].filter((c) => c <= maxContext),
    });
  }
  let functional: FunctionalRunSummary | undefined;
  if (o.functional) {
    const { bin, manifest } = await readWeightImage(d.dir);
    const sim = simulateGeneration(
      p,
      imageFromManifest(bin, manifest),
      target,
      FUNCTIONAL_PROMPT,
      o.tokens ?? 1,
      "hardware",
    );
    functional = { faults: sim.faults, tokens: sim.tokens };
  }
  const report = buildReport({
    target,
    ...(d.modelLabel ? { modelName: d.modelLabel } : {}),
    ...(d.ledger ? { ledger: d.ledger } : {}),
    ...(d.layout ? { layout: d.layout } : {}),
    ...(d.quantization ? { quantization: d.quantization } : {}),
    program: p,
    ...(timing ? { timing, context } : {}),
    ...(functional ? { functional: { faults: functional.faults } } : {}),
  });
  const timeline = timing ? timing.runs[detailRun(timing)]?.timeline : undefined;
  const files = renderReport(report, { target, ...(timeline ? { timeline } : {}) });
  return { report, files, ...(timing ? { timing } : {}), ...(functional ? { functional } : {}) };
}
