/**
 * The readable report (report.md and report.html): Report → ReportDoc, rendered by the writers of
 * src/validate/report. Built from the Report alone, so a report.json can be re-rendered. Sections a
 * compile did not produce say "not run". Numbers are formatted with fixed rules (deterministic).
 */
import { formatBytes } from "../../layout/plan/format.js";
import {
  type Cell,
  type LayerRow,
  layerRooflinePoints,
  layerTable,
  layerTimeChart,
  type ReportBlock,
  type ReportDoc,
  type ReportSection,
  type SummaryRow,
  type Table,
} from "../report/index.js";
import { REPORT_SCHEMA_VERSION, type Report, TIME_CATEGORY_KEYS } from "./schema.js";

export const NOT_RUN = "not run";
export const CHART_FILES = { roofline: "roofline.svg", layers: "layers.svg" } as const;

const f3 = (v: number) => v.toFixed(3);
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const us = (cycles: number, mhz: number) => Math.round((cycles / mhz) * 1000) / 1000;
const text = (t: string): ReportBlock => ({ kind: "text", text: t });
const table = (t: Table, caption?: string): ReportBlock => ({
  kind: "table",
  table: t,
  ...(caption ? { caption } : {}),
});

/** LayerRows (for layers.csv and the charts) from the report's layer figures. */
export function layerRowsOf(r: Report): LayerRow[] {
  return (r.timing?.layers ?? []).map((l) => {
    const breakdown: Record<string, number> = {};
    for (const [k, v] of Object.entries(l.breakdown)) if (v > 0) breakdown[k] = Math.round(v);
    return {
      layer: l.layer,
      cycles: Math.round(l.cycles),
      bytes: l.bytes,
      ...(l.macs > 0 ? { macs: l.macs } : {}),
      bound: l.bound,
      breakdown,
    };
  });
}

function tps(p: { tokensPerSecond: number; tokens: number } | null | undefined, what: string): string {
  return p ? `${f3(p.tokensPerSecond)} tok/s (${p.tokens} ${what})` : NOT_RUN;
}

function summary(r: Report): SummaryRow[] {
  const m = r.model;
  const t = r.timing;
  const f = r.features?.summary;
  const v = r.validation;
  return [
    {
      key: "Model",
      value: m
        ? `${m.name}${m.modelType ? ` (${m.modelType}${m.plugin ? `, plugin ${m.plugin}` : ""})` : ""}`
        : NOT_RUN,
    },
    { key: "Target", value: r.target.fingerprint },
    {
      key: "Decode (estimated)",
      value: t?.decode ? `${tps(t.decode, "token(s)")}, context ${t.context}` : NOT_RUN,
    },
    { key: "Prefill (estimated)", value: tps(t?.prefill, "tokens") },
    { key: "Memory", value: r.memory?.line ?? NOT_RUN },
    {
      key: "Features",
      value: f
        ? `${f.lowered} lowered, ${f.host} on the host, ${f.approximated} approximated, ${f.rejected} rejected, ${f.ignored} ignored`
        : NOT_RUN,
    },
    { key: "Validation", value: v ? `${v.verdict}${v.faults ? ` (${v.faults} fault(s))` : ""}` : NOT_RUN },
  ];
}

function featuresSection(r: Report): ReportSection {
  const f = r.features;
  if (!f) return { title: "Feature ledger", blocks: [text(`The feature ledger was ${NOT_RUN}.`)] };
  return {
    title: "Feature ledger",
    blocks: [
      table({
        columns: [
          { label: "feature", align: "left" },
          { label: "key", align: "left" },
          { label: "verdict", align: "left" },
          { label: "detail", align: "left" },
          { label: "note", align: "left" },
        ],
        rows: f.entries.map((e) => [e.feature, e.key, e.verdict, e.detail, e.note]),
      }),
    ],
  };
}

