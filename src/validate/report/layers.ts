/**
 * Per-layer figures as the timing simulator reports them, and their views: the layers table (for
 * layers.csv, report.md and report.html), the stacked time-split chart and roofline points.
 */
import { invalidInput } from "../../diag/index.js";
import type { StackedBarChart } from "./bars-svg.js";
import type { RooflinePoint } from "./roofline-svg.js";
import type { Table } from "./table.js";

/** What limits a layer: the weight stream, the KV stream, an engine, the host, or control/issue. */
export type Bound = "weights" | "kv" | "compute" | "sfu" | "host" | "control";

export const BOUNDS: readonly Bound[] = ["weights", "kv", "compute", "sfu", "host", "control"];

/** Fixed colours per time category so every chart of every report reads the same. */
export const CATEGORY_COLORS: Readonly<Record<string, string>> = {
  weights: "#0072B2",
  kv: "#56B4E9",
  compute: "#009E73",
  sfu: "#E69F00",
  host: "#D55E00",
  control: "#CC79A7",
  stall: "#999999",
};

export interface LayerRow {
  /** Layer index, or a name for what is not a layer ("embed", "lm_head", "sampling"). */
  readonly layer: number | string;
  readonly cycles: number;
  /** DDR bytes moved for the layer (weights + KV + activations). */
  readonly bytes: number;
  readonly macs?: number;
  readonly bound: Bound;
  /** Cycles per category (where the time went); meant to sum to `cycles`. */
  readonly breakdown: Readonly<Record<string, number>>;
}

/** Categories in a stable order: the known ones first (BOUNDS, then "stall"), others sorted. */
export function breakdownCategories(rows: readonly LayerRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.breakdown)) seen.add(k);
  const known = [...BOUNDS, "stall"].filter((k) => seen.has(k));
  const rest = [...seen].filter((k) => !known.includes(k)).sort();
  return [...known, ...rest];
}

function checkClock(clockMhz: number): void {
  if (!(Number.isFinite(clockMhz) && clockMhz > 0)) {
    throw invalidInput("report/timeline-clock", `clockMhz must be a positive number, got ${clockMhz}`, {
      fix: "pass the clock the cycle counts are on (the target's core clock)",
    });
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The layers table: layer, cycles, µs, bytes, MACs, MAC/byte, bound, then cycles per category.
 * Numbers stay numbers (CSV keeps them machine-readable); µs and MAC/byte are rounded to 3 decimals.
 */
export function layerTable(rows: readonly LayerRow[], clockMhz: number): Table {
  checkClock(clockMhz);
  const cats = breakdownCategories(rows);
  return {
    columns: [
      { label: "layer", align: "left" },
      { label: "cycles" },
      { label: "time_us" },
      { label: "bytes" },
      { label: "macs" },
      { label: "mac_per_byte" },
      { label: "bound" },
      ...cats.map((c) => ({ label: `${c}_cycles` })),
    ],
    rows: rows.map((r) => [
      r.layer,
      r.cycles,
      round3(r.cycles / clockMhz),
      r.bytes,
      r.macs ?? null,
      r.macs !== undefined && r.bytes > 0 ? round3(r.macs / r.bytes) : null,
      r.bound,
      ...cats.map((c) => r.breakdown[c] ?? 0),
    ]),
  };
}

/** The per-layer stacked bar chart of the time split, in µs at `clockMhz`. */
export function layerTimeChart(rows: readonly LayerRow[], clockMhz: number, title: string): StackedBarChart {
  checkClock(clockMhz);
  const cats = breakdownCategories(rows);
  return {
    title,
    categories: cats,
    bars: rows.map((r) => ({
      label: typeof r.layer === "number" ? `layer ${r.layer}` : r.layer,
      values: cats.map((c) => (r.breakdown[c] ?? 0) / clockMhz),
    })),
    valueLabel: "time (µs)",
    colors: CATEGORY_COLORS,
  };
}

/** Roofline points for the layers that did MACs: MAC/byte against achieved MAC/s. */
export function layerRooflinePoints(
  rows: readonly LayerRow[],
  clockMhz: number,
  group?: string,
): RooflinePoint[] {
  checkClock(clockMhz);
  return rows
    .filter((r) => r.macs !== undefined && r.macs > 0)
    .map((r) => ({
      name: typeof r.layer === "number" ? `L${r.layer}` : r.layer,
      intensity: r.bytes > 0 ? r.macs! / r.bytes : 0,
      performance: r.cycles > 0 ? r.macs! / (r.cycles / (clockMhz * 1e6)) : 0,
      ...(group !== undefined ? { group } : {}),
    }));
}
