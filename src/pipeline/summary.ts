/**
 * The compile summary: a few lines on stderr for people (architecture, ledger counts, the memory
 * split one-liner, estimated tok/s, validation verdict) and the same facts as JSON for `--json`.
 */
import type { LedgerSummary } from "../features/index.js";
import { countParams } from "../resolver/index.js";
import type { Figures } from "./budget.js";
import type { PipelineState, RunContext } from "./state.js";
import type { SettingNote, StageName } from "./types.js";

export interface ArchitectureSummary {
  readonly modelType: string;
  readonly plugin: string;
  readonly layers: number;
  readonly hidden: number;
  readonly vocab: number;
  readonly params: number;
}

export interface MemorySummary {
  /** "On-chip 1.2 MiB, streamed from DDR 2.43 GiB/token, off-DDR 1.9 GiB" (after codegen). */
  readonly split: string | null;
  readonly fits: boolean;
  readonly fit: string;
  readonly ddrBytes: number;
  readonly ddrCapacity: number;
  /** True when the figures are the config-only estimate (before codegen tiled the streams). */
  readonly estimate: boolean;
}

export interface PerformanceSummary {
  readonly context: number;
  readonly decodeTokensPerSecond: number;
  readonly prefillTokensPerSecond: number | null;
}

export interface ValidationSummary {
  /** passed / failed: functional tokens vs golden; skipped: above the size threshold or --validate off. */
  readonly verdict: "passed" | "failed" | "skipped" | "not run";
  readonly detail: string;
}

/** The measured figures budgets and baselines compare (rates at the compiled context). */
export function figuresOf(s: PipelineState): Figures {
  const fit = s.weightPlan?.fit ?? s.layout?.estimate;
  const perf =
    s.validation?.performance ??
    s.validation?.sweep?.find((p) => p.context === s.context) ??
    s.validation?.sweep?.[s.validation.sweep.length - 1];
  return {
    ...(perf ? { decodeTokS: perf.decodeTokensPerSecond } : {}),
    ...(perf?.prefillTokensPerSecond != null ? { prefillTokS: perf.prefillTokensPerSecond } : {}),
    ...(s.codegen?.l2PeakWords !== undefined ? { l2PeakWords: s.codegen.l2PeakWords } : {}),
    ...(fit ? { ddrBytes: fit.ddrBytes } : {}),
  };
}

export interface CompileSummary {
  readonly model: string;
  readonly target: string;
  readonly architecture: ArchitectureSummary | null;
  readonly ledger: LedgerSummary | null;
  readonly memory: MemorySummary | null;
  readonly program: Readonly<Record<string, number>> | null;
  readonly performance: PerformanceSummary | null;
  readonly validation: ValidationSummary;
  readonly figures: Figures;
  readonly settings: readonly SettingNote[];
  readonly stages: readonly StageName[];
  readonly stoppedAfter: StageName | null;
  readonly warnings: number;
}

export function architectureOf(s: PipelineState): ArchitectureSummary | null {
  const r = s.resolved;
  if (!r) return null;
  const m = r.graph.meta;
  return {
    modelType: m.modelType,
    plugin: r.plugin,
    layers: m.numLayers,
    hidden: m.hiddenSize,
    vocab: m.vocabSize,
    params: countParams(r.graph).total,
  };
}

export function memoryOf(s: PipelineState): MemorySummary | null {
  const wp = s.weightPlan;
  const fit = wp?.fit ?? s.layout?.estimate;
  if (!fit) return null;
  return {
    split: wp?.summary ?? null,
    fits: fit.ok,
    fit: fit.text,
    ddrBytes: fit.ddrBytes,
    ddrCapacity: fit.ddrCapacity,
    estimate: fit.estimate,
  };
}

export function summarize(s: PipelineState, ctx: RunContext, ran: readonly StageName[]): CompileSummary {
  const last = ran[ran.length - 1] ?? null;
  return {
    model: s.label ?? ctx.spec,
    target: ctx.target.fingerprint,
    architecture: architectureOf(s),
    ledger: s.features?.ledger.summary ?? null,
    memory: memoryOf(s),
    program: s.codegen?.counts ?? null,
    performance: s.validation?.performance ?? null,
    figures: figuresOf(s),
    validation: s.validation?.functional ?? {
      verdict: "not run",
      detail: `stopped after ${last ?? "nothing"}`,
    },
    settings: ctx.notes.all,
    stages: ran,
    stoppedAfter: last === "validate" ? null : last,
    warnings: ctx.diagnostics.filter((d) => d.severity === "warning").length,
  };
}

const fmtParams = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} B`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} M`
      : `${(n / 1e3).toFixed(1)} K`;

export const fmtRate = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The human summary printed on stderr. */
export function renderSummary(c: CompileSummary, out?: string): string {
  const lines: string[] = [];
  const a = c.architecture;
  lines.push(
    `${c.model}${a ? `: ${a.modelType} (${a.plugin}), ${a.layers} layers, hidden ${a.hidden}, vocab ${a.vocab}, ${fmtParams(a.params)} params` : ""}${out ? ` → ${out}` : ""}`,
  );
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(11)}${v}`);
  row("target", c.target);
  if (c.ledger) {
    const l = c.ledger;
    row(
      "features",
      `${l.lowered} lowered, ${l.approximated} approximated, ${l.host} host, ${l.rejected} rejected, ${l.ignored} ignored`,
    );
  }
  if (c.memory) {
    if (c.memory.split) row("memory", c.memory.split);
    row("fit", `${c.memory.fit}${c.memory.estimate ? " (config-only estimate)" : ""}`);
  }
  if (c.program) {
    row(
      "program",
      Object.entries(c.program)
        .map(([k, v]) => `${v} ${k}`)
        .join(", "),
    );
  }
  if (c.performance) {
    const p = c.performance;
    row(
      "estimate",
      `decode ${fmtRate(p.decodeTokensPerSecond)} tok/s${p.prefillTokensPerSecond !== null ? `, prefill ${fmtRate(p.prefillTokensPerSecond)} tok/s` : ""} at context ${p.context}`,
    );
  }
  row("validation", `${c.validation.verdict}: ${c.validation.detail}`);
  if (c.stoppedAfter) row("stopped", `after ${c.stoppedAfter} (--stop-after); dumps in dump/`);
  if (c.warnings > 0) row("warnings", String(c.warnings));
  return `${lines.join("\n")}\n`;
}
