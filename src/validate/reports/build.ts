/**
 * buildReport(inputs) → Report: gathers what the stages produced — graph meta, feature ledger,
 * layout summary, program, timing simulation, functional validation — into the report.json model.
 * Every input but the target is optional; a missing one becomes a `null` section ("not run"), so
 * `pccxc compile`, `pccxc plan` and `pccxc simulate` all call this with what they have.
 */
import type { Program } from "../../codegen/program.js";
import type { FeatureLedger, Verdict } from "../../features/types.js";
import type { ManifestQuant } from "../../layout/image/manifest.js";
import type { FitVerdict, WeightPlan } from "../../layout/types.js";
import type { GraphMeta } from "../../resolver/graph/index.js";
import type { Target } from "../../target/index.js";
import { VERSION } from "../../version.js";
import type { GoldenComparison } from "../sim/compare.js";
import type { Fault } from "../sim/types.js";
import type { TimingOutput } from "../timing/run.js";
import type { RunTiming } from "../timing/types.js";
import { REPORT_KIND, REPORT_SCHEMA_VERSION, type Report } from "./schema.js";

/** The functional validation of a compile: faults of the simulated runs, and the golden comparison. */
export interface FunctionalSummary {
  readonly faults: readonly Fault[];
  readonly golden?: GoldenComparison;
  /** Hardware numeric mode (teacher-forced on the golden tokens) against the golden reference. */
  readonly hardware?: GoldenComparison;
  /** The golden on the image's INT4 weights against the golden on the checkpoint's weights. */
  readonly quantization?: GoldenComparison;
  readonly notes?: readonly string[];
}

function errorStats(c: GoldenComparison | undefined): NonNullable<Report["validation"]>["hardware"] {
  if (!c || c.cosine.length === 0) return null;
  return {
    steps: c.cosine.length,
    minCosine: c.worst.cosine,
    meanCosine: c.cosine.reduce((a, b) => a + b, 0) / c.cosine.length,
    worstMaxRelErr: c.worst.maxRelErr,
    worstMaxAbsErr: c.worst.maxAbsErr,
    top1Agreement: c.top1Agreement,
  };
}

export interface ReportInputs {
  readonly target: Target;
  /** Model name (repo id or directory); default: the graph's model type, else the program's model. */
  readonly modelName?: string;
  readonly graph?: GraphMeta;
  readonly ledger?: FeatureLedger;
  /** The layout's figures (a WeightPlan has them all). */
  readonly layout?: Pick<WeightPlan, "summary" | "usage"> & { readonly fit?: FitVerdict };
  readonly program?: Program;
  readonly timing?: TimingOutput;
  /** KV rows the decoded tokens attend to (default: the last decode run's pos + 1). */
  readonly context?: number;
  readonly functional?: FunctionalSummary;
  /** weights.json's per-tensor quantization error (`quantization[]`). */
  readonly quantization?: readonly ManifestQuant[];
}

const num = (v: number | string | undefined): number => (typeof v === "number" ? v : Number.NaN);

function quantizationSection(q: readonly ManifestQuant[] | undefined): Report["quantization"] {
  if (!q) return null;
  const entries = q
    .map((e) => ({
      tensor: e.tensor,
      role: e.role,
      source: e.source,
      group: e.group,
      rmse: num(e.error.rmse),
      maxAbsError: num(e.error.maxAbsError),
      snrDb: e.error.snrDb === "inf" ? null : num(e.error.snrDb),
      cosine: num(e.error.cosine),
    }))
    .sort((a, b) => (a.snrDb ?? Infinity) - (b.snrDb ?? Infinity) || a.tensor.localeCompare(b.tensor));
  const snrs = entries.flatMap((e) => (e.snrDb === null ? [] : [e.snrDb]));
  return {
    tensors: entries.length,
    minSnrDb: snrs.length ? Math.min(...snrs) : null,
    minCosine: entries.length ? Math.min(...entries.map((e) => e.cosine)) : null,
    entries,
  };
}

