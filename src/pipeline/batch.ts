/**
 * batch(): many models through plan() (config only, the default) or compile() (`--compile -o dir`),
 * one target, continuing past failures. Each model passes or fails with a reason: a stage error
 * (its code and exit code), not fitting the DDR (`layout/ddr-overflow`), a rejected feature
 * (`features/rejected`) or a breached budget (`batch/budget`). The batch's exit code is the largest
 * exit code among the failed models (0 when all pass; a breached budget counts as 3).
 */
import { join, resolve as resolvePath } from "node:path";
import { ExitCode, isPccxError, PccxError, unsupported } from "../diag/index.js";
import { type Logger, silentLogger } from "../diag/log.js";
import { throwIfNotFit } from "../layout/index.js";
import { inputName, outputDirName } from "./batch-inputs.js";
import {
  BASELINE_FORMAT,
  type BaselineFile,
  type BudgetCheck,
  type BudgetFile,
  checkBudget,
  type Figures,
  limitsFor,
} from "./budget.js";
import { compile } from "./compile.js";
import { type PlanTarget, plan } from "./plan.js";
import { DEFAULT_TARGET } from "./settings.js";
import type { CompileChoices, ModelOptions, ValidateMode } from "./types.js";

export type BatchMode = "plan" | "compile";

export interface BatchOptions extends ModelOptions, CompileChoices {
  readonly mode?: BatchMode;
  /** compile: the parent directory; each model goes to <out>/<name>. */
  readonly out?: string;
  readonly force?: boolean;
  readonly validate?: ValidateMode;
  readonly tokens?: number;
  readonly threads?: number;
  readonly budget?: BudgetFile;
  readonly baseline?: BaselineFile;
  /** Logger of the batch itself (one line per model); the models run silently. */
  readonly logger?: Logger;
}

export interface BatchModelResult {
  /** The model's short name: the folder name or the repo id. */
  readonly model: string;
  readonly input: string;
  readonly status: "passed" | "failed";
  /** 0 when passed, else the exit code of the failure. */
  readonly exitCode: number;
  readonly code?: string;
  readonly reason?: string;
  readonly details: readonly string[];
  /** plan: fits / does-not-fit / rejected / error; compile: the validation verdict. */
  readonly verdict: string;
  readonly figures: Figures;
  readonly budget: readonly BudgetCheck[];
  readonly durationMs: number;
  /** compile: the model's output directory. */
  readonly out?: string;
}

export interface BatchResult {
  readonly mode: BatchMode;
  /** Target fingerprint (or the name, when no model could load it). */
  readonly target: string;
  readonly models: readonly BatchModelResult[];
  readonly passed: number;
  readonly failed: number;
  readonly exitCode: number;
}

interface Outcome {
  readonly verdict: string;
  readonly figures: Figures;
  readonly target?: string;
  readonly out?: string;
  /** Why the model failed (a PccxError, or anything else: an internal error). */
  readonly error?: unknown;
}

interface Failure {
  readonly exitCode: number;
  readonly code: string;
  readonly reason: string;
  readonly details: string[];
}

