/**
 * Values the pipeline chooses for the user: each default or inferred value is computed here from
 * the config and the target (never a hardware fact in code) and logged exactly once, with why
 * ("context: 8192 (default: min(max_position_embeddings 131072, target ring capacity 8192))").
 */
import { usageError } from "../diag/index.js";
import type { Logger } from "../diag/log.js";
import type { LayoutPlan } from "../layout/index.js";
import type { ParsedConfig } from "../parser/index.js";
import type { Target } from "../target/index.js";
import type { CompileChoices, SettingNote } from "./types.js";

export const DEFAULT_TARGET = "kv260-v002";

/** Records the chosen values; logs each name the first time it is noted. */
export class NoteLog {
  private readonly seen = new Map<string, SettingNote>();

  constructor(private readonly logger: Logger) {}

  note(name: string, value: SettingNote["value"], why: string): void {
    if (this.seen.has(name)) return;
    const n = { name, value, why };
    this.seen.set(name, n);
    this.logger.info(`${name}: ${value} (${why})`);
  }

  get all(): readonly SettingNote[] {
    return [...this.seen.values()];
  }
}

/** The target name or file to load, noting the default. */
export function targetChoice(choices: CompileChoices, notes: NoteLog): string {
  if (choices.target !== undefined) return choices.target;
  notes.note("target", DEFAULT_TARGET, "default: the built-in pccx v002 on the Kria KV260");
  return DEFAULT_TARGET;
}

/** The KV context: the user's, else min(max_position_embeddings, the target's ring capacity). */
export function contextChoice(
  choices: CompileChoices,
  parsed: ParsedConfig,
  target: Target,
  notes: NoteLog,
): number {
  if (choices.context !== undefined) {
    if (!Number.isSafeInteger(choices.context) || choices.context < 1) {
      throw usageError(
        "pipeline/context",
        `--context ${choices.context} is not a positive number of tokens`,
        {
          fix: "give the number of tokens the KV cache holds, e.g. --context 4096",
        },
      );
    }
    return choices.context;
  }
  const maxPos = parsed.text.max_position_embeddings;
  const ring = target.file.numeric.kv_cache.ring_capacity_tokens;
  const value = Math.min(maxPos, ring);
  notes.note(
    "context",
    value,
    `default: min(max_position_embeddings ${maxPos}, ${target.file.name} numeric.kv_cache.ring_capacity_tokens ${ring})`,
  );
  return value;
}

/** Notes the layout's target-derived defaults (group size, KV dtype) the user did not set. */
export function noteLayoutDefaults(
  plan: LayoutPlan,
  choices: CompileChoices,
  target: Target,
  notes: NoteLog,
): void {
  if (choices.groupSize === undefined) {
    const w = target.file.numeric.weights;
    const g = plan.options.groupSize;
    notes.note(
      "group size",
      g === 0 ? "per-row" : g,
      `default: ${target.file.name} numeric.weights.scale_granularity ${w.scale_granularity}`,
    );
  }
  if (choices.kvDtype === undefined) {
    notes.note("kv dtype", plan.options.kvDtype, `default: ${target.file.name} numeric.kv_cache.default`);
  }
}

/** Parses `--contexts 1024,4096,8192`. */
export function parseContexts(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p) || Number(p) < 1) {
      throw usageError(
        "pipeline/contexts",
        `--contexts expects positive integers separated by commas, got "${text}"`,
        {
          fix: "e.g. --contexts 1024,4096,8192",
        },
      );
    }
    out.push(Number(p));
  }
  return [...new Set(out)].sort((a, b) => a - b);
}
