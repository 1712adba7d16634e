/**
 * Report writers of the validate stage. Consumes plain data the simulators and the report builder
 * produce (a `Timeline` of events, `LayerRow`s, roofline points and roofs, a `ReportDoc`) and
 * produces files: trace.json (Chrome/Perfetto), trace.pccx (pccx-lab 1.1), SVG charts, report.html,
 * report.md and layers.csv. No simulator logic here; docs/reports.md describes every format.
 */
export { renderStackedBarsSvg, type StackedBar, type StackedBarChart } from "./bars-svg.js";
export { assignLanes, renderChromeTrace } from "./chrome-trace.js";
export { REPORT_FILE_NAMES, type ReportFilesInput, renderReportFiles } from "./files.js";
export { renderHtmlReport, tableToHtml } from "./html.js";
export {
  BOUNDS,
  type Bound,
  breakdownCategories,
  CATEGORY_COLORS,
  type LayerRow,
  layerRooflinePoints,
  layerTable,
  layerTimeChart,
} from "./layers.js";
export { renderMarkdownReport } from "./markdown.js";
export { inlineToHtml, markdownishToHtml } from "./markdownish.js";
export {
  encodePccxRecords,
  encodePccxTrace,
  formatFnv64,
  KIND_TO_PCCX_EVENT,
  PCCX_EVENT_TYPES,
  PCCX_MAJOR,
  PCCX_MINOR,
  PCCX_RECORD_BYTES,
  type PccxArch,
  type PccxEventType,
  type PccxWriteOptions,
} from "./pccx-format.js";
export { type PccxHeader, type PccxRecord, type PccxTraceFile, readPccxTrace } from "./pccx-read.js";
export type { ReportBlock, ReportDoc, ReportSection, SummaryRow } from "./report-doc.js";
export {
  type BandwidthRoof,
  type ComputeRoof,
  type RooflineChart,
  type RooflinePoint,
  renderRooflineSvg,
} from "./roofline-svg.js";
export type { SvgDocOptions } from "./svg.js";
export { type Cell, type Column, markdownTable, type Table, toCsv } from "./table.js";
export {
  checkTimeline,
  EVENT_KINDS,
  type EventKind,
  type Timeline,
  type TimelineEvent,
  type TimelineTrack,
} from "./timeline.js";