function failure(e: unknown): Failure {
  if (isPccxError(e)) {
    return {
      exitCode: e.exitCode,
      code: e.code,
      reason: e.message,
      details: [...e.notes, ...(e.fix ? [`fix: ${e.fix}`] : [])],
    };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { exitCode: ExitCode.INTERNAL, code: "internal", reason: `internal error: ${msg}`, details: [] };
}

/** The error compile would raise for a plan verdict other than "fits" (undefined when it fits). */
function planError(t: PlanTarget): unknown {
  try {
    if (t.verdict === "rejected") {
      const x = t.rejected[0]!;
      throw unsupported("features/rejected", `${x.feature}${x.key ? ` (${x.key})` : ""}: ${x.reason}`, {
        fix: x.fix,
      });
    }
    if (t.verdict === "does-not-fit" && t.layout) throwIfNotFit(t.layout.fit);
    if (t.error) {
      const f = t.error.fix ? { fix: t.error.fix } : {};
      throw new PccxError(t.error.code, t.error.exitCode as ExitCode, t.error.message, f);
    }
  } catch (e) {
    return e;
  }
  return undefined;
}

async function runOne(
  input: string,
  name: string,
  opts: BatchOptions,
  context: number | undefined,
): Promise<Outcome> {
  const { logger: _batchLogger, ...rest } = opts;
  const choices: CompileChoices = { ...rest, ...(context !== undefined ? { context } : {}) };
  try {
    if ((opts.mode ?? "plan") === "plan") {
      const r = await plan(input, {
        ...rest,
        ...choices,
        targets: [opts.target ?? DEFAULT_TARGET],
        contexts: [],
        stopIfNoFit: true,
      });
      const t = r.targets[0]!;
      const error = planError(t);
      return {
        verdict: t.verdict,
        figures: t.figures,
        target: t.target.fingerprint,
        ...(error ? { error } : {}),
      };
    }
    const out = join(resolvePath(opts.cwd ?? process.cwd(), opts.out!), outputDirName(name));
    const r = await compile(input, { ...rest, ...choices, out });
    return {
      verdict: r.summary.validation.verdict,
      figures: r.summary.figures,
      target: r.summary.target,
      out,
    };
  } catch (e) {
    return { verdict: "error", figures: {}, error: e };
  }
}

function modelResult(
  input: string,
  name: string,
  o: Outcome,
  budget: readonly BudgetCheck[],
  ms: number,
): BatchModelResult {
  const breached = budget.filter((b) => !b.ok);
  const f: Failure | undefined =
    o.error !== undefined
      ? failure(o.error)
      : breached.length
        ? {
            exitCode: ExitCode.UNSUPPORTED,
            code: "batch/budget",
            reason: `budget breached: ${breached.map((b) => b.text).join("; ")}`,
            details: [],
          }
        : undefined;
  return {
    model: name,
    input,
    status: f ? "failed" : "passed",
    exitCode: f?.exitCode ?? 0,
    ...(f ? { code: f.code, reason: f.reason } : {}),
    details: f?.details ?? [],
    verdict: o.verdict,
    figures: o.figures,
    budget,
    durationMs: ms,
    ...(o.out ? { out: o.out } : {}),
  };
}

export async function batch(inputs: readonly string[], opts: BatchOptions = {}): Promise<BatchResult> {
  const log = opts.logger ?? silentLogger;
  const cwd = opts.cwd ?? process.cwd();
  const mode = opts.mode ?? "plan";
  const models: BatchModelResult[] = [];
  let target = opts.target ?? DEFAULT_TARGET;
  const bar = log.progress(`batch ${mode}`, inputs.length);
  for (const input of inputs) {
    const name = inputName(input, cwd);
    const limits = limitsFor(opts.budget, [name, input]);
    const t0 = performance.now();
    const o = await runOne(input, name, { ...opts, mode, cwd }, limits.context);
    if (o.target) target = o.target;
    // Budgets gate only models that otherwise passed.
    const budget = o.error === undefined ? checkBudget(limits, o.figures, opts.baseline?.models[name]) : [];
    const m = modelResult(input, name, o, budget, performance.now() - t0);
    models.push(m);
    bar.tick();
    log.info(
      `${m.status === "passed" ? "ok  " : "FAIL"} ${name}${m.reason ? `: [${m.code}] ${m.reason.split("\n")[0]}` : ""}`,
    );
  }
  bar.done();
  const failed = models.filter((m) => m.status === "failed");
  return {
    mode,
    target,
    models,
    passed: models.length - failed.length,
    failed: failed.length,
    exitCode: failed.reduce((x, m) => Math.max(x, m.exitCode), 0),
  };
}

/** The baseline file of a batch: the figures of every model that produced them. */
export function baselineOf(r: BatchResult): BaselineFile {
  const models: Record<string, Figures> = {};
  for (const m of [...r.models].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0))) {
    if (Object.keys(m.figures).length > 0) models[m.model] = m.figures;
  }
  return { format: BASELINE_FORMAT, target: r.target, models };
}
