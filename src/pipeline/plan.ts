/**
 * plan(): the compile from the config alone, no weights. Consumes a config.json / model directory /
 * repo id and one or more targets; produces, per target, the ledger, the memory plan and its fit
 * verdict, program statistics and estimated prefill and decode rates at several context lengths.
 * Not fitting is a verdict (data), not an error.
 */
import type { Diagnostic } from "../diag/index.js";
import { isPccxError } from "../diag/index.js";
import { silentLogger } from "../diag/log.js";
import type { FeatureLedger, LedgerSummary } from "../features/index.js";
import type { FitVerdict, TensorPolicy } from "../layout/index.js";
import { loadTarget } from "../target/index.js";
import type { Figures } from "./budget.js";
import { makeRunContext, runStages } from "./run.js";
import { DEFAULT_TARGET, NoteLog } from "./settings.js";
import type { PerfPoint } from "./stages/validate.js";
import type { PipelineState, RunContext } from "./state.js";
import {
  type ArchitectureSummary,
  architectureOf,
  figuresOf,
  type MemorySummary,
  memoryOf,
} from "./summary.js";
import type { PlanOptions, SettingNote } from "./types.js";

export const DEFAULT_CONTEXTS: readonly number[] = [1024, 4096, 8192];

export type PlanVerdict = "fits" | "does-not-fit" | "rejected" | "error";

export interface RejectedFeature {
  readonly feature: string;
  readonly key: string;
  readonly reason: string;
  readonly fix: string;
}

export interface PlanError {
  readonly code: string;
  readonly message: string;
  readonly exitCode: number;
  readonly fix?: string;
}

export interface PlanTarget {
  readonly target: { readonly name: string; readonly fingerprint: string; readonly file: string };
  readonly verdict: PlanVerdict;
  readonly ledger: LedgerSummary | null;
  readonly features: readonly {
    readonly feature: string;
    readonly key: string;
    readonly verdict: string;
    readonly detail: string;
  }[];
  readonly rejected: readonly RejectedFeature[];
  readonly layout: {
    readonly context: number;
    readonly groupSize: number;
    readonly kvDtype: string;
    readonly kvBytes: number;
    readonly fit: FitVerdict;
    /** Tensors whose policy a `--layout-override` changed (in plan order). */
    readonly overridden: readonly OverriddenTensor[];
  } | null;
  readonly memory: MemorySummary | null;
  readonly program: Readonly<Record<string, number>> | null;
  /** Estimated rates per context length (null: the program was not generated or not timed). */
  readonly performance: readonly PerfPoint[] | null;
  /** The figures budgets compare, at the planned context. */
  readonly figures: Figures;
  readonly error?: PlanError;
  readonly warnings: readonly string[];
}

/** A tensor's layout after `--layout-override`, with the override and the policy it replaced. */
export interface OverriddenTensor {
  readonly tensor: string;
  readonly role: string;
  readonly format: string;
  readonly group: number;
  readonly placement: string;
  readonly reason: string;
}

/** The policies layout overrides set (the planner's reason starts with `override`). */
export function overriddenTensors(tensors: readonly TensorPolicy[]): OverriddenTensor[] {
  return tensors
    .filter((t) => t.reason.startsWith("override "))
    .map((t) => ({
      tensor: t.tensor,
      role: t.role,
      format: t.format,
      group: t.group,
      placement: t.placement,
      reason: t.reason,
    }));
}

export interface PlanResult {
  readonly model: string;
  readonly architecture: ArchitectureSummary | null;
  readonly contexts: readonly number[];
  readonly settings: readonly SettingNote[];
  readonly targets: readonly PlanTarget[];
}

function rejectedOf(l: FeatureLedger): RejectedFeature[] {
  return l.entries.flatMap((e) =>
    e.verdict.kind === "rejected"
      ? [{ feature: e.feature, key: e.key, reason: e.verdict.reason, fix: e.verdict.fix }]
      : [],
  );
}

function errorOf(e: unknown): PlanError {
  if (isPccxError(e))
    return { code: e.code, message: e.message, exitCode: e.exitCode, ...(e.fix ? { fix: e.fix } : {}) };
  throw e;
}

