/**
 * Canonical JSON: object keys sorted, no whitespace. Used for fingerprints and anything hashed, so
 * that the same value always gives the same bytes whatever order it was built in. Also pretty JSON
 * for artifacts, and the line/column of an offset in a JSON text for error messages.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** Pretty, deterministic JSON for artifacts people read (2-space indent, final newline). */
export function prettyJson(value: unknown): string {
  return `${JSON.stringify(value, jsonReplacer, 2)}\n`;
}

function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  return v;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v === "bigint") return v.toString();
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** 1-based line and column of a position in a text. */
export interface TextPos {
  readonly line: number;
  readonly column: number;
}

/** The line and column of character offset `offset` of `text` (lines end at "\n"). */
export function lineColumn(text: string, offset: number): TextPos {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
