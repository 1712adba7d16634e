/**
 * Text helpers shared by the SVG, HTML and markdown writers: escaping and deterministic number
 * formatting (fixed rules, no locale).
 */

// XML 1.0 cannot carry these code points even escaped; they become U+FFFD.
const XML_INVALID =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for XML/HTML element content and attribute values alike. */
export function escapeXml(s: string): string {
  return s.replace(XML_INVALID, "\uFFFD").replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** HTML uses the same escaping (the page is also well-formed XML where it matters). */
export const escapeHtml = escapeXml;

/** A coordinate or length for SVG: at most 2 decimals, no trailing zeros, never "-0". */
export function fmtCoord(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) || r === 0 ? "0" : String(r);
}

const SI: readonly [number, string][] = [
  [1e12, "T"],
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "k"],
];

/** A value split into 3-significant-digit number and SI prefix: 51.2e9 → ["51.2", "G"]. */
export function siParts(v: number): [string, string] {
  if (!Number.isFinite(v)) return [String(v), ""];
  const a = Math.abs(v);
  for (const [scale, prefix] of SI) {
    // 0.9995 so that 999.9k prints as "1M", not "1000k".
    if (a >= scale * 0.9995) return [trimNumber(v / scale), prefix];
  }
  return [trimNumber(v), ""];
}

/** Compact SI form for tick labels: 51200000000 → "51.2G", 0.5 → "0.5", 0.00125 → "0.00125". */
export function formatSi(v: number): string {
  return siParts(v).join("");
}

/** A quantity with its unit: (8e9, "B/s") → "8 GB/s". */
export function formatQuantity(v: number, unit: string): string {
  const [num, prefix] = siParts(v);
  return `${num} ${prefix}${unit}`;
}

/** 3 significant digits, plain decimal notation, trailing zeros dropped. */
export function trimNumber(v: number): string {
  if (v === 0) return "0";
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v)) + 1e-9));
  const s = v.toFixed(Math.min(digits, 20));
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** Rough text width for layout (sans-serif averages ~0.6 em per character). */
export function textWidth(s: string, fontSize: number): number {
  return [...s].length * fontSize * 0.6;
}