function verdictNote(v: Verdict): string {
  switch (v.kind) {
    case "lowered":
      return v.how;
    case "host":
      return v.how ? `${v.reason} (${v.how})` : v.reason;
    case "approximated":
      return `${v.method}: max abs error ${v.maxAbsError} vs ${v.reference}`;
    case "rejected":
      return `${v.reason}; fix: ${v.fix}`;
    case "ignored":
      return v.reason;
  }
}

function modelSection(i: ReportInputs): Report["model"] {
  const name = i.modelName ?? i.graph?.modelType ?? i.program?.model;
  if (name === undefined) return null;
  const g = i.graph;
  return {
    name,
    modelType: g?.modelType ?? i.ledger?.model.modelType ?? null,
    plugin: g?.plugin ?? i.ledger?.model.plugin ?? null,
    numLayers: g?.numLayers ?? null,
    hiddenSize: g?.hiddenSize ?? null,
    vocabSize: g?.vocabSize ?? null,
  };
}

function featuresSection(l: FeatureLedger | undefined): Report["features"] {
  if (!l) return null;
  return {
    summary: { ...l.summary },
    entries: l.entries.map((e) => ({
      feature: e.feature,
      key: e.key,
      verdict: e.verdict.kind,
      detail: e.detail,
      note: verdictNote(e.verdict),
    })),
  };
}

function memorySection(l: ReportInputs["layout"]): Report["memory"] {
  if (!l) return null;
  const u = l.usage;
  return {
    line: l.summary,
    onChipBytes: u.onChipBytes,
    streamedPerTokenBytes: u.streamedPerToken,
    streamBytes: u.streamBytes,
    offDdrBytes: u.offDdrBytes,
    kvBytes: u.kvBytes,
    ddrBytes: u.ddrBytes,
    ddrCapacityBytes: l.fit?.ddrCapacity ?? null,
    fits: l.fit?.ok ?? null,
    fitText: l.fit?.text ?? null,
  };
}

const sortedCounts = (m: Map<string, number>) =>
  Object.fromEntries([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)));

export function programSection(p: Program | undefined): Report["program"] {
  if (!p) return null;
  const chunk = p.variables.filter((v) => /^token\[\d+\]$/.test(v.name)).length;
  return {
    segments: p.segments.map((s) => {
      const instr = new Map<string, number>();
      const fns = new Map<string, number>();
      let dma = 0;
      let waits = 0;
      for (const st of s.steps) {
        if (st.kind === "npu") instr.set(st.instr.opcode, (instr.get(st.instr.opcode) ?? 0) + 1);
        else if (st.kind === "host") fns.set(st.fn, (fns.get(st.fn) ?? 0) + 1);
        else if (st.kind === "dma") dma++;
        else waits++;
      }
      const npu = [...instr.values()].reduce((a, b) => a + b, 0);
      const host = [...fns.values()].reduce((a, b) => a + b, 0);
      return {
        name: s.name,
        kind: s.kind,
        steps: s.steps.length,
        npu,
        dma,
        host,
        waits,
        instructions: sortedCounts(instr),
        hostFunctions: sortedCounts(fns),
      };
    }),
    relocations: p.relocations.length,
    variables: p.variables.length,
    ddrRegions: p.ddr.length,
    prefillChunk: p.segments.some((s) => s.kind === "prefill") ? Math.max(1, chunk) : null,
  };
}

