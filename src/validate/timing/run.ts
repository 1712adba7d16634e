/**
 * `runTiming`: times a program's segment runs on a target — the load segment once, prefill chunks
 * for a prompt, decode tokens at a context length — and summarises them (prefill and decode tok/s,
 * the context sweep). Each run starts from an idle machine (empty FIFOs, nothing in flight: the
 * execution contract ends every segment that way); the constant cache persists from run to run, as
 * on the board.
 */
import type { Program, SegmentKind } from "../../codegen/program.js";
import { usageError } from "../../diag/index.js";
import type { Target } from "../../target/index.js";
import { TimingMachine } from "./machine.js";
import { type TimingModel, timingModel } from "./resources.js";
import { runOutput } from "./result.js";
import type { ContextPoint, PhaseSummary, RunOutput, TimingResult } from "./types.js";
import { runVariables, Variables } from "./variables.js";
import { ConstCache } from "./work.js";
import { WorkCache } from "./work-cache.js";

export interface SegmentRunSpec {
  readonly segment: string;
  readonly variables: Readonly<Record<string, number>>;
  /** Tokens the run processes (default: 1 for decode, the chunk for prefill, 0 for load). */
  readonly tokens?: number;
}

export interface TimingOptions {
  /** Explicit runs; by default the load segment(s), a prefill of `prompt` tokens, `tokens` decode tokens. */
  readonly runs?: readonly SegmentRunSpec[];
  /** Decode tokens (default 1); the last one sees `context` KV rows. */
  readonly tokens?: number;
  /** KV rows the last decoded token attends to (default min(1024, maxContext)). */
  readonly context?: number;
  /** Prompt tokens to prefill (default 0: no prefill run). */
  readonly prompt?: number;
  /** Largest context the program supports (default: the target's KV ring capacity). */
  readonly maxContext?: number;
  /** Collect trace events (default false). */
  readonly timeline?: boolean;
  /** Contexts of the decode sweep (default none); points above maxContext are dropped. */
  readonly sweep?: readonly number[];
}

export interface TimingOutput {
  readonly result: TimingResult;
  readonly runs: readonly RunOutput[];
}

export const DEFAULT_CONTEXT = 1024;
export const DEFAULT_SWEEP: readonly number[] = [1024, 4096, 8192];

/** The timing model and the constant cache one program's runs share. */
export class TimingSession {
  readonly m: TimingModel;
  consts = new ConstCache();
  /** Per segment and timeline flag: the Works of its instructions, reused by every run. */
  private readonly works = new Map<string, WorkCache>();

  constructor(
    readonly program: Program,
    readonly target: Target,
  ) {
    this.m = timingModel(target);
  }

  kindOf(segment: string): SegmentKind {
    const seg = this.program.segments.find((s) => s.name === segment);
    if (!seg) {
      throw usageError("timing/unknown-segment", `the program has no segment "${segment}"`, {
        fix: `segments: ${this.program.segments.map((s) => s.name).join(", ")}`,
      });
    }
    return seg.kind;
  }

  /** Times one run; the constant cache carries over to the next. */
  run(spec: SegmentRunSpec, timeline = false): RunOutput {
    const seg = this.program.segments.find((s) => s.name === spec.segment);
    if (!seg) this.kindOf(spec.segment);
    const vars = new Variables(spec.variables);
    const key = `${spec.segment}\u0000${timeline ? 1 : 0}`;
    let works = this.works.get(key);
    if (!works) {
      works = new WorkCache(this.m, timeline);
      this.works.set(key, works);
    }
    const mc = new TimingMachine(this.m, this.program, seg!, vars, this.consts, timeline, works);
    const cycles = mc.run();
    const tokens =
      spec.tokens ?? (seg!.kind === "decode" ? 1 : seg!.kind === "prefill" ? prefillChunk(this.program) : 0);
    return runOutput(mc, spec, cycles, tokens);
  }

  /** A decode run of the token at position `pos`. */
  decodeSpec(segment: string, pos: number): SegmentRunSpec {
    return { segment, variables: runVariables(this.program, pos, 1), tokens: 1 };
  }
}

/** Rows of a prefill chunk: the token[t] variables the program declares (1 when none). */
export function prefillChunk(p: Program): number {
  return Math.max(1, p.variables.filter((v) => /^token\[\d+\]$/.test(v.name)).length);
}

function segmentsOf(p: Program, kind: SegmentKind): string[] {
  return p.segments.filter((s) => s.kind === kind).map((s) => s.name);
}

/** Runs of every load segment (once, before anything else). */
export function loadRuns(p: Program): SegmentRunSpec[] {
  return segmentsOf(p, "load").map((segment) => ({ segment, variables: {}, tokens: 0 }));
}

