/**
 * `pccxc plan` for people: per target the verdict, ledger counts, memory plan and fit (with the
 * largest consumers and the computed advice when it does not fit), program statistics and a rate
 * table per context; with several targets first a side-by-side comparison table.
 */
import { formatBytes } from "../layout/index.js";
import { type Cell, markdownTable } from "../validate/report/index.js";
import type { PlanResult, PlanTarget } from "./plan.js";
import { fmtRate } from "./summary.js";

const ledgerCell = (t: PlanTarget) =>
  t.ledger ? `${t.ledger.lowered}/${t.ledger.approximated}/${t.ledger.host}/${t.ledger.rejected}` : "—";

const rateAt = (t: PlanTarget, ctx: number, kind: "decode" | "prefill"): Cell => {
  const p = t.performance?.find((x) => x.context === ctx);
  if (!p) return "—";
  const v = kind === "decode" ? p.decodeTokensPerSecond : p.prefillTokensPerSecond;
  return v === null ? "—" : fmtRate(v);
};

/** One row per metric, one column per target. */
export function comparisonTable(r: PlanResult): string {
  const rows: Cell[][] = [
    ["verdict", ...r.targets.map((t) => t.verdict)],
    ["features lowered/approx/host/rejected", ...r.targets.map(ledgerCell)],
    ["DDR needed", ...r.targets.map((t) => (t.layout ? formatBytes(t.layout.fit.ddrBytes) : "—"))],
    ["DDR available", ...r.targets.map((t) => (t.layout ? formatBytes(t.layout.fit.ddrCapacity) : "—"))],
    [
      "KV cache",
      ...r.targets.map((t) =>
        t.layout ? `${formatBytes(t.layout.kvBytes)} ${t.layout.kvDtype} @${t.layout.context}` : "—",
      ),
    ],
    [
      "streamed per token",
      ...r.targets.map((t) => t.memory?.split?.replace(/^.*streamed from DDR ([^,]+).*$/, "$1") ?? "—"),
    ],
  ];
  for (const c of r.contexts) {
    rows.push([`decode tok/s @${c}`, ...r.targets.map((t) => rateAt(t, c, "decode"))]);
    rows.push([`prefill tok/s @${c}`, ...r.targets.map((t) => rateAt(t, c, "prefill"))]);
  }
  return markdownTable({
    columns: [{ label: "" }, ...r.targets.map((t) => ({ label: t.target.name, align: "right" as const }))],
    rows,
  });
}

function targetBlock(t: PlanTarget, contexts: readonly number[]): string[] {
  const out = [`## ${t.target.fingerprint} (${t.target.file}): ${t.verdict}`];
  const row = (k: string, v: string) => out.push(`  ${k.padEnd(10)}${v}`);
  if (t.ledger) {
    const l = t.ledger;
    row(
      "features",
      `${l.lowered} lowered, ${l.approximated} approximated, ${l.host} host, ${l.rejected} rejected, ${l.ignored} ignored`,
    );
  }
  for (const f of t.features.filter((x) => x.verdict === "host" || x.verdict === "approximated")) {
    out.push(`    ${f.verdict}: ${f.feature}${f.key ? ` (${f.key})` : ""}: ${f.detail}`);
  }
  for (const x of t.rejected)
    out.push(`    rejected: ${x.feature}${x.key ? ` (${x.key})` : ""}: ${x.reason}; fix: ${x.fix}`);
  if (t.layout) {
    const g = t.layout.groupSize === 0 ? "per-row scales" : `scale group ${t.layout.groupSize}`;
    row(
      "layout",
      `INT4 ${g}, KV ${t.layout.kvDtype} for ${t.layout.context} tokens (${formatBytes(t.layout.kvBytes)})`,
    );
    for (const o of t.layout.overridden)
      out.push(
        `    ${o.tensor}: ${o.format}${o.format === "int4" ? ` group ${o.group}` : ""} ${o.placement}, ${o.reason}`,
      );
    row("fit", `${t.layout.fit.text}${t.layout.fit.estimate ? " (estimate)" : ""}`);
    if (!t.layout.fit.ok) {
      const largest = t.layout.fit.consumers.map((c) => `${c.name} ${formatBytes(c.bytes)}`).join(", ");
      out.push(`    largest: ${largest}`);
      for (const a of t.layout.fit.advice) out.push(`    ${a.fits ? "would fit" : "not enough"}: ${a.text}`);
    }
  }
  if (t.memory?.split) row("memory", t.memory.split);
  if (t.program)
    row(
      "program",
      Object.entries(t.program)
        .map(([k, v]) => `${v} ${k}`)
        .join(", "),
    );
  if (t.performance?.length) {
    out.push(
      markdownTable({
        columns: [
          { label: "context" },
          { label: "decode tok/s", align: "right" },
          { label: "prefill tok/s", align: "right" },
        ],
        rows: contexts.map((c) => [c, rateAt(t, c, "decode"), rateAt(t, c, "prefill")]),
      }).trimEnd(),
    );
  }
  if (t.error)
    out.push(`  error[${t.error.code}]: ${t.error.message}${t.error.fix ? `\n    fix: ${t.error.fix}` : ""}`);
  for (const w of t.warnings) out.push(`  warning: ${w}`);
  return out;
}

export function renderPlan(r: PlanResult): string {
  const a = r.architecture;
  const lines = [
    `${r.model}${a ? `: ${a.modelType} (${a.plugin}), ${a.layers} layers, hidden ${a.hidden}, vocab ${a.vocab}, ${a.params} parameters` : ""}`,
    "",
  ];
  if (r.targets.length > 1) lines.push(comparisonTable(r));
  for (const t of r.targets) lines.push(...targetBlock(t, r.contexts), "");
  return `${lines.join("\n").trimEnd()}\n`;
}
