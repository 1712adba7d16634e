/**
 * The timing half of the validate stage: the generated program timed on the target's resources.
 * The decode rate at context C is one token attending to C cached rows; the prefill rate at C is
 * the last prefill chunk of a C-token prompt (its rows attend to about C cached rows): the marginal
 * prompt rate at that length, a lower bound of the average over the prompt. The detailed run (the
 * report's and the traces') is load + that prefill chunk + that decode token at the compiled context.
 */
import type { Program } from "../../codegen/program.js";
import type { Target } from "../../target/index.js";
import {
  prefillChunk,
  runTiming,
  type SegmentRunSpec,
  type TimingOutput,
  TimingSession,
} from "../../validate/timing/index.js";
import { need, type PipelineState, type RunContext } from "../state.js";
import type { PerformanceSummary } from "../summary.js";
import type { PerfPoint } from "./validate.js";

const loadRuns = (p: Program): SegmentRunSpec[] =>
  p.segments.filter((s) => s.kind === "load").map((s) => ({ segment: s.name, variables: {}, tokens: 0 }));

/** The prefill chunk whose last row sits at position context − 1 (undefined: no prefill segment). */
export function prefillSpec(p: Program, context: number): SegmentRunSpec | undefined {
  const seg = p.segments.find((s) => s.kind === "prefill");
  if (!seg) return undefined;
  const tokens = Math.min(prefillChunk(p), context);
  const variables: Record<string, number> = { pos: Math.max(0, context - tokens) };
  for (const v of p.variables) if (/^token\[\d+\]$/.test(v.name)) variables[v.name] = 0;
  return { segment: seg.name, variables, tokens };
}

/**
 * Load, the prefill chunk ending at each context (ascending), then — when `decodeAt` is given — the
 * decode token at that context. One session: the load runs once.
 */
export function timingRuns(
  p: Program,
  t: Target,
  prefillAt: readonly number[],
  decodeAt?: number,
): SegmentRunSpec[] {
  const runs = loadRuns(p);
  for (const c of [...prefillAt].sort((a, b) => a - b)) {
    const pre = prefillSpec(p, c);
    if (pre) runs.push(pre);
  }
  const decode = p.segments.find((s) => s.kind === "decode");
  if (decode && decodeAt !== undefined)
    runs.push(new TimingSession(p, t).decodeSpec(decode.name, decodeAt - 1));
  return runs;
}

export interface TimedProgram {
  readonly performance: PerformanceSummary;
  readonly sweep: readonly PerfPoint[];
  readonly timing: TimingOutput;
}

/**
 * compile: load + prefill + decode at the compiled context (the report's detailed run, with a
 * timeline for the traces). plan: load + a prefill chunk per context, decode through the sweep.
 */
export function timeProgram(s: PipelineState, ctx: RunContext): TimedProgram {
  const program = need(s, "codegen", "validate").program;
  const maxContext = need(s, "layout", "validate").context;
  const asked = ctx.contexts?.length ? ctx.contexts : [maxContext];
  const contexts = [...new Set(asked.filter((c) => c <= maxContext))].sort((a, b) => a - b);
  for (const c of asked.filter((x) => x > maxContext)) {
    ctx.logger.warn(
      `no estimate at context ${c}: the program is compiled for ${maxContext} tokens (raise --context)`,
    );
  }
  const compiling = ctx.mode === "compile";
  const bar = ctx.logger.progress("timing simulation", 1);
  const timing = runTiming(program, ctx.target, {
    runs: timingRuns(
      program,
      ctx.target,
      compiling ? [maxContext] : contexts,
      compiling ? maxContext : undefined,
    ),
    maxContext,
    sweep: compiling ? [] : contexts,
    timeline: compiling,
  });
  bar.tick();
  bar.done();
  const runs = timing.result.runs;
  const prefillAt = new Map(
    runs
      .filter((r) => r.kind === "prefill")
      .map((r) => [Number(r.variables.pos ?? 0) + r.tokens, r.tokensPerSecond]),
  );
  const decodeAt = new Map((timing.result.sweep ?? []).map((p) => [p.context, p.tokensPerSecond]));
  if (compiling && timing.result.decode) decodeAt.set(maxContext, timing.result.decode.tokensPerSecond);
  const point = (c: number): PerfPoint => ({
    context: c,
    decodeTokensPerSecond: decodeAt.get(c) ?? 0,
    prefillTokensPerSecond: prefillAt.get(c) ?? null,
  });
  const at = point(compiling ? maxContext : (contexts[contexts.length - 1] ?? maxContext));
  return { performance: at, sweep: contexts.map(point), timing };
}
