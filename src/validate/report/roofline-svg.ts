/**
 * Roofline plot as a self-contained SVG: log-log axes (arithmetic intensity in MAC/byte against
 * performance in MAC/s), one diagonal per bandwidth roof, one horizontal line per compute roof,
 * labelled points. Roof values are named in the legend rather than on the lines so that close roofs
 * never print over each other.
 */
import { invalidInput } from "../../diag/index.js";
import {
  decades,
  el,
  type LegendEntry,
  legendColumn,
  PALETTE,
  type SvgDocOptions,
  svgDocument,
  text,
} from "./svg.js";
import { formatQuantity, formatSi, textWidth } from "./text.js";

export interface BandwidthRoof {
  readonly name: string;
  readonly bytesPerSecond: number;
}

export interface ComputeRoof {
  readonly name: string;
  readonly macPerSecond: number;
}

export interface RooflinePoint {
  readonly name: string;
  /** MAC per byte moved from the memory level the bandwidth roofs describe. */
  readonly intensity: number;
  /** Achieved MAC/s. */
  readonly performance: number;
  /** Points of one group share a colour and a legend entry (e.g. "decode", "prefill"). */
  readonly group?: string;
}

export interface RooflineChart {
  readonly title: string;
  readonly bandwidthRoofs: readonly BandwidthRoof[];
  readonly computeRoofs: readonly ComputeRoof[];
  readonly points: readonly RooflinePoint[];
  readonly xLabel?: string;
  readonly yLabel?: string;
}

const W = 800;
const H = 520;
const PLOT = { left: 84, top: 48, right: 560, bottom: 452 } as const;

function checkRoof(name: string, v: number, path: string): void {
  if (!(Number.isFinite(v) && v > 0)) {
    throw invalidInput("report/chart-value", `roof "${name}" must be a positive number, got ${v}`, {
      at: { jsonPath: path },
      fix: "roofs come from the target's peak rates; check the target file",
    });
  }
}

interface Scale {
  readonly lo: number;
  readonly hi: number;
  px(v: number): number;
}

function logScale(values: readonly number[], p0: number, p1: number, minDecades: number): Scale {
  let lo = Math.floor(Math.log10(Math.min(...values)));
  let hi = Math.ceil(Math.log10(Math.max(...values)));
  while (hi - lo < minDecades) {
    hi++;
    if (hi - lo < minDecades) lo--;
  }
  return { lo, hi, px: (v) => p0 + ((Math.log10(v) - lo) / (hi - lo)) * (p1 - p0) };
}

function axes(x: Scale, y: Scale, xLabel: string, yLabel: string): string[] {
  const out: string[] = [];
  const grid = { stroke: "#e3e3e3", "stroke-width": 1 };
  for (let e = x.lo; e < x.hi; e++) {
    for (let m = 2; m < 10; m++) {
      const px = x.px(m * 10 ** e);
      out.push(el("line", { x1: px, y1: PLOT.top, x2: px, y2: PLOT.bottom, ...grid, "stroke-width": 0.5 }));
    }
  }
  for (let e = y.lo; e < y.hi; e++) {
    for (let m = 2; m < 10; m++) {
      const py = y.px(m * 10 ** e);
      out.push(el("line", { x1: PLOT.left, y1: py, x2: PLOT.right, y2: py, ...grid, "stroke-width": 0.5 }));
    }
  }
  for (const v of decades(x.lo, x.hi)) {
    const px = x.px(v);
    out.push(el("line", { x1: px, y1: PLOT.top, x2: px, y2: PLOT.bottom, stroke: "#c8c8c8" }));
    out.push(el("line", { x1: px, y1: PLOT.bottom, x2: px, y2: PLOT.bottom + 5, stroke: "#333333" }));
    out.push(text(px, PLOT.bottom + 19, formatSi(v), { "text-anchor": "middle", "font-size": 12 }));
  }
  for (const v of decades(y.lo, y.hi)) {
    const py = y.px(v);
    out.push(el("line", { x1: PLOT.left, y1: py, x2: PLOT.right, y2: py, stroke: "#c8c8c8" }));
    out.push(el("line", { x1: PLOT.left - 5, y1: py, x2: PLOT.left, y2: py, stroke: "#333333" }));
    out.push(text(PLOT.left - 8, py + 4, formatSi(v), { "text-anchor": "end", "font-size": 12 }));
  }
  out.push(
    el("rect", {
      x: PLOT.left,
      y: PLOT.top,
      width: PLOT.right - PLOT.left,
      height: PLOT.bottom - PLOT.top,
      fill: "none",
      stroke: "#333333",
    }),
  );
  const cx = (PLOT.left + PLOT.right) / 2;
  out.push(text(cx, PLOT.bottom + 42, xLabel, { "text-anchor": "middle", "font-size": 13 }));
  const cy = (PLOT.top + PLOT.bottom) / 2;
  out.push(
    text(20, cy, yLabel, { "text-anchor": "middle", "font-size": 13, transform: `rotate(-90 20 ${cy})` }),
  );
  return out;
}

/**
 * Label positions that overlap neither a marker nor an earlier label: tried right of the point
 * (left near the plot's edge), nudged down a line at a time, kept after six tries.
 */
function placeLabels(items: readonly { x: number; y: number; label: string }[]): { x: number; y: number }[] {
  const boxes = items.map((it) => ({ x0: it.x - 5, x1: it.x + 5, y0: it.y - 5, y1: it.y + 5 }));
  return items.map((it) => {
    const w = textWidth(it.label, 11);
    const rightSide = it.x + 8 + w <= PLOT.right;
    const x = rightSide ? it.x + 7 : it.x - 7 - w;
    let y = it.y - 6;
    for (let tries = 0; tries < 6; tries++) {
      const b = { x0: x, x1: x + w, y0: y - 10, y1: y + 2 };
      if (!boxes.some((o) => b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1)) break;
      y += 13;
    }
    boxes.push({ x0: x, x1: x + w, y0: y - 10, y1: y + 2 });
    return { x, y };
  });
}

