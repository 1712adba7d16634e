/**
 * The generic report model both report.html and report.md are rendered from: a title, summary
 * key/value rows, and sections of blocks (markdown-ish text, tables, charts). The report's content
 * (what to say about a compile) is built elsewhere; this is only its shape.
 */
import type { StackedBarChart } from "./bars-svg.js";
import type { RooflineChart } from "./roofline-svg.js";
import type { Table } from "./table.js";

export interface SummaryRow {
  readonly key: string;
  readonly value: string | number;
}

export type ReportBlock =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "table"; readonly table: Table; readonly caption?: string }
  | {
      readonly kind: "roofline";
      readonly chart: RooflineChart;
      readonly caption?: string;
      /** Name of the chart's .svg file next to report.md (the markdown links it). */
      readonly file?: string;
    }
  | {
      readonly kind: "bars";
      readonly chart: StackedBarChart;
      readonly caption?: string;
      readonly file?: string;
    };

export interface ReportSection {
  readonly title: string;
  readonly blocks: readonly ReportBlock[];
}

export interface ReportDoc {
  readonly title: string;
  readonly subtitle?: string;
  readonly summary: readonly SummaryRow[];
  readonly sections: readonly ReportSection[];
  /** Markdown-ish text at the bottom (generator, version, fingerprints). */
  readonly footer?: string;
}

/** A section anchor that is stable for a given section order: "s1-timing". */
export function sectionId(index: number, title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);
  return `s${index + 1}${slug ? `-${slug}` : ""}`;
}
