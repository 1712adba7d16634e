/**
 * The report model and its files: buildReport with every piece and with none ("not run"),
 * report.json against its schema, the readable summary in report.md / report.html, layers.csv,
 * the traces (read back), and byte-identical rendering.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codegen } from "../../../src/codegen/index.js";
import { finalizeLayout } from "../../../src/layout/index.js";
import { loadTarget } from "../../../src/target/index.js";
import { readPccxTrace } from "../../../src/validate/report/index.js";
import {
  buildReport,
  detailRun,
  NOT_RUN,
  REPORT_KIND,
  REPORT_SCHEMA_VERSION,
  type Report,
  ReportSchema,
  renderReport,
  reportJsonSchema,
  reportJsonText,
} from "../../../src/validate/reports/index.js";
import type { Fault } from "../../../src/validate/sim/index.js";
import { runTiming } from "../../../src/validate/timing/index.js";
import { frontEnd } from "../timing/pipeline.js";

const KV260 = loadTarget("kv260-v002");
const TINY_LLAMA = fileURLToPath(new URL("../../../examples/tiny/llama/config.json", import.meta.url));

function full() {
  const c = frontEnd(TINY_LLAMA, KV260, { kvDtype: "int4" });
  const cg = codegen(c.graph, c.plan, KV260, { model: "tiny-llama" });
  const layout = finalizeLayout(c.plan, cg.segments, cg.regions);
  const timing = runTiming(cg.program, KV260, { context: 64, prompt: 4, timeline: true, sweep: [16, 64] });
  const fault = {
    kind: "wait",
    segment: "decode",
    step: 3,
    run: 1,
    origin: "x",
    detail: "d",
    message: "decode step 3 (x): d",
  } as unknown as Fault;
  const report = buildReport({
    target: KV260,
    modelName: "tiny-llama",
    graph: c.graph.meta,
    ledger: c.ledger,
    layout,
    program: cg.program,
    timing,
    functional: { faults: [fault] },
  });
  const timeline = timing.runs[detailRun(timing)]!.timeline!;
  return { c, cg, layout, timing, report, files: renderReport(report, { target: KV260, timeline }) };
}

const text = (f: ReadonlyMap<string, string | Uint8Array>, name: string) => f.get(name) as string;

describe("reports: every piece present", () => {
  const r = full();

  it("report.json is schema-versioned and validates", () => {
    const json = JSON.parse(text(r.files, "report.json")) as Report;
    expect(json.kind).toBe(REPORT_KIND);
    expect(json.schemaVersion).toBe(REPORT_SCHEMA_VERSION);
    expect(ReportSchema.safeParse(json).success).toBe(true);
    expect(json.model?.name).toBe("tiny-llama");
    expect(json.model?.modelType).toBe("llama");
    expect(json.target.fingerprint).toBe(KV260.fingerprint);
    expect(json.memory?.line).toBe(r.layout.summary);
    expect(json.program?.segments.map((s) => s.kind)).toEqual(
      ["load", "decode", "prefill"].filter((k) => r.cg.program.segments.some((s) => s.kind === k)),
    );
    expect(json.timing?.decode?.tokensPerSecond).toBeCloseTo(r.timing.result.decode!.tokensPerSecond, 9);
    expect(json.timing?.prefill?.tokens).toBe(4);
    expect(json.timing?.context).toBe(64);
    expect(json.timing?.sweep.map((p) => p.context)).toEqual([16, 64]);
    expect(json.timing?.layers.map((l) => l.layer)).toContain(0);
    expect(json.validation).toMatchObject({
      verdict: "fail",
      faults: 1,
      firstFaults: ["decode step 3 (x): d"],
    });
    expect(json.features?.entries.length).toBe(r.c.ledger.entries.length);
  });

  it("report.md has the summary a person reads first", () => {
    const md = text(r.files, "report.md");
    expect(md).toContain("# pccxc report: tiny-llama");
    expect(md).toMatch(/\| Model +\| tiny-llama \(llama, plugin llama\)/);
    expect(md).toContain(`| Target `);
    expect(md).toContain(KV260.fingerprint);
    const dec = r.timing.result.decode!.tokensPerSecond.toFixed(3);
    expect(md).toContain(`${dec} tok/s (1 token(s)), context 64`);
    expect(md).toContain(`${r.timing.result.prefill!.tokensPerSecond.toFixed(3)} tok/s (4 tokens)`);
    expect(md).toContain(r.layout.summary);
    expect(md).toContain("## Feature ledger");
    expect(md).toContain("## Program");
    expect(md).toMatch(/\| decode +\| decode +\|/);
    expect(md).toContain("Validation");
    expect(md).toContain("fail (1 fault(s))");
    expect(md).toContain("![Roofline (decode)](roofline.svg)");
    expect(md).toContain("![Time per layer](layers.svg)");
  });

  it("writes the HTML with both charts inline, layers.csv and the SVG files", () => {
    const html = text(r.files, "report.html");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    expect(text(r.files, "roofline.svg")).toContain("Roofline (decode)");
    expect(text(r.files, "layers.svg")).toContain("Time per layer");
    const csv = text(r.files, "layers.csv").split("\r\n");
    expect(csv[0]!.startsWith("layer,cycles,time_us,bytes,macs,mac_per_byte,bound")).toBe(true);
    const layers = JSON.parse(text(r.files, "report.json")).timing.layers as unknown[];
    expect(csv.filter((l) => l.length > 0).length).toBe(1 + layers.length);
  });

  it("writes traces that read back: trace.json (Chrome) and trace.pccx (pccx-lab)", () => {
    const tl = r.timing.runs[detailRun(r.timing)]!.timeline!;
    const chrome = JSON.parse(text(r.files, "trace.json")) as {
      traceEvents: { ph: string }[];
      otherData: Record<string, unknown>;
    };
    expect(chrome.traceEvents.filter((e) => e.ph === "X").length).toBe(tl.events.length);
    expect(chrome.otherData.clock_mhz).toBe(400);
    const pccx = readPccxTrace(r.files.get("trace.pccx") as Uint8Array);
    expect(pccx.checksumVerified).toBe(true);
    expect(pccx.records.length).toBe(tl.events.length);
    expect(pccx.header.arch).toEqual({ macDims: [32, 32], isaVersion: "v002", peakTops: 1.6384 });
    expect(pccx.header.trace.cores).toBe(tl.tracks.length);
    expect(pccx.header.tracks).toEqual(tl.tracks.map((t) => t.name));
  });

  it("renders byte-identical files from the same inputs", () => {
    const again = full();
    expect([...again.files.keys()]).toEqual([
      "report.json",
      "trace.json",
      "trace.pccx",
      "report.html",
      "report.md",
      "roofline.svg",
      "layers.svg",
      "layers.csv",
    ]);
    for (const [k, v] of r.files) expect(Buffer.from(again.files.get(k)!).equals(Buffer.from(v))).toBe(true);
  });
});

describe("reports: the per-tensor quantization error of weights.json", () => {
  const q = (tensor: string, snrDb: number | string, cosine: number) => ({
    id: tensor,
    tensor,
    role: "mlp_up",
    source: "BF16",
    group: 0,
    scaleDtype: "bf16",
    error: { count: 8, rmse: 0.01, maxAbsError: 0.03, snrDb, cosine, maxAbsWeight: 1, clamped: 0 },
  });
  const report = buildReport({
    target: KV260,
    quantization: [q("b", 21.5, 0.995), q("exact", "inf", 1), q("a", 18.25, 0.99), q("c", 21.5, 0.996)],
  });
  const files = renderReport(report);

  it("lists every tensor, lowest SNR first (ties by name; an exact tensor last, SNR null)", () => {
    const s = report.quantization!;
    expect(s.entries.map((e) => e.tensor)).toEqual(["a", "b", "c", "exact"]);
    expect(s.entries[3]!.snrDb).toBeNull();
    expect([s.tensors, s.minSnrDb, s.minCosine]).toEqual([4, 18.25, 0.99]);
    expect(ReportSchema.safeParse(JSON.parse(text(files, "report.json"))).success).toBe(true);
  });

  it("shows the summary and the table in report.md", () => {
    const md = text(files, "report.md");
    expect(md).toContain("## Quantization");
    expect(md).toContain("4 INT4 tensor(s); lowest SNR 18.25 dB, lowest cosine 0.990000:");
    const row = md.split("\n").find((l) => l.startsWith("| a "));
    expect(row?.split("|").map((c) => c.trim())).toEqual([
      "",
      "a",
      "mlp_up",
      "BF16",
      "row",
      "0.01",
      "0.03",
      "18.25 dB",
      "0.99",
      "",
    ]);
    expect(md).toContain("exact");
  });
});

describe("reports: missing pieces render as not run", () => {
  const report = buildReport({ target: KV260 });
  const files = renderReport(report);

  it("has null sections and a valid report.json", () => {
    expect(report.model).toBeNull();
    expect(report.features).toBeNull();
    expect(report.memory).toBeNull();
    expect(report.quantization).toBeNull();
    expect(report.program).toBeNull();
    expect(report.timing).toBeNull();
    expect(report.validation).toBeNull();
    expect(ReportSchema.safeParse(JSON.parse(text(files, "report.json"))).success).toBe(true);
  });

  it("says not run in report.md, and writes no trace, chart or layers.csv", () => {
    const md = text(files, "report.md");
    for (const key of [
      "Model",
      "Decode (estimated)",
      "Prefill (estimated)",
      "Memory",
      "Features",
      "Validation",
    ]) {
      expect(md).toMatch(new RegExp(`\\| ${key.replace(/[()]/g, "\\$&")} +\\| ${NOT_RUN} +\\|`));
    }
    expect(md).toContain(`The timing simulation was ${NOT_RUN}.`);
    expect([...files.keys()]).toEqual(["report.json", "report.html", "report.md"]);
  });

  it("refuses to write a report that breaks its own schema (a pccxc bug, exit 70)", () => {
    const bad = { ...report, schemaVersion: 99 } as unknown as Report;
    expect(() => reportJsonText(bad)).toThrowError(/schemaVersion/);
  });

  it("exports the JSON Schema of report.json", () => {
    const s = reportJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(s.properties)).toEqual([
      "kind",
      "schemaVersion",
      "generator",
      "model",
      "target",
      "features",
      "memory",
      "quantization",
      "program",
      "timing",
      "validation",
    ]);
    expect(s.required).toContain("timing");
  });
});
