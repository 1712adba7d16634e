/**
 * The driver loop in the simulator (docs/program.md §2): run `load` once, feed the prompt (prefill
 * chunks, or token by token through `decode` when the program has no prefill segment), then decode
 * greedily, setting the per-token variables before every run and reading the logits region after
 * it. Returns the shape `goldenGenerate` returns, so the two compare directly.
 */
import type { Program, Variable } from "../../codegen/program.js";
import { usageError } from "../../diag/index.js";
import type { Target } from "../../target/index.js";
import { FunctionalMachine } from "./machine.js";
import type { Fault, NumericMode, SimOptions, SimStats, WeightImage } from "./types.js";

/** Attention geometry of one layer's variables (docs/program.md §2). */
export interface KvGeometry {
  /** Sliding window: kv_len = min(pos + 1, window); absent = full attention (pos + 1). */
  readonly window?: number;
  /** Ring capacity in slots: kv_slot = pos below it, then sink + (pos − sink) mod (slots − sink). */
  readonly slots?: number;
  readonly sink?: number;
}

export interface GenerationOptions extends SimOptions {
  /** The logits region (default: the program's region of kind "logits") and how many to read. */
  readonly logits?: { readonly region?: string; readonly vocab?: number; readonly dtype?: "bf16" | "f32" };
  /** Per-layer geometry, overriding what the program's variables carry. */
  readonly layers?: Readonly<Record<number, KvGeometry>>;
  /** "auto" (default): chunked prefill when the program has a prefill segment, else token by token. */
  readonly prefill?: "auto" | "chunked" | "decode";
  /**
   * Teacher forcing: decode these tokens (e.g. the golden run's) instead of the simulator's own
   * choices, so every step's logits are compared in the same context; `tokens` still records the
   * simulator's argmax.
   */
  readonly forceTokens?: readonly number[];
}

export interface SimulatedRun {
  /** Logits read after each prefill run (the last prompt token's). */
  readonly prefill: readonly Float64Array[];
  /** steps[i]: the logits tokens[i] was chosen from (steps[0] follows the last prompt token). */
  readonly steps: readonly Float64Array[];
  readonly tokens: readonly number[];
  readonly faults: readonly Fault[];
  readonly stats: SimStats;
}

type VarSpec = Variable & KvGeometry;

const LAYER_VAR = /^(kv_len|kv_slot)\[(\d+)\]$/;
const TOKEN_VAR = /^token\[(\d+)\]$/;

/** The variables the driver sets for a run covering tokens at positions pos .. pos + n − 1. */
export function driverVariables(
  vars: readonly Variable[],
  pos: number,
  tokens: readonly number[],
  layers: Readonly<Record<number, KvGeometry>> = {},
): Record<string, number> {
  const last = pos + tokens.length - 1;
  // The driver always knows the position (host functions such as kv_write read it).
  const out: Record<string, number> = { pos };
  for (const v of vars as readonly VarSpec[]) {
    if (v.setBy !== "driver") continue;
    const layer = LAYER_VAR.exec(v.name);
    const tok = TOKEN_VAR.exec(v.name);
    if (v.name === "pos") out[v.name] = pos;
    else if (v.name === "token") out[v.name] = tokens[0]!;
    else if (v.name === "chunk_len") out[v.name] = tokens.length;
    else if (tok) out[v.name] = tokens[Number(tok[1])] ?? 0;
    else if (layer) {
      const g = { ...v, ...layers[Number(layer[2])] };
      out[v.name] =
        layer[1] === "kv_len" ? Math.min(last + 1, g.window ?? Number.POSITIVE_INFINITY) : ringSlot(pos, g);
    } else {
      throw usageError(
        "sim/unknown-variable",
        `the simulator's driver does not know how to set variable "${v.name}"`,
        {
          fix: "use the variables of docs/program.md §2, or extend driverVariables",
        },
      );
    }
  }
  return out;
}

export function ringSlot(pos: number, g: KvGeometry): number {
  const slots = g.slots ?? g.window;
  if (slots === undefined || pos < slots) return pos;
  const sink = g.sink ?? 0;
  return sink + ((pos - sink) % (slots - sink));
}

