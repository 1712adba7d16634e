/**
 * report.html: one self-contained page (inline CSS, charts as inline SVG, no scripts, no external
 * URL) that opens from disk in any browser. Everything from the model is HTML-escaped.
 */
import { renderStackedBarsSvg } from "./bars-svg.js";
import { inlineToHtml, markdownishToHtml } from "./markdownish.js";
import type { ReportBlock, ReportDoc } from "./report-doc.js";
import { sectionId } from "./report-doc.js";
import { renderRooflineSvg } from "./roofline-svg.js";
import { columnAlign, humanCellText, type Table } from "./table.js";
import { escapeHtml } from "./text.js";

const CSS = `
:root { color-scheme: light; }
body { margin: 0; background: #f6f7f9; color: #1d2330; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 28px 48px; background: #ffffff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #dde1e8; }
.subtitle { color: #5a6375; margin: 0 0 16px; }
nav ol { margin: 8px 0 0; padding-left: 22px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #dde1e8; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th { width: 40%; }
.table-wrap { overflow-x: auto; }
caption, figcaption { caption-side: bottom; color: #5a6375; font-size: 13px; padding-top: 4px; text-align: left; }
figure { margin: 12px 0 20px; }
figure svg { max-width: 100%; height: auto; border: 1px solid #dde1e8; }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: #f0f2f5; padding: 0 3px; }
pre { background: #f0f2f5; padding: 8px 12px; overflow-x: auto; }
pre code { padding: 0; }
footer { margin-top: 36px; color: #5a6375; font-size: 13px; }
@media print { body { background: #ffffff; } main { max-width: none; } }
`.trim();

/** An HTML table; numeric columns right-aligned. */
export function tableToHtml(t: Table, caption?: string): string {
  const aligns = t.columns.map((_, i) => columnAlign(t, i));
  const head = `<tr>${t.columns.map((c) => `<th scope="col">${escapeHtml(c.label)}</th>`).join("")}</tr>`;
  const rows = t.rows.map(
    (r) =>
      `<tr>${t.columns
        .map(
          (_, i) =>
            `<td${aligns[i] === "right" ? ' class="num"' : ""}>${escapeHtml(humanCellText(r[i]))}</td>`,
        )
        .join("")}</tr>`,
  );
  const cap = caption ? `<caption>${inlineToHtml(caption)}</caption>` : "";
  return `<div class="table-wrap"><table>${cap}<thead>${head}</thead><tbody>\n${rows.join("\n")}\n</tbody></table></div>`;
}

function figure(svg: string, caption?: string): string {
  const cap = caption ? `<figcaption>${inlineToHtml(caption)}</figcaption>` : "";
  return `<figure>\n${svg.trimEnd()}\n${cap}</figure>`;
}

function blockToHtml(b: ReportBlock): string {
  switch (b.kind) {
    case "text":
      return markdownishToHtml(b.text);
    case "table":
      return tableToHtml(b.table, b.caption);
    case "roofline":
      return figure(renderRooflineSvg(b.chart, { standalone: false }), b.caption);
    case "bars":
      return figure(renderStackedBarsSvg(b.chart, { standalone: false }), b.caption);
  }
}

/** Renders the whole page; same model, same bytes. */
export function renderHtmlReport(doc: ReportDoc): string {
  const parts: string[] = [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>\n${CSS}\n</style>`,
    "</head>",
    "<body>",
    "<main>",
    `<h1>${escapeHtml(doc.title)}</h1>`,
  ];
  if (doc.subtitle) parts.push(`<p class="subtitle">${inlineToHtml(doc.subtitle)}</p>`);
  if (doc.summary.length) {
    const rows = doc.summary.map(
      (r) =>
        `<tr><th scope="row">${escapeHtml(r.key)}</th><td${typeof r.value === "number" ? ' class="num"' : ""}>${escapeHtml(humanCellText(r.value))}</td></tr>`,
    );
    parts.push(`<table class="summary"><tbody>\n${rows.join("\n")}\n</tbody></table>`);
  }
  if (doc.sections.length > 1) {
    const items = doc.sections.map(
      (s, i) => `<li><a href="#${sectionId(i, s.title)}">${escapeHtml(s.title)}</a></li>`,
    );
    parts.push(`<nav aria-label="Contents"><ol>${items.join("")}</ol></nav>`);
  }
  doc.sections.forEach((s, i) => {
    parts.push(`<section id="${sectionId(i, s.title)}">`, `<h2>${escapeHtml(s.title)}</h2>`);
    for (const b of s.blocks) parts.push(blockToHtml(b));
    parts.push("</section>");
  });
  if (doc.footer) parts.push(`<footer>${markdownishToHtml(doc.footer)}</footer>`);
  parts.push("</main>", "</body>", "</html>");
  return `${parts.join("\n")}\n`;
}
