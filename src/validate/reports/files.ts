/**
 * The report files of an output directory: report.json (this module) and, through the writers of
 * src/validate/report, report.md, report.html, layers.csv, roofline.svg, layers.svg, trace.json and
 * trace.pccx. Rendered in memory (name → content, fixed order) and written atomically file by file,
 * so a compiled directory never holds a half-written report.
 */
import { join } from "node:path";
import { PccxError } from "../../diag/index.js";
import type { Target } from "../../target/index.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { prettyJson } from "../../util/json.js";
import { type PccxArch, renderReportFiles, type Timeline } from "../report/index.js";
import { layerRowsOf, reportDoc } from "./doc.js";
import { type Report, ReportSchema } from "./schema.js";

export const REPORT_JSON = "report.json";

/** pccx-lab's `arch` header fields, from the target. */
export function pccxArchOf(t: Target): PccxArch {
  return {
    macDims: [t.file.gemm.rows, t.file.gemm.cols],
    isaVersion: t.file.isa.version,
    peakTops: Number(((t.derived.gemm.macs_per_s * 2) / 1e12).toPrecision(12)),
  };
}

/** report.json text; the report is checked against its schema first (a failure is a pccxc bug). */
export function reportJsonText(r: Report): string {
  const parsed = ReportSchema.safeParse(r);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new PccxError(
      "report/schema",
      70,
      `report.json does not match its schema at ${i.path.join(".")}: ${i.message}`,
      {
        fix: "this is a bug in pccxc's report builder; report it",
      },
    );
  }
  return prettyJson(r);
}

export interface ReportFileOptions {
  /** The timeline of the detailed run, for trace.json and trace.pccx. */
  readonly timeline?: Timeline;
  /** Needed for trace.pccx. */
  readonly target?: Target;
}

/** Every report file, name → content, in a fixed order (report.json first). */
export function renderReport(r: Report, o: ReportFileOptions = {}): Map<string, string | Uint8Array> {
  const out = new Map<string, string | Uint8Array>([[REPORT_JSON, reportJsonText(r)]]);
  const rows = layerRowsOf(r);
  const files = renderReportFiles({
    doc: reportDoc(r),
    ...(rows.length ? { layers: { rows, clockMhz: r.target.clockMhz } } : {}),
    ...(o.timeline ? { timeline: o.timeline } : {}),
    ...(o.timeline && o.target ? { pccxArch: pccxArchOf(o.target) } : {}),
  });
  for (const [k, v] of files) out.set(k, v);
  return out;
}

/** Writes the files into `dir`, each atomically; returns their names in order. */
export async function writeReportFiles(
  dir: string,
  files: ReadonlyMap<string, string | Uint8Array>,
): Promise<string[]> {
  for (const [name, data] of files) await writeFileAtomic(join(dir, name), data);
  return [...files.keys()];
}
