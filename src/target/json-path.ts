/**
 * JSON paths as the target stage writes them: `$.ports[2].width_bits`. One format for error
 * messages, `sources` keys, provenance and overrides. Parsing also accepts a name selector
 * (`ports[hp2]`), resolved against the item's `name`, and a missing `$.` prefix.
 */

export type PathSeg = string | number;
/** A parsed path segment before resolution: a key, an index or a `[name]` selector. */
export type PathSelector = { key: string } | { index: number } | { byName: string };

const IDENT_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function formatPath(segs: readonly PathSeg[]): string {
  let s = "$";
  for (const seg of segs) {
    if (typeof seg === "number") s += `[${seg}]`;
    else if (IDENT_RE.test(seg)) s += `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}

/** Parse `a.b[2]`, `$.a.b[2]`, `a[hp0].c` or `a["odd key"]`; throws an Error with a reason. */
export function parsePath(path: string): PathSelector[] {
  let rest = path.trim();
  if (rest === "$" || rest.startsWith("$.") || rest.startsWith("$[")) rest = rest.slice(1);
  const out: PathSelector[] = [];
  let i = 0;
  while (i < rest.length) {
    const c = rest[i];
    if (c === ".") {
      i++;
      continue;
    }
    if (c === "[" && rest[i + 1] === '"') {
      const m = /^"(?:[^"\\]|\\.)*"\]/.exec(rest.slice(i + 1));
      if (!m) throw new Error(`unclosed "[" in "${path}"`);
      out.push({ key: JSON.parse(m[0].slice(0, -1)) as string });
      i += 1 + m[0].length;
      continue;
    }
    if (c === "[") {
      const end = rest.indexOf("]", i);
      if (end < 0) throw new Error(`unclosed "[" in "${path}"`);
      const inner = rest.slice(i + 1, end).trim();
      if (/^\d+$/.test(inner)) out.push({ index: Number(inner) });
      else if (inner.length > 0) out.push({ byName: inner });
      else throw new Error(`empty "[]" in "${path}"`);
      i = end + 1;
      continue;
    }
    const m = /^[^.[\]]+/.exec(rest.slice(i));
    if (!m) throw new Error(`unexpected "${c}" in "${path}"`);
    out.push({ key: m[0] });
    i += m[0].length;
  }
  if (out.length === 0) throw new Error(`empty path "${path}"`);
  return out;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The value at `segs`, or undefined when any step is missing. */
export function getAt(root: unknown, segs: readonly PathSeg[]): unknown {
  let v: unknown = root;
  for (const seg of segs) {
    if (typeof seg === "number") {
      if (!Array.isArray(v)) return undefined;
      v = v[seg];
    } else {
      if (!isPlainObject(v) || !Object.hasOwn(v, seg)) return undefined;
      v = v[seg];
    }
  }
  return v;
}

/** Every leaf (a value that is not a non-empty object or array) with its path, in document order. */
export function leaves(root: unknown, prefix: readonly PathSeg[] = []): Array<[PathSeg[], unknown]> {
  const out: Array<[PathSeg[], unknown]> = [];
  const walk = (v: unknown, segs: PathSeg[]) => {
    if (Array.isArray(v) && v.length > 0) {
      for (let i = 0; i < v.length; i++) walk(v[i], [...segs, i]);
    } else if (isPlainObject(v) && Object.keys(v).length > 0)
      for (const [k, x] of Object.entries(v)) walk(x, [...segs, k]);
    else out.push([segs, v]);
  };
  walk(root, [...prefix]);
  return out;
}

/** Short JSON rendering of a value for messages. */
export function preview(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
