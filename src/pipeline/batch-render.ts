/**
 * The batch summary table (markdown): one row per model with its status, verdict, the figures the
 * budgets gate on and, for a failure, the code and reason.
 */
import { formatBytes } from "../layout/index.js";
import { type Cell, markdownTable } from "../validate/report/index.js";
import type { BatchResult } from "./batch.js";
import { fmtRate } from "./summary.js";

export function renderBatchTable(r: BatchResult): string {
  const rows: Cell[][] = r.models.map((m) => [
    m.model,
    m.status,
    m.verdict,
    m.figures.decodeTokS !== undefined ? fmtRate(m.figures.decodeTokS) : null,
    m.figures.prefillTokS !== undefined ? fmtRate(m.figures.prefillTokS) : null,
    m.figures.ddrBytes !== undefined ? formatBytes(m.figures.ddrBytes) : null,
    m.status === "failed" ? `${m.code}: ${(m.reason ?? "").split("\n")[0]}` : null,
  ]);
  const table = markdownTable({
    columns: [
      { label: "model" },
      { label: "status" },
      { label: "verdict" },
      { label: "decode tok/s", align: "right" },
      { label: "prefill tok/s", align: "right" },
      { label: "DDR", align: "right" },
      { label: "reason" },
    ],
    rows,
  });
  const tail = `${r.passed} passed, ${r.failed} failed (${r.mode}, ${r.target}); exit code ${r.exitCode}\n`;
  return `${table}\n${tail}`;
}
