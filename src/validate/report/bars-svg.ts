/**
 * Horizontal stacked bar chart as a self-contained SVG: one bar per row (a layer), split by
 * category (where its time went), a value axis below, the legend under the title. Horizontal bars
 * keep every row label readable however many layers a model has: the chart grows in height.
 */
import { invalidInput } from "../../diag/index.js";
import { el, legendRows, niceTicks, PALETTE, type SvgDocOptions, svgDocument, text } from "./svg.js";
import { escapeXml, formatSi, textWidth } from "./text.js";

export interface StackedBar {
  readonly label: string;
  /** One value per category, in `categories` order; non-negative. */
  readonly values: readonly number[];
}

export interface StackedBarChart {
  readonly title: string;
  readonly categories: readonly string[];
  readonly bars: readonly StackedBar[];
  /** Value axis label, with its unit, e.g. "time (µs)". */
  readonly valueLabel: string;
  /** Optional fixed colour per category (else the palette, in category order). */
  readonly colors?: Readonly<Record<string, string>>;
}

const W = 800;
const ROW = 20;
const BAR = 13;
const MAX_LABEL = 28;

function clip(label: string): string {
  const chars = [...label];
  return chars.length > MAX_LABEL ? `${chars.slice(0, MAX_LABEL - 1).join("")}…` : label;
}

function check(chart: StackedBarChart): void {
  chart.bars.forEach((b, i) => {
    if (b.values.length !== chart.categories.length) {
      throw invalidInput(
        "report/chart-shape",
        `bar "${b.label}" has ${b.values.length} values for ${chart.categories.length} categories`,
        { at: { jsonPath: `$.bars[${i}].values` }, fix: "give one value per category, in category order" },
      );
    }
    b.values.forEach((v, j) => {
      if (!(Number.isFinite(v) && v >= 0)) {
        throw invalidInput(
          "report/chart-value",
          `bar "${b.label}" value ${j} must be finite and >= 0, got ${v}`,
          {
            at: { jsonPath: `$.bars[${i}].values[${j}]` },
            fix: "stacked bars show non-negative amounts (cycles, time, bytes)",
          },
        );
      }
    });
  });
}

/** Renders the stacked bar chart as SVG text. */
export function renderStackedBarsSvg(chart: StackedBarChart, opts: SvgDocOptions = {}): string {
  check(chart);
  const colorOf = (c: string, i: number) => chart.colors?.[c] ?? PALETTE[i % PALETTE.length]!;
  const labels = chart.bars.map((b) => clip(b.label));
  const left = Math.min(220, Math.max(60, ...labels.map((l) => textWidth(l, 12) + 16)));
  const right = W - 70; // room for the total printed after each bar
  const legend = legendRows(
    chart.categories.map((c, i) => ({ label: c, color: colorOf(c, i), swatch: "rect" as const })),
    left,
    40,
    right - left,
  );
  const top = 40 + legend.height + 12;
  const plotH = Math.max(1, chart.bars.length) * ROW;
  const totals = chart.bars.map((b) => b.values.reduce((a, v) => a + v, 0));
  const ticks = niceTicks(Math.max(0, ...totals));
  const maxTick = ticks[ticks.length - 1]!;
  const px = (v: number) => left + (v / maxTick) * (right - left);

  const body: string[] = [legend.markup];
  for (const t of ticks) {
    const x = px(t);
    body.push(
      el("line", { x1: x, y1: top, x2: x, y2: top + plotH, stroke: t === 0 ? "#333333" : "#e3e3e3" }),
    );
    body.push(el("line", { x1: x, y1: top + plotH, x2: x, y2: top + plotH + 5, stroke: "#333333" }));
    body.push(text(x, top + plotH + 19, formatSi(t), { "text-anchor": "middle", "font-size": 12 }));
  }
  body.push(el("line", { x1: left, y1: top + plotH, x2: right, y2: top + plotH, stroke: "#333333" }));
  chart.bars.forEach((b, i) => {
    const y = top + i * ROW + (ROW - BAR) / 2;
    const segs: string[] = [];
    let acc = 0;
    b.values.forEach((v, j) => {
      if (v > 0) {
        const cat = chart.categories[j]!;
        const seg = el(
          "rect",
          { x: px(acc), y, width: px(acc + v) - px(acc), height: BAR, fill: colorOf(cat, j) },
          el("title", {}, escapeXml(`${b.label} · ${cat}: ${formatSi(v)}`)),
        );
        segs.push(seg);
      }
      acc += v;
    });
    body.push(el("g", {}, segs));
    body.push(text(left - 8, y + BAR - 2, labels[i]!, { "text-anchor": "end", "font-size": 12 }));
    body.push(text(px(acc) + 6, y + BAR - 2, formatSi(totals[i]!), { "font-size": 11, fill: "#444444" }));
  });
  body.push(
    text((left + right) / 2, top + plotH + 42, chart.valueLabel, {
      "text-anchor": "middle",
      "font-size": 13,
    }),
  );
  return svgDocument(W, top + plotH + 56, chart.title, body, opts);
}
