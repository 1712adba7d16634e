/**
 * Config errors: every one names the file and the JSON path (plus line/column when the text is
 * at hand), says what was expected and what was found, and carries a stable code and exit code.
 */
import type { z } from "zod";
import { invalidInput, type PccxError, unsupported } from "../../diag/index.js";
import { describeValue, formatPath, locatePath } from "./json-text.js";

export const CONFIG_ERROR_CODES = {
  invalidJson: "config/invalid-json",
  nonFinite: "config/non-finite-number",
  invalid: "config/invalid",
  unsupportedModelType: "config/unsupported-model-type",
  unsupportedValue: "config/unsupported-value",
  unsupportedQuantization: "config/unsupported-quantization",
} as const;

/** Where errors point: the file name and, when parsing text, the text for line/column. */
export interface ErrCtx {
  readonly file: string;
  readonly text?: string;
}

function at(ctx: ErrCtx, jsonPath: string) {
  const pos = ctx.text === undefined ? undefined : locatePath(ctx.text, jsonPath);
  return { file: ctx.file, jsonPath, ...(pos ? { line: pos.line, column: pos.column } : {}) };
}

/** `config.json at $.text_config.num_attention_heads: expected a positive integer, got "8"` */
export function invalidAt(ctx: ErrCtx, jsonPath: string, message: string, fix?: string): PccxError {
  return invalidInput(CONFIG_ERROR_CODES.invalid, `${ctx.file} at ${jsonPath}: ${message}`, {
    at: at(ctx, jsonPath),
    ...(fix ? { fix } : {}),
  });
}

export function unsupportedAt(ctx: ErrCtx, jsonPath: string, message: string, fix?: string): PccxError {
  return unsupported(CONFIG_ERROR_CODES.unsupportedValue, `${ctx.file} at ${jsonPath}: ${message}`, {
    at: at(ctx, jsonPath),
    ...(fix ? { fix } : {}),
  });
}

/** Reads the value at a zod issue path inside `root` (own properties only). */
export function valueAtPath(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    const key = typeof seg === "number" ? seg : String(seg);
    if (!Object.hasOwn(v as object, key)) return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

/** The first zod issue (in path order, for deterministic messages) as a config/invalid error. */
export function zodIssueError(
  ctx: ErrCtx,
  basePath: string,
  root: unknown,
  issues: readonly z.core.$ZodIssue[],
) {
  const sorted = [...issues].sort((a, b) => pathKey(a.path).localeCompare(pathKey(b.path)));
  const first = sorted[0];
  if (!first) return invalidAt(ctx, basePath, "invalid value");
  const segs = first.path.map((p) => (typeof p === "number" ? p : String(p)));
  const jsonPath = formatPath(segs, basePath);
  const got = valueAtPath(root, first.path);
  const more =
    sorted.length > 1 ? ` (and ${sorted.length - 1} more problem${sorted.length > 2 ? "s" : ""})` : "";
  const what =
    first.code === "unrecognized_keys" ? first.message : `${first.message}, got ${describeValue(got)}`;
  return invalidAt(ctx, jsonPath, `${what}${more}`);
}

function pathKey(p: readonly PropertyKey[]): string {
  return p.map((s) => (typeof s === "number" ? String(s).padStart(8, "0") : String(s))).join("\u0000");
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min((prev[j] as number) + 1, (prev[j - 1] as number) + 1, diag + cost);
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}
