/**
 * Small helpers that turn values into C source text: comments and string literals kept to
 * printable ASCII (any C toolchain, no trigraphs, no comment terminators), identifiers, and
 * integer/float literals that round-trip exactly.
 */

const ASCII: Readonly<Record<string, string>> = {
  "×": "x",
  "→": "->",
  "–": "-",
  "—": "-",
  "·": "*",
  "≥": ">=",
  "≤": "<=",
};

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => ASCII[c] ?? "?");
}

/** Text safe inside a C block comment. */
export function cComment(text: string): string {
  return printable(text).replace(/\*\//g, "* /").replace(/\/\*/g, "/ *");
}

/** A C string literal (escapes quotes, backslashes and '?' to avoid trigraphs). */
export function cString(text: string): string {
  return `"${printable(text).replace(/[\\"?]/g, (c) => `\\${c}`)}"`;
}

/** A C identifier fragment: letters, digits and underscores only. */
export function cIdent(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** An unsigned 64-bit literal in hex. */
export function hex64(v: number | bigint): string {
  const b = typeof v === "bigint" ? v : BigInt(v);
  return `0x${b.toString(16).toUpperCase().padStart(8, "0")}ull`;
}

/** A 64-bit instruction word: all 16 hex digits, as listings and .memh files show it. */
export function hexWord(v: bigint): string {
  return `0x${v.toString(16).toUpperCase().padStart(16, "0")}ull`;
}

/** A signed 64-bit literal (INT64_MIN written as an expression, as C requires). */
export function i64(v: number | bigint): string {
  const b = typeof v === "bigint" ? v : BigInt(v);
  if (b === -(2n ** 63n)) return "INT64_MIN";
  if (b === 2n ** 63n - 1n) return "INT64_MAX";
  return `${b}ll`;
}

/**
 * A double literal that reads back to exactly `v` (shortest round-trip digits, which C's strtod
 * honours), with the infinities and NaN through <math.h>'s macros.
 */
export function f64(v: number): string {
  if (Number.isNaN(v)) return "NAN";
  if (v === Number.POSITIVE_INFINITY) return "INFINITY";
  if (v === Number.NEGATIVE_INFINITY) return "(-INFINITY)";
  if (Object.is(v, -0)) return "-0.0";
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** Lines of comma-separated items, `perLine` to a line, indented. */
export function cList(items: readonly string[], perLine: number, indent = "  "): string {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += perLine)
    out.push(`${indent}${items.slice(i, i + perLine).join(", ")},`);
  return out.join("\n");
}
