/**
 * The generated parts of docs/features.md: the table of built-in feature plugins (id, claimed
 * keys, summary) and the measured approximation bounds per built-in target, so the page cannot lag
 * behind the code. `npx tsx src/features/regen-docs.ts` rewrites them; a test checks they are current.
 */
import { listBuiltinTargets, loadTarget } from "../target/index.js";
import { ACTIVATION_GRID, EXACT_FUNCTIONS, icdfConstantError, measureMaxAbsError } from "./approx.js";
import { unaryFormula } from "./formula.js";
import { BUILTIN_FEATURES } from "./plugins/index.js";
import type { FeaturePlugin } from "./types.js";

export const DOC_MARKERS = {
  table: ["<!-- generated:feature-table:start -->", "<!-- generated:feature-table:end -->"],
  bounds: ["<!-- generated:error-bounds:start -->", "<!-- generated:error-bounds:end -->"],
} as const;

const cell = (s: string) => s.replace(/\|/g, "\\|");

export function renderFeatureTable(plugins: readonly FeaturePlugin[] = BUILTIN_FEATURES): string {
  const rows = plugins.map(
    (p) =>
      `| \`${p.id}\` | ${p.keys.length ? p.keys.map((k) => `\`${k}\``).join(", ") : "— (from the graph)"} | ${cell(p.summary)} |`,
  );
  return ["| plugin | keys it claims | what it decides |", "|---|---|---|", ...rows].join("\n");
}

/** For every built-in target: each SFU function that stands in for a model function, and its error. */
export function renderErrorBounds(): string {
  const pairs: [string, string][] = [
    ["GELU", "gelu_tanh"],
    ["GELU", "gelu"],
    ["GELU", "quick_gelu"],
    ["SILU", "silu"],
    ["TANH", "tanh"],
  ];
  const rows: string[] = [];
  for (const name of listBuiltinTargets()) {
    const t = loadTarget(name);
    for (const [fn, ref] of pairs) {
      const f = t.file.isa.cvo_functions.find((c) => c.name.toUpperCase() === fn);
      const hw = unaryFormula(f?.formula);
      if (!f || !hw) continue;
      const m = measureMaxAbsError(hw, EXACT_FUNCTIONS[ref]!, ACTIVATION_GRID, `${f.formula}~${ref}`);
      const err =
        m.maxAbsError <= 1e-12
          ? "exact (≤ 1e-12)"
          : `${m.maxAbsError.toPrecision(4)} at x = ${m.worstAt.toFixed(3)}`;
      rows.push(`| ${name} | ${fn} \`${f.formula}\` | ${ref} | ${err} |`);
    }
  }
  const z = icdfConstantError([0.95]);
  const c = z.constants[0]!;
  const g = ACTIVATION_GRID;
  return [
    `Measured on ${g.points.toLocaleString("en-US")} evenly spaced points of [${g.from}, ${g.to}] (float64).`,
    "",
    "| target | SFU function | model function | max abs error |",
    "|---|---|---|---|",
    ...rows,
    "",
    `Gaussian top-k threshold constant (sparsity 0.95): Φ⁻¹(0.95) = ${c.z.toPrecision(10)}, held in BF16 as ${c.bf16}: error ${z.maxAbsError.toPrecision(4)} standard deviations.`,
  ].join("\n");
}

/** Replaces the text between a pair of markers. */
export function replaceBetween(doc: string, [start, end]: readonly [string, string], body: string): string {
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers ${start} … ${end} not found`);
  return `${doc.slice(0, i + start.length)}\n${body}\n${doc.slice(j)}`;
}

export function renderFeatureDoc(doc: string): string {
  return replaceBetween(
    replaceBetween(doc, DOC_MARKERS.table, renderFeatureTable()),
    DOC_MARKERS.bounds,
    renderErrorBounds(),
  );
}
