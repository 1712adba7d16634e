/**
 * Performance and size budgets for `pccxc batch --budget <file>`: per model (or glob) gates on the
 * estimated decode/prefill tok/s, the regression against a stored baseline, the L2 peak and the DDR
 * bytes. A breached budget fails that model with the reason. Also the baseline file
 * (`--baseline`, `--write-baseline`). Formats: docs/user-guide.md "Budgets".
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { invalidInput, ioError } from "../diag/index.js";
import { globToRegExp } from "../layout/index.js";

export const BUDGET_FORMAT = "pccxc-budget/1";
export const BASELINE_FORMAT = "pccxc-baseline/1";

const Limits = z
  .object({
    /** Estimated decode tokens per second must be at least this. */
    minDecodeTokS: z.number().positive().optional(),
    minPrefillTokS: z.number().positive().optional(),
    /** Decode (and prefill) tok/s may drop at most this many percent below the baseline. */
    maxRegressionPct: z.number().min(0).optional(),
    /** Peak L2 words the program allocates. */
    maxL2PeakWords: z.number().int().positive().optional(),
    /** DDR bytes the model needs (weights, KV cache, buffers). */
    maxDdrBytes: z.number().int().positive().optional(),
    /** Context the model is planned/compiled at for these gates. */
    context: z.number().int().positive().optional(),
  })
  .strict();
export type Limits = z.infer<typeof Limits>;

export const BudgetFileSchema = z
  .object({
    $schema: z.string().optional(),
    format: z.literal(BUDGET_FORMAT).optional(),
    /** Applied to every model, before the matching entries. */
    defaults: Limits.optional(),
    /** Model label, input spec or glob (`*`, `?`) → limits; every matching entry applies in file order. */
    models: z.record(z.string(), Limits).default({}),
  })
  .strict();
export type BudgetFile = z.infer<typeof BudgetFileSchema>;

/** Measured figures of one model (what budgets and baselines compare). */
export interface Figures {
  readonly decodeTokS?: number;
  readonly prefillTokS?: number;
  readonly l2PeakWords?: number;
  readonly ddrBytes?: number;
}

const FiguresSchema = z
  .object({
    decodeTokS: z.number().optional(),
    prefillTokS: z.number().optional(),
    l2PeakWords: z.number().optional(),
    ddrBytes: z.number().optional(),
  })
  .strict();

export const BaselineFileSchema = z
  .object({
    format: z.literal(BASELINE_FORMAT),
    /** Target fingerprint the figures were measured on. */
    target: z.string(),
    models: z.record(z.string(), FiguresSchema),
  })
  .strict();
export type BaselineFile = z.infer<typeof BaselineFileSchema>;

export interface BudgetCheck {
  readonly gate: string;
  readonly limit: number;
  readonly actual: number | null;
  readonly ok: boolean;
  readonly text: string;
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw ioError("batch/unreadable", `cannot read the ${what} file ${file}: ${(e as Error).message}`, {
      at: { file },
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalidInput("batch/bad-json", `the ${what} file ${file} is not JSON: ${(e as Error).message}`, {
      at: { file },
    });
  }
}

function schemaError(file: string, what: string, issue: z.core.$ZodIssue | undefined): never {
  const path = issue
    ? `$${issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`
    : "$";
  throw invalidInput("batch/bad-" + what, `${file}: ${issue?.message ?? "invalid"} at ${path}`, {
    at: { file, jsonPath: path },
    fix: `see docs/user-guide.md for the ${what} file format`,
  });
}

export async function readBudgetFile(file: string): Promise<BudgetFile> {
  const r = BudgetFileSchema.safeParse(await readJson(file, "budget"));
  if (!r.success) schemaError(file, "budget", r.error.issues[0]);
  return r.data;
}

export async function readBaselineFile(file: string): Promise<BaselineFile> {
  const r = BaselineFileSchema.safeParse(await readJson(file, "baseline"));
  if (!r.success) schemaError(file, "baseline", r.error.issues[0]);
  return r.data;
}

/** The limits that apply to a model: defaults, then every entry whose key matches a name, in order. */
export function limitsFor(b: BudgetFile | undefined, names: readonly string[]): Limits {
  if (!b) return {};
  let out: Limits = { ...b.defaults };
  for (const [key, limits] of Object.entries(b.models)) {
    const re = globToRegExp(key);
    if (names.some((n) => re.test(n))) out = { ...out, ...limits };
  }
  return out;
}

const pct = (x: number) => `${x.toFixed(1)} %`;
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** Evaluates every gate the limits set; a missing figure fails its gate (it could not be checked). */
export function checkBudget(limits: Limits, f: Figures, base: Figures | undefined): BudgetCheck[] {
  const out: BudgetCheck[] = [];
  const min = (gate: string, limit: number | undefined, actual: number | undefined, what: string) => {
    if (limit === undefined) return;
    const ok = actual !== undefined && actual >= limit;
    const text =
      actual === undefined
        ? `${what} not measured (gate ≥ ${num(limit)})`
        : `${what} ${num(actual)} ${ok ? "≥" : "<"} ${num(limit)}`;
    out.push({ gate, limit, actual: actual ?? null, ok, text });
  };
  const max = (gate: string, limit: number | undefined, actual: number | undefined, what: string) => {
    if (limit === undefined) return;
    const ok = actual !== undefined && actual <= limit;
    const text =
      actual === undefined
        ? `${what} not measured (gate ≤ ${num(limit)})`
        : `${what} ${num(actual)} ${ok ? "≤" : ">"} ${num(limit)}`;
    out.push({ gate, limit, actual: actual ?? null, ok, text });
  };
  min("minDecodeTokS", limits.minDecodeTokS, f.decodeTokS, "decode tok/s");
  min("minPrefillTokS", limits.minPrefillTokS, f.prefillTokS, "prefill tok/s");
  max("maxL2PeakWords", limits.maxL2PeakWords, f.l2PeakWords, "L2 peak words");
  max("maxDdrBytes", limits.maxDdrBytes, f.ddrBytes, "DDR bytes");
  if (limits.maxRegressionPct !== undefined && base) {
    for (const [key, label] of [
      ["decodeTokS", "decode"],
      ["prefillTokS", "prefill"],
    ] as const) {
      const b = base[key];
      const a = f[key];
      if (b === undefined || b <= 0) continue;
      const drop = a === undefined ? 100 : ((b - a) / b) * 100;
      const ok = drop <= limits.maxRegressionPct;
      out.push({
        gate: "maxRegressionPct",
        limit: limits.maxRegressionPct,
        actual: drop,
        ok,
        text: `${label} tok/s ${a === undefined ? "not measured" : num(a)} vs baseline ${num(b)}: ${drop > 0 ? "−" : "+"}${pct(Math.abs(drop))} (limit −${pct(limits.maxRegressionPct)})`,
      });
    }
  }
  return out;
}

/** The budget file's JSON Schema (for editors and `pccxc schema budget`). */
export function budgetJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(BudgetFileSchema, { io: "input" }) as Record<string, unknown>;
}