function memorySection(r: Report): ReportSection {
  const m = r.memory;
  if (!m) return { title: "Memory", blocks: [text(`The layout was ${NOT_RUN}.`)] };
  const row = (k: string, v: number | null): Cell[] => [k, v === null ? NOT_RUN : formatBytes(v), v];
  return {
    title: "Memory",
    blocks: [
      text(`**${m.line}**${m.fitText ? `\n\n${m.fitText}` : ""}`),
      table({
        columns: [{ label: "what", align: "left" }, { label: "size", align: "right" }, { label: "bytes" }],
        rows: [
          row("on chip (L2-pinned)", m.onChipBytes),
          row("streamed from DDR per token", m.streamedPerTokenBytes),
          row("weight streams in DDR", m.streamBytes),
          row("off DDR (read by the host from the weight file)", m.offDdrBytes),
          row("KV cache", m.kvBytes),
          row("DDR used", m.ddrBytes),
          row("DDR capacity (without the OS reserve)", m.ddrCapacityBytes),
        ],
      }),
    ],
  };
}

/** Rows of the quantization table in report.md / report.html (report.json lists every tensor). */
const QUANT_ROWS = 10;

function quantizationSection(r: Report): ReportSection {
  const q = r.quantization;
  if (!q) return { title: "Quantization", blocks: [text(`The weight image was ${NOT_RUN}.`)] };
  const snr = (v: number | null) => (v === null ? "exact" : `${v.toFixed(2)} dB`);
  const shown = q.entries.slice(0, QUANT_ROWS);
  return {
    title: "Quantization",
    blocks: [
      text(
        `${q.tensors} INT4 tensor(s); lowest SNR ${snr(q.minSnrDb)}, lowest cosine ${q.minCosine === null ? NOT_RUN : q.minCosine.toFixed(6)}` +
          (q.tensors > shown.length
            ? `; the ${shown.length} lowest-SNR tensors (report.json lists all):`
            : ":"),
      ),
      table({
        columns: [
          { label: "tensor", align: "left" },
          { label: "role", align: "left" },
          { label: "source", align: "left" },
          { label: "group" },
          { label: "RMSE" },
          { label: "max |err|" },
          { label: "SNR", align: "right" },
          { label: "cosine" },
        ],
        rows: shown.map((e): Cell[] => [
          e.tensor,
          e.role,
          e.source,
          e.group === 0 ? "row" : e.group,
          Number(e.rmse.toPrecision(4)),
          Number(e.maxAbsError.toPrecision(4)),
          snr(e.snrDb),
          Number(e.cosine.toFixed(6)),
        ]),
      }),
    ],
  };
}

function programSection(r: Report): ReportSection {
  const p = r.program;
  if (!p) return { title: "Program", blocks: [text(`Code generation was ${NOT_RUN}.`)] };
  const ops = [...new Set(p.segments.flatMap((s) => Object.keys(s.instructions)))].sort();
  return {
    title: "Program",
    blocks: [
      text(
        `${p.relocations} relocations, ${p.variables} variables, ${p.ddrRegions} DDR regions${p.prefillChunk ? `, prefill chunk ${p.prefillChunk} tokens` : ""}.`,
      ),
      table({
        columns: [
          { label: "segment", align: "left" },
          { label: "kind", align: "left" },
          { label: "steps" },
          { label: "npu" },
          { label: "dma" },
          { label: "host" },
          { label: "waits" },
          ...ops.map((o) => ({ label: o })),
        ],
        rows: p.segments.map((s) => [
          s.name,
          s.kind,
          s.steps,
          s.npu,
          s.dma,
          s.host,
          s.waits,
          ...ops.map((o) => s.instructions[o] ?? 0),
        ]),
      }),
    ],
  };
}

