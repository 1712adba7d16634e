/**
 * The standard report files of an output directory, rendered in memory: name → content. Callers
 * write them (e.g. with AtomicDir) so that every output directory uses the same names.
 */
import { invalidInput } from "../../diag/index.js";
import { renderStackedBarsSvg } from "./bars-svg.js";
import { renderChromeTrace } from "./chrome-trace.js";
import { renderHtmlReport } from "./html.js";
import { type LayerRow, layerTable } from "./layers.js";
import { renderMarkdownReport } from "./markdown.js";
import { encodePccxTrace, type PccxArch } from "./pccx-format.js";
import type { ReportDoc } from "./report-doc.js";
import { renderRooflineSvg } from "./roofline-svg.js";
import { toCsv } from "./table.js";
import type { Timeline } from "./timeline.js";

export const REPORT_FILE_NAMES = {
  chromeTrace: "trace.json",
  pccxTrace: "trace.pccx",
  html: "report.html",
  markdown: "report.md",
  layersCsv: "layers.csv",
} as const;

export interface ReportFilesInput {
  /** Gives trace.json, and trace.pccx when `pccxArch` is given too. */
  readonly timeline?: Timeline;
  readonly pccxArch?: PccxArch;
  /** Gives report.html, report.md and one .svg per chart block that names a `file`. */
  readonly doc?: ReportDoc;
  /** Gives layers.csv. */
  readonly layers?: { readonly rows: readonly LayerRow[]; readonly clockMhz: number };
}

/** Renders every file the input allows, in a fixed order. */
export function renderReportFiles(input: ReportFilesInput): ReadonlyMap<string, string | Uint8Array> {
  const files = new Map<string, string | Uint8Array>();
  const add = (name: string, content: string | Uint8Array) => {
    if (files.has(name)) {
      throw invalidInput("report/duplicate-file", `two report files are both named "${name}"`, {
        fix: "give each chart block its own file name, distinct from the standard report files",
      });
    }
    files.set(name, content);
  };
  if (input.timeline) {
    add(REPORT_FILE_NAMES.chromeTrace, renderChromeTrace(input.timeline));
    if (input.pccxArch)
      add(REPORT_FILE_NAMES.pccxTrace, encodePccxTrace(input.timeline, { arch: input.pccxArch }));
  }
  if (input.doc) {
    add(REPORT_FILE_NAMES.html, renderHtmlReport(input.doc));
    add(REPORT_FILE_NAMES.markdown, renderMarkdownReport(input.doc));
    for (const s of input.doc.sections) {
      for (const b of s.blocks) {
        if (b.kind === "roofline" && b.file) add(b.file, renderRooflineSvg(b.chart));
        if (b.kind === "bars" && b.file) add(b.file, renderStackedBarsSvg(b.chart));
      }
    }
  }
  if (input.layers)
    add(REPORT_FILE_NAMES.layersCsv, toCsv(layerTable(input.layers.rows, input.layers.clockMhz)));
  return files;
}