/** Prefill the prompt, then choose `newTokens` tokens greedily (argmax, lowest id on ties). */
export function simulateGeneration(
  program: Program,
  image: WeightImage,
  target: Target,
  prompt: readonly number[],
  newTokens: number,
  mode: NumericMode,
  options: GenerationOptions = {},
): SimulatedRun {
  if (prompt.length === 0) throw usageError("sim/empty-prompt", "the prompt needs at least one token");
  const m = new FunctionalMachine(program, image, target, { ...options, mode });
  const has = (kind: string) => program.segments.find((s) => s.kind === kind);
  const logitsRegion = options.logits?.region ?? program.ddr.find((r) => r.kind === "logits")?.name;
  if (!logitsRegion) throw usageError("sim/no-logits", "the program has no DDR region of kind logits");
  const read = () =>
    Float64Array.from(
      m.read({
        region: logitsRegion,
        ...(options.logits?.vocab !== undefined ? { elements: options.logits.vocab } : {}),
        ...(options.logits?.dtype ? { dtype: options.logits.dtype } : {}),
      }),
    );
  const runOn = (segment: string, pos: number, toks: readonly number[]) =>
    m.runSegment(segment, driverVariables(program.variables, pos, toks, options.layers));

  for (const s of program.segments.filter((x) => x.kind === "load")) m.runSegment(s.name, {});
  const prefillSeg = has("prefill");
  const decodeSeg = has("decode");
  if (!decodeSeg) throw usageError("sim/no-decode", "the program has no decode segment");
  const chunked = options.prefill === "chunked" || (options.prefill !== "decode" && prefillSeg !== undefined);
  const prefill: Float64Array[] = [];
  for (const r of promptRuns(prompt.length, chunked ? prefillSeg : undefined, chunkSize(program))) {
    if (m.log.full) break;
    runOn(r.prefill ? prefillSeg!.name : decodeSeg.name, r.pos, prompt.slice(r.pos, r.pos + r.tokens));
    prefill.push(read());
  }
  const steps: Float64Array[] = [];
  const tokens: number[] = [];
  let logits = prefill[prefill.length - 1]!;
  for (let i = 0; i < newTokens && !m.log.full; i++) {
    steps.push(logits);
    const tok = argmax(logits);
    tokens.push(tok);
    if (i + 1 < newTokens) {
      runOn(decodeSeg.name, prompt.length + i, [options.forceTokens?.[i] ?? tok]);
      logits = read();
    }
  }
  const r = m.result();
  return { prefill, steps, tokens, faults: r.faults, stats: r.stats };
}

/** One run of the prompt: `tokens` prompt tokens from `pos`, through prefill or decode. */
export interface PromptRun {
  readonly pos: number;
  readonly tokens: number;
  readonly prefill: boolean;
}

/**
 * How the driver feeds a prompt of `n` tokens (docs/program.md §2): whole chunks through the
 * prefill segment while the chunk's `pos` ≤ its `maxPos`; the tail shorter than a chunk, and
 * everything past `maxPos`, token by token through decode. A partial chunk cannot go through
 * prefill: the segment always computes all its rows (the unused rows would write KV slots past the
 * prompt) and leaves the logits of its last row, not of the last prompt token.
 */
export function promptRuns(
  n: number,
  prefillSeg: { readonly maxPos?: number } | undefined,
  chunk: number,
): PromptRun[] {
  const runs: PromptRun[] = [];
  let pos = 0;
  if (prefillSeg)
    while (pos + chunk <= n && pos <= (prefillSeg.maxPos ?? Number.POSITIVE_INFINITY)) {
      runs.push({ pos, tokens: chunk, prefill: true });
      pos += chunk;
    }
  for (; pos < n; pos++) runs.push({ pos, tokens: 1, prefill: false });
  return runs;
}

/** Tokens per prefill run: the number of token[i] variables the program declares (1 when none). */
function chunkSize(p: Program): number {
  return Math.max(1, p.variables.filter((v) => TOKEN_VAR.test(v.name)).length);
}

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}