function verdictOf(
  s: PipelineState,
  rejected: readonly RejectedFeature[],
  error: PlanError | undefined,
): PlanVerdict {
  if (rejected.length > 0) return "rejected";
  const fit = s.weightPlan?.fit ?? s.layout?.estimate;
  if (fit && !fit.ok) return "does-not-fit";
  return error ? "error" : "fits";
}

function targetResult(s: PipelineState, ctx: RunContext, error: PlanError | undefined): PlanTarget {
  const ledger = s.features?.ledger;
  const rejected = ledger ? rejectedOf(ledger) : [];
  const fit = s.weightPlan?.fit ?? s.layout?.estimate;
  const warn = (d: Diagnostic) => d.severity === "warning";
  return {
    target: { name: ctx.target.file.name, fingerprint: ctx.target.fingerprint, file: ctx.target.label },
    verdict: verdictOf(s, rejected, error),
    ledger: ledger?.summary ?? null,
    features: (ledger?.entries ?? []).map((e) => ({
      feature: e.feature,
      key: e.key,
      verdict: e.verdict.kind,
      detail: e.detail,
    })),
    rejected,
    layout:
      s.layout && fit
        ? {
            context: s.layout.context,
            groupSize: s.layout.options.groupSize,
            kvDtype: s.layout.options.kvDtype,
            kvBytes: s.weightPlan?.usage.kvBytes ?? s.layout.kv.totalBytes,
            fit,
            overridden: overriddenTensors(s.layout.tensors),
          }
        : null,
    memory: memoryOf(s),
    program: s.codegen?.counts ?? null,
    performance: s.validation?.sweep ?? null,
    figures: figuresOf(s),
    ...(error ? { error } : {}),
    warnings: ctx.diagnostics.filter(warn).map((d) => `[${d.code}] ${d.message}`),
  };
}

/** Plans one model for each target; parse and resolve run once (they do not depend on the target). */
export async function plan(spec: string, opts: PlanOptions = {}): Promise<PlanResult> {
  const logger = opts.logger ?? silentLogger;
  const cwd = opts.cwd ?? process.cwd();
  const notes = new NoteLog(logger);
  const names = opts.targets?.length ? opts.targets : [DEFAULT_TARGET];
  if (!opts.targets?.length)
    notes.note("target", DEFAULT_TARGET, "default: the built-in pccx v002 on the Kria KV260");
  // An empty list estimates at the planned context only (batch does that).
  const contexts = opts.contexts ? [...opts.contexts] : [...DEFAULT_CONTEXTS];
  if (!opts.contexts) notes.note("contexts", contexts.join(","), "default");
  const targets = names.map((n) => loadTarget(n, opts.targetOverrides ?? [], { cwd }));
  const base = {
    mode: "plan" as const,
    spec,
    model: { ...opts, cwd },
    choices: opts,
    logger,
    notes,
    contexts,
  };
  const first = await makeRunContext({ ...base, target: targets[0]! });
  const shared: PipelineState = {};
  try {
    await runStages(shared, first, { until: "resolve" });
  } finally {
    await shared.source?.close();
  }
  const results: PlanTarget[] = [];
  for (const target of targets) {
    const ctx = await makeRunContext({ ...base, target });
    const s: PipelineState = { ...shared };
    let error: PlanError | undefined;
    try {
      await runStages(s, ctx, { from: "features", until: "features" });
      if (s.features && rejectedOf(s.features.ledger).length === 0) {
        await runStages(s, ctx, { from: "layout", until: "layout" });
        if (!opts.stopIfNoFit || s.layout?.estimate?.ok !== false)
          await runStages(s, ctx, { from: "codegen" });
      }
    } catch (e) {
      error = errorOf(e);
      logger.debug(`plan on ${target.fingerprint}: ${error.code}: ${error.message}`);
    }
    results.push(targetResult(s, ctx, error));
  }
  return {
    model: shared.label ?? spec,
    architecture: architectureOf(shared),
    contexts: contexts.length
      ? contexts
      : [...new Set(results.flatMap((t) => (t.performance ?? []).map((p) => p.context)))].sort(
          (a, b) => a - b,
        ),
    settings: notes.all,
    targets: results,
  };
}