/** Prefill chunks covering `tokens` prompt rows from position `from` (none without a prefill segment). */
export function prefillRuns(p: Program, from: number, tokens: number): SegmentRunSpec[] {
  const [prefill] = segmentsOf(p, "prefill");
  if (!prefill || tokens <= 0) return [];
  const chunk = prefillChunk(p);
  const runs: SegmentRunSpec[] = [];
  for (let pos = from; pos < from + tokens; pos += chunk) {
    const n = Math.min(chunk, from + tokens - pos);
    runs.push({ segment: prefill, variables: runVariables(p, pos, n), tokens: n });
  }
  return runs;
}

/** `tokens` decode runs, the last one at position context − 1 (none without a decode segment). */
export function decodeRuns(p: Program, context: number, tokens: number): SegmentRunSpec[] {
  const [decode] = segmentsOf(p, "decode");
  if (!decode) return [];
  const first = Math.max(0, context - tokens);
  return Array.from({ length: tokens }, (_, i) => ({
    segment: decode,
    variables: runVariables(p, first + i, 1),
    tokens: 1,
  }));
}

/** The default runs: load, the prefill chunks of `prompt` tokens, decode tokens ending at `context`. */
export function defaultRuns(p: Program, o: TimingOptions, context: number): SegmentRunSpec[] {
  return [...loadRuns(p), ...prefillRuns(p, 0, o.prompt ?? 0), ...decodeRuns(p, context, o.tokens ?? 1)];
}

function phase(outs: readonly RunOutput[], kind: SegmentKind): PhaseSummary | undefined {
  const runs = outs.filter((o) => o.timing.kind === kind).map((o) => o.timing);
  if (runs.length === 0) return undefined;
  const cycles = runs.reduce((a, r) => a + r.cycles, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const tokens = runs.reduce((a, r) => a + r.tokens, 0);
  return { runs: runs.length, tokens, cycles, seconds, tokensPerSecond: seconds > 0 ? tokens / seconds : 0 };
}

/** Decode at each context of `contexts` (≤ maxContext), from the constant cache after load. */
export function contextSweep(
  s: TimingSession,
  contexts: readonly number[],
  maxContext: number,
): ContextPoint[] {
  const [decode] = segmentsOf(s.program, "decode");
  if (!decode) return [];
  const base = s.consts;
  const out: ContextPoint[] = [];
  for (const c of [...new Set(contexts)].filter((x) => x >= 1 && x <= maxContext).sort((a, b) => a - b)) {
    s.consts = base.clone();
    const t = s.run(s.decodeSpec(decode, c - 1)).timing;
    const kvBytes = Object.values(t.ports).reduce((a, p) => a + (p.byKind.kv ?? 0), 0);
    out.push({
      context: c,
      cycles: t.cycles,
      tokensPerSecond: t.tokensPerSecond,
      bytes: t.roofline.bytes,
      kvBytes,
      rooflineRatio: t.roofline.ratio,
    });
  }
  s.consts = base;
  return out;
}

/** Times the program's runs on the target (see TimingOptions for the defaults). */
export function runTiming(program: Program, target: Target, o: TimingOptions = {}): TimingOutput {
  const s = new TimingSession(program, target);
  const maxContext = o.maxContext ?? target.file.numeric.kv_cache.ring_capacity_tokens;
  const context = Math.min(o.context ?? DEFAULT_CONTEXT, maxContext);
  if (!(Number.isInteger(context) && context >= 1)) {
    throw usageError("timing/context", `context ${o.context} is not a positive integer`, {
      fix: "give --context N with N ≥ 1",
    });
  }
  const specs = o.runs ?? defaultRuns(program, o, context);
  const outs: RunOutput[] = [];
  let afterLoad: ConstCache | undefined;
  for (const spec of specs) {
    const kind = s.kindOf(spec.segment);
    if (kind !== "load" && !afterLoad) afterLoad = s.consts.clone();
    outs.push(s.run(spec, o.timeline ?? false));
  }
  let sweep: ContextPoint[] | undefined;
  if (o.sweep?.length) {
    const now = s.consts;
    s.consts = afterLoad ?? now.clone();
    sweep = contextSweep(s, o.sweep, maxContext);
    s.consts = now;
  }
  const load = phase(outs, "load");
  const prefill = phase(outs, "prefill");
  const decode = phase(outs, "decode");
  const result: TimingResult = {
    model: program.model,
    target: target.fingerprint,
    clockMhz: s.m.clockMhz,
    runs: outs.map((r) => r.timing),
    ...(load ? { load } : {}),
    ...(prefill ? { prefill } : {}),
    ...(decode ? { decode } : {}),
    ...(sweep ? { sweep } : {}),
  };
  return { result, runs: outs };
}