function runJson(r: RunTiming): NonNullable<NonNullable<Report["timing"]>["detail"]> {
  return {
    segment: r.segment,
    kind: r.kind,
    variables: { ...r.variables },
    tokens: r.tokens,
    cycles: r.cycles,
    seconds: r.seconds,
    tokensPerSecond: r.tokensPerSecond,
    split: { ...r.split },
    engines: Object.fromEntries(
      Object.entries(r.engines).map(([k, v]) => [k, { busy: v.busy, count: v.count }]),
    ),
    stalls: r.stalls.map((s) => ({ ...s })),
    ports: Object.fromEntries(
      Object.entries(r.ports).map(([k, v]) => [k, { ...v, byKind: { ...v.byKind } }]),
    ),
    memory: { ...r.memory },
    roofline: { ...r.roofline },
    counts: { ...r.counts },
  };
}

/** The run the report details: the last decode token, else the last prefill chunk, else the last run. */
export function detailRun(t: TimingOutput): number {
  const runs = t.result.runs;
  const last = (k: string) => runs.map((r) => r.kind).lastIndexOf(k as RunTiming["kind"]);
  const d = last("decode");
  if (d >= 0) return d;
  const p = last("prefill");
  return p >= 0 ? p : runs.length - 1;
}

function timingSection(i: ReportInputs): Report["timing"] {
  const t = i.timing;
  if (!t) return null;
  const idx = detailRun(t);
  const run = t.result.runs[idx];
  const out = t.runs[idx];
  const pos = run?.variables.pos;
  return {
    context: i.context ?? (run?.kind === "decode" && pos !== undefined ? pos + 1 : 0),
    load: t.result.load ? { ...t.result.load } : null,
    prefill: t.result.prefill ? { ...t.result.prefill } : null,
    decode: t.result.decode ? { ...t.result.decode } : null,
    detail: run ? runJson(run) : null,
    layers: (out?.timing.layers ?? []).map((l) => {
      const row = out!.layerRows.find((r) => r.layer === l.layer);
      return {
        layer: l.layer,
        cycles: l.cycles,
        bytes: l.bytes,
        macs: l.macs,
        bound: row?.bound ?? "control",
        breakdown: { ...l.breakdown },
        split: { ...l.split },
        engines: { ...l.engines },
      };
    }),
    sweep: (t.result.sweep ?? []).map((p) => ({ ...p })),
  };
}

function validationSection(f: FunctionalSummary | undefined): Report["validation"] {
  if (!f) return null;
  const g = f.golden;
  const pass = f.faults.length === 0 && (g === undefined || g.tokensEqual);
  return {
    verdict: pass ? "pass" : "fail",
    faults: f.faults.length,
    firstFaults: f.faults.slice(0, 10).map((x) => x.message),
    golden: g
      ? {
          tokensEqual: g.tokensEqual,
          firstDivergence: g.firstDivergence,
          top1Agreement: g.top1Agreement,
          worstMaxRelErr: g.worst.maxRelErr,
          worstCosine: g.worst.cosine,
        }
      : null,
    hardware: errorStats(f.hardware),
    quantization: errorStats(f.quantization),
    notes: [...(f.notes ?? [])],
  };
}

/** The report model of a compile (or of whatever part of it ran). */
export function buildReport(i: ReportInputs): Report {
  const t = i.target;
  return {
    kind: REPORT_KIND,
    schemaVersion: REPORT_SCHEMA_VERSION,
    generator: { name: "pccxc", version: VERSION },
    model: modelSection(i),
    target: {
      name: t.file.name,
      fingerprint: t.fingerprint,
      clockMhz: t.file.clocks.core_mhz,
      ddrPeakGbps: t.file.ddr.peak_gbps,
      ddrEffectiveGbps: t.derived.ddr.effective_gbps,
      gemvFeedGbps: t.derived.gemv.feed.feed_gbps_ddr_capped,
      gemvGmacs: t.derived.gemv.gmacs,
      gemmGmacs: t.derived.gemm.gmacs,
    },
    features: featuresSection(i.ledger),
    memory: memorySection(i.layout),
    quantization: quantizationSection(i.quantization),
    program: programSection(i.program),
    timing: timingSection(i),
    validation: validationSection(i.functional),
  };
}
