/**
 * A very small SVG vocabulary for the charts: elements with escaped attributes, axes ticks, a
 * legend. No ids (several charts share one HTML page), no external fonts, no scripts.
 */
import { escapeXml, fmtCoord, textWidth } from "./text.js";

export type Attrs = Readonly<Record<string, string | number | undefined>>;

function attrText(attrs: Attrs): string {
  let s = "";
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    s += ` ${k}="${typeof v === "number" ? fmtCoord(v) : escapeXml(v)}"`;
  }
  return s;
}

/** `<tag a="…">children</tag>`, or self-closing without children. Children are already markup. */
export function el(tag: string, attrs: Attrs, children?: string | readonly string[]): string {
  const inner =
    children === undefined ? undefined : typeof children === "string" ? children : children.join("");
  return inner === undefined || inner === ""
    ? `<${tag}${attrText(attrs)}/>`
    : `<${tag}${attrText(attrs)}>${inner}</${tag}>`;
}

/** A text element; `content` is plain text and gets escaped. */
export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el("text", { x, y, ...attrs }, escapeXml(content));
}

export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** Colour-blind-safe palette (Okabe–Ito), then greys. */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#F0E442",
  "#000000",
  "#999999",
  "#666666",
];

export interface SvgDocOptions {
  /** Standalone files get the XML namespace; inline SVG inside HTML does not need it. */
  readonly standalone?: boolean;
}

/** The outer `<svg>` with a white background, a `<title>` for accessibility and the chart title. */
export function svgDocument(
  width: number,
  height: number,
  title: string,
  body: readonly string[],
  opts: SvgDocOptions = {},
): string {
  const standalone = opts.standalone ?? true;
  const root = {
    ...(standalone ? { xmlns: "http://www.w3.org/2000/svg" } : {}),
    width,
    height,
    viewBox: `0 0 ${fmtCoord(width)} ${fmtCoord(height)}`,
    role: "img",
    "font-family": FONT,
  };
  const parts = [
    el("title", {}, escapeXml(title)),
    el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }),
    text(width / 2, 24, title, { "text-anchor": "middle", "font-size": 16, "font-weight": "bold" }),
    ...body,
  ];
  return `${el("svg", root, parts.join("\n"))}\n`;
}

/** Decade ticks 10^lo .. 10^hi for a log axis. */
export function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) out.push(10 ** e);
  return out;
}

/** Round linear ticks from 0 to at least `max` (about `count` of them): steps of 1, 2 or 5 × 10^k. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const v = Number((i * step).toPrecision(12));
    ticks.push(v);
    if (v >= max) break;
  }
  return ticks;
}

export type Swatch = "rect" | "line" | "dash" | "circle";

export interface LegendEntry {
  readonly label: string;
  readonly color: string;
  readonly swatch: Swatch;
}

function swatchMarkup(e: LegendEntry, x: number, y: number): string {
  switch (e.swatch) {
    case "rect":
      return el("rect", { x, y: y - 9, width: 14, height: 10, fill: e.color });
    case "circle":
      return el("circle", {
        cx: x + 7,
        cy: y - 4,
        r: 4,
        fill: e.color,
        stroke: "#333333",
        "stroke-width": 0.5,
      });
    case "line":
    case "dash":
      return el("line", {
        x1: x,
        y1: y - 4,
        x2: x + 14,
        y2: y - 4,
        stroke: e.color,
        "stroke-width": 2,
        "stroke-dasharray": e.swatch === "dash" ? "5 3" : undefined,
      });
  }
}

/** A legend laid out in rows that wrap at `maxWidth`; returns its markup and height. */
export function legendRows(
  entries: readonly LegendEntry[],
  x: number,
  y: number,
  maxWidth: number,
  fontSize = 12,
): { markup: string; height: number } {
  const rowH = fontSize + 8;
  const parts: string[] = [];
  let cx = x;
  let cy = y + fontSize;
  for (const e of entries) {
    const w = 20 + textWidth(e.label, fontSize) + 16;
    if (cx > x && cx + w > x + maxWidth) {
      cx = x;
      cy += rowH;
    }
    parts.push(swatchMarkup(e, cx, cy), text(cx + 20, cy, e.label, { "font-size": fontSize }));
    cx += w;
  }
  return { markup: el("g", { class: "legend" }, parts), height: entries.length ? cy - y + 6 : 0 };
}

/** A legend as one column (one entry per line), for the right-hand side of a plot. */
export function legendColumn(entries: readonly LegendEntry[], x: number, y: number, fontSize = 12): string {
  const parts: string[] = [];
  entries.forEach((e, i) => {
    const cy = y + fontSize + i * (fontSize + 8);
    parts.push(swatchMarkup(e, x, cy), text(x + 20, cy, e.label, { "font-size": fontSize }));
  });
  return el("g", { class: "legend" }, parts);
}
