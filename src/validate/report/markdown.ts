/**
 * report.md from the same model as report.html: summary and tables as GFM tables, text as is
 * (it is already markdown), charts as image links to their .svg files when the block names one.
 */
import type { ReportBlock, ReportDoc } from "./report-doc.js";
import { escapeMarkdownCell, markdownTable } from "./table.js";

function blockToMarkdown(b: ReportBlock): string {
  switch (b.kind) {
    case "text":
      return `${b.text.trim()}\n`;
    case "table":
      return `${markdownTable(b.table)}${b.caption ? `\n${b.caption}\n` : ""}`;
    case "roofline":
    case "bars": {
      const alt = escapeMarkdownCell(b.chart.title);
      const img = b.file ? `![${alt}](${encodeURI(b.file)})` : `*${alt}: chart in report.html*`;
      return `${img}\n${b.caption ? `\n${b.caption}\n` : ""}`;
    }
  }
}

/** Renders report.md; same model, same bytes. */
export function renderMarkdownReport(doc: ReportDoc): string {
  const parts: string[] = [`# ${escapeMarkdownCell(doc.title)}\n`];
  if (doc.subtitle) parts.push(`${doc.subtitle.trim()}\n`);
  if (doc.summary.length) {
    parts.push(
      markdownTable({
        columns: [{ label: "Item" }, { label: "Value", align: "left" }],
        rows: doc.summary.map((r) => [r.key, r.value]),
      }),
    );
  }
  for (const s of doc.sections) {
    parts.push(`## ${escapeMarkdownCell(s.title)}\n`);
    for (const b of s.blocks) parts.push(blockToMarkdown(b));
  }
  if (doc.footer) parts.push(`---\n\n${doc.footer.trim()}\n`);
  return parts.join("\n");
}