/** Renders the roofline chart as SVG text. Points that cannot sit on log axes are listed below it. */
export function renderRooflineSvg(chart: RooflineChart, opts: SvgDocOptions = {}): string {
  chart.bandwidthRoofs.forEach((r, i) => {
    checkRoof(r.name, r.bytesPerSecond, `$.bandwidthRoofs[${i}]`);
  });
  chart.computeRoofs.forEach((r, i) => {
    checkRoof(r.name, r.macPerSecond, `$.computeRoofs[${i}]`);
  });
  const ok = (p: RooflinePoint) =>
    p.intensity > 0 && p.performance > 0 && Number.isFinite(p.intensity * p.performance);
  const shown = chart.points.filter(ok);
  const hidden = chart.points.filter((p) => !ok(p));
  const bws = chart.bandwidthRoofs.map((r) => r.bytesPerSecond);
  const cps = chart.computeRoofs.map((r) => r.macPerSecond);
  const maxC = cps.length ? Math.max(...cps) : undefined;
  const maxB = bws.length ? Math.max(...bws) : undefined;

  // x covers the points and every ridge (compute roof / bandwidth roof); y the points and roofs.
  const xs = [...shown.map((p) => p.intensity), ...cps.flatMap((c) => bws.map((b) => c / b))];
  const ys = [...shown.map((p) => p.performance), ...cps];
  if (xs.length === 0) xs.push(1);
  if (ys.length === 0) ys.push(...bws.map((b) => b * xs[0]!), 1);
  const x = logScale(xs, PLOT.left, PLOT.right, 3);
  const yHi = Math.max(...ys) * 2;
  const y = logScale([yHi, Math.min(...ys), yHi / 1000], PLOT.bottom, PLOT.top, 3);
  const [xMin, xMax, yMin, yMax] = [10 ** x.lo, 10 ** x.hi, 10 ** y.lo, 10 ** y.hi];

  const body = axes(
    x,
    y,
    chart.xLabel ?? "Arithmetic intensity (MAC/byte)",
    chart.yLabel ?? "Performance (MAC/s)",
  );
  const legend: LegendEntry[] = [];
  let colour = 0;
  chart.bandwidthRoofs.forEach((r) => {
    const b = r.bytesPerSecond;
    const x0 = Math.max(xMin, yMin / b);
    const x1 = Math.min(xMax, yMax / b, maxC !== undefined ? maxC / b : Infinity);
    const color = PALETTE[colour++ % PALETTE.length]!;
    if (x0 < x1) {
      const pts = { x1: x.px(x0), y1: y.px(b * x0), x2: x.px(x1), y2: y.px(b * x1) };
      body.push(el("line", { ...pts, stroke: color, "stroke-width": 2.5 }));
    }
    legend.push({ label: `${r.name}: ${formatQuantity(b, "B/s")}`, color, swatch: "line" });
  });
  chart.computeRoofs.forEach((r) => {
    const c = r.macPerSecond;
    const x0 = Math.max(xMin, maxB !== undefined ? c / maxB : xMin);
    const color = PALETTE[colour++ % PALETTE.length]!;
    if (x0 < xMax && c >= yMin && c <= yMax) {
      const py = y.px(c);
      body.push(
        el("line", {
          x1: x.px(x0),
          y1: py,
          x2: PLOT.right,
          y2: py,
          stroke: color,
          "stroke-width": 2.5,
          "stroke-dasharray": "7 4",
        }),
      );
    }
    legend.push({ label: `${r.name}: ${formatQuantity(c, "MAC/s")}`, color, swatch: "dash" });
  });

  const groups: string[] = [];
  for (const p of shown) if (!groups.includes(p.group ?? "")) groups.push(p.group ?? "");
  const groupColour = (g: string) => PALETTE[(colour + groups.indexOf(g)) % PALETTE.length]!;
  for (const g of groups)
    legend.push({ label: g === "" ? "points" : g, color: groupColour(g), swatch: "circle" });
  const marks = shown.map((p) => ({ x: x.px(p.intensity), y: y.px(p.performance), p }));
  for (const m of marks) {
    const fill = groupColour(m.p.group ?? "");
    body.push(el("circle", { cx: m.x, cy: m.y, r: 4.5, fill, stroke: "#222222", "stroke-width": 0.8 }));
  }
  // Points drawn on top of each other share one label ("L0, L1") instead of drifting apart.
  const items: { x: number; y: number; label: string }[] = [];
  for (const m of marks) {
    const near = items.find((it) => Math.abs(it.x - m.x) < 4 && Math.abs(it.y - m.y) < 4);
    if (near) {
      near.label += `, ${m.p.name}`;
      near.x = Math.max(near.x, m.x); // keep the label clear of every merged marker
      near.y = Math.min(near.y, m.y);
    } else items.push({ x: m.x, y: m.y, label: m.p.name });
  }
  placeLabels(items).forEach((at, i) => {
    body.push(text(at.x, at.y, items[i]!.label, { "font-size": 11, fill: "#222222" }));
  });
  body.push(legendColumn(legend, PLOT.right + 20, PLOT.top));
  if (hidden.length) {
    const names = hidden.map((p) => p.name).join(", ");
    body.push(
      text(PLOT.left, H - 10, `Not plotted (zero or negative values): ${names}`, {
        "font-size": 11,
        fill: "#555555",
      }),
    );
  }
  return svgDocument(W, H, chart.title, body, opts);
}