function performanceBlocks(r: Report): ReportBlock[] {
  const t = r.timing!;
  const mhz = r.target.clockMhz;
  const d = t.detail;
  const blocks: ReportBlock[] = [
    text(
      [
        `- decode: ${t.decode ? `${f3(t.decode.tokensPerSecond)} tok/s at context ${t.context}` : NOT_RUN}`,
        `- prefill: ${tps(t.prefill, "tokens")}`,
        ...(t.load ? [`- load segment: ${us(t.load.cycles, mhz)} µs`] : []),
      ].join("\n"),
    ),
  ];
  if (!d) return blocks;
  const bound = d.roofline.boundCycles > 0 ? (d.tokens * mhz * 1e6) / d.roofline.boundCycles : 0;
  blocks.push(
    text(
      `The detailed run is ${d.segment} (${d.kind}, ${d.tokens} token(s)): ${us(d.cycles, mhz)} µs. ` +
        `Its ${formatBytes(d.roofline.bytes)} of DDR traffic need at least ${us(d.roofline.boundCycles, mhz)} µs ` +
        `(limit: ${d.roofline.limit}${d.kind !== "load" ? `, at most ${f3(bound)} tok/s` : ""}); roofline ratio ${f3(d.roofline.ratio)}, ` +
        `achieved ${f3(d.roofline.bytesPerSecond / 1e9)} GB/s.`,
    ),
    table(
      {
        columns: [
          { label: "category", align: "left" },
          { label: "cycles" },
          { label: "time_us" },
          { label: "share" },
        ],
        rows: TIME_CATEGORY_KEYS.map((k) => [
          k,
          Math.round(d.split[k]),
          us(d.split[k], mhz),
          pct(d.cycles > 0 ? d.split[k] / d.cycles : 0),
        ]),
      },
      "Where the time went (by kind of work)",
    ),
    table(
      {
        columns: [
          { label: "engine", align: "left" },
          { label: "busy_us" },
          { label: "utilisation" },
          { label: "count" },
        ],
        rows: Object.entries(d.engines).map(([k, e]) => [
          k,
          us(e.busy, mhz),
          pct(d.cycles > 0 ? e.busy / d.cycles : 0),
          e.count,
        ]),
      },
      "Busy time per engine",
    ),
    table(
      {
        columns: [
          { label: "engine", align: "left" },
          { label: "reason", align: "left" },
          { label: "stall_us" },
        ],
        rows: d.stalls.map((s) => [s.engine, s.reason, us(s.cycles, mhz)]),
      },
      "Stalls (engine, reason)",
    ),
    table(
      {
        columns: [
          { label: "channel", align: "left" },
          { label: "port", align: "left" },
          { label: "bytes" },
          { label: "commands" },
          { label: "busy" },
        ],
        rows: Object.entries(d.ports).map(([k, p]) => [
          k,
          p.port,
          p.bytes,
          p.commands,
          pct(d.cycles > 0 ? p.busy / d.cycles : 0),
        ]),
      },
      "Bytes per DataMover channel",
    ),
    table(
      {
        columns: [{ label: "level", align: "left" }, { label: "bytes" }],
        rows: [
          ["DDR read (DataMover)", d.memory.ddrRead],
          ["DDR write (DataMover)", d.memory.ddrWrite],
          ["L2 read (NPU)", d.memory.l2Read],
          ["L2 write (NPU)", d.memory.l2Write],
          ["host buffers (host steps)", Math.round(d.memory.host)],
          ["constant-cache writes (entries)", d.memory.constWrites],
        ],
      },
      "Bytes per memory level",
    ),
  );
  const rows = layerRowsOf(r);
  const points = layerRooflinePoints(rows, mhz, d.kind);
  if (points.length) {
    blocks.push({
      kind: "roofline",
      file: CHART_FILES.roofline,
      caption: "Per-layer roofline of the detailed run (MAC per DDR byte against achieved MAC/s)",
      chart: {
        title: `Roofline (${d.segment})`,
        bandwidthRoofs: [
          { name: "DDR peak", bytesPerSecond: r.target.ddrPeakGbps * 1e9 },
          { name: "DDR effective", bytesPerSecond: r.target.ddrEffectiveGbps * 1e9 },
          { name: "GEMV ports", bytesPerSecond: r.target.gemvFeedGbps * 1e9 },
        ],
        computeRoofs: [
          { name: "GEMM", macPerSecond: r.target.gemmGmacs * 1e9 },
          { name: "GEMV", macPerSecond: r.target.gemvGmacs * 1e9 },
        ],
        points,
      },
    });
  }
  if (t.sweep.length) {
    blocks.push(
      table(
        {
          columns: [
            { label: "context" },
            { label: "tok/s" },
            { label: "bytes" },
            { label: "kv_bytes" },
            { label: "roofline_ratio" },
          ],
          rows: t.sweep.map((p) => [
            p.context,
            Number(f3(p.tokensPerSecond)),
            p.bytes,
            p.kvBytes,
            Number(f3(p.rooflineRatio)),
          ]),
        },
        "Decode against context length (the KV bytes and attention work grow with it)",
      ),
    );
  }
  return blocks;
}

