/**
 * JSON layouts for artifacts people both read and grep: pretty (2-space indent) down to the arrays
 * named in `oneLine`, whose elements are written one per line (a step, an instruction, a
 * relocation per line). Keeps a whole model's program.json small and diffable. Also the
 * Python-compatible form the pccx tools write (`json.dumps(indent=2, sort_keys=True)`).
 */

/**
 * Pretty JSON where every element of an array (or every entry of an object) stored under a key in
 * `oneLine` takes one line, and arrays of scalars are always written on one line.
 */
export function linesJson(value: unknown, oneLine: ReadonlySet<string>): string {
  return `${render(value, "", oneLine)}\n`;
}

const isScalar = (x: unknown) => x === null || typeof x !== "object";

function render(v: unknown, indent: string, oneLine: ReadonlySet<string>): string {
  if (isScalar(v)) return JSON.stringify(v) ?? "null";
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    if (v.every(isScalar)) return JSON.stringify(v);
    return `[\n${v.map((x) => inner + render(x, inner, oneLine)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return "{}";
  const body = entries.map(
    ([k, x]) =>
      `${inner}${JSON.stringify(k)}: ${oneLine.has(k) ? flatItems(x, inner) : render(x, inner, oneLine)}`,
  );
  return `{\n${body.join(",\n")}\n${indent}}`;
}

/** An array or object with one element / entry per line, each as compact JSON. */
function flatItems(x: unknown, indent: string): string {
  const inner = `${indent}  `;
  if (Array.isArray(x)) {
    return x.length ? `[\n${x.map((e) => inner + JSON.stringify(e)).join(",\n")}\n${indent}]` : "[]";
  }
  if (x !== null && typeof x === "object") {
    const entries = Object.entries(x as Record<string, unknown>).filter(([, e]) => e !== undefined);
    if (!entries.length) return "{}";
    return `{\n${entries.map(([k, e]) => `${inner}${JSON.stringify(k)}: ${JSON.stringify(e)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(x) ?? "null";
}

/**
 * What Python's `json.dumps(value, indent=2, sort_keys=True)` prints (plus a final newline): keys
 * sorted, non-ASCII and DEL escaped as \uXXXX (ensure_ascii). Only for integers, strings, booleans,
 * null, arrays and objects — the pccx program JSON holds nothing else.
 */
export function pythonJson(value: unknown): string {
  const text = JSON.stringify(sortKeys(value), null, 2);
  return `${text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    // Python sorts by code point; JS's default sort compares UTF-16 units (same for the BMP).
    for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