function layersSection(r: Report): ReportSection {
  const rows = layerRowsOf(r);
  if (!rows.length) return { title: "Layers", blocks: [text(`The timing simulation was ${NOT_RUN}.`)] };
  const mhz = r.target.clockMhz;
  return {
    title: "Layers",
    blocks: [
      text(
        "`bound` is the resource that limited the layer longest: the weight or KV stream, the engines' compute, the SFU, the host, or control (issue, waits).",
      ),
      table(layerTable(rows, mhz)),
      {
        kind: "bars",
        file: CHART_FILES.layers,
        caption: "Time per layer by binding resource",
        chart: layerTimeChart(rows, mhz, "Time per layer"),
      },
    ],
  };
}

function validationSection(r: Report): ReportSection {
  const v = r.validation;
  if (!v) return { title: "Validation", blocks: [text(`The functional simulation was ${NOT_RUN}.`)] };
  const lines = [`Verdict: **${v.verdict}** — ${v.faults} fault(s).`];
  if (v.golden) {
    const g = v.golden;
    lines.push(
      "",
      `Golden comparison: tokens ${g.tokensEqual ? "equal" : `differ from step ${g.firstDivergence}`}, top-1 agreement ${pct(g.top1Agreement)}, worst relative error ${g.worstMaxRelErr.toExponential(3)}, worst cosine ${g.worstCosine.toFixed(6)}.`,
    );
  }
  const err = (what: string, e: NonNullable<Report["validation"]>["hardware"]) =>
    e
      ? `${what} over ${e.steps} teacher-forced steps: cosine min ${e.minCosine.toFixed(4)}, mean ${e.meanCosine.toFixed(4)}, worst relative error ${e.worstMaxRelErr.toExponential(3)}, top-1 agreement ${pct(e.top1Agreement)}.`
      : undefined;
  for (const l of [
    err("Hardware numeric mode vs golden", v.hardware),
    err("Quantization only (golden on INT4 weights vs golden on the checkpoint)", v.quantization),
  ])
    if (l) lines.push("", l);
  for (const n of v.notes) lines.push("", `Note: ${n}`);
  if (v.firstFaults.length) lines.push("", ...v.firstFaults.map((f) => `- ${f}`));
  return { title: "Validation", blocks: [text(lines.join("\n"))] };
}

/** The ReportDoc of a report: summary, ledger, memory, program, performance, layers, validation. */
export function reportDoc(r: Report): ReportDoc {
  return {
    title: `pccxc report: ${r.model?.name ?? "(no model)"}`,
    subtitle: `target ${r.target.name}`,
    summary: summary(r),
    sections: [
      featuresSection(r),
      memorySection(r),
      quantizationSection(r),
      programSection(r),
      {
        title: "Performance",
        blocks: r.timing ? performanceBlocks(r) : [text(`The timing simulation was ${NOT_RUN}.`)],
      },
      layersSection(r),
      validationSection(r),
    ],
    footer: `Generated by pccxc ${r.generator.version}; report.json schema ${REPORT_SCHEMA_VERSION} (docs/report-format.md). Cycles are ${r.target.clockMhz} MHz core clocks.`,
  };
}
