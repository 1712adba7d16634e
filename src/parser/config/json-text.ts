/**
 * JSON text for config files: JSON paths, positions and a strict-but-explaining reader.
 *
 * `JSON.parse` does the fast path. When it fails, a small recursive-descent reader re-reads the
 * text to say exactly where and why, and accepts Python's `NaN`/`Infinity`/`-Infinity` (which
 * `json.dumps` writes) so the caller can decide per key whether a non-finite value is acceptable.
 * The same reader locates the line/column of any JSON path for error messages.
 */

import { lineColumn, type TextPos } from "../../util/json.js";

export type PathSegment = string | number;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `$.text_config.layer_types[3]`, `$["transformers.js_config"]`. */
export function childPath(base: string, seg: PathSegment): string {
  if (typeof seg === "number") return `${base}[${seg}]`;
  return IDENT.test(seg) ? `${base}.${seg}` : `${base}[${JSON.stringify(seg)}]`;
}

export function formatPath(segs: readonly PathSegment[], base = "$"): string {
  let p = base;
  for (const s of segs) p = childPath(p, s);
  return p;
}

export { lineColumn, type TextPos };

/** A syntax error with its byte offset in the text. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface NonFiniteAt {
  readonly path: string;
  readonly token: "NaN" | "Infinity" | "-Infinity";
  readonly offset: number;
}

export interface LenientResult {
  readonly value: unknown;
  readonly nonFinite: readonly NonFiniteAt[];
  /** JSON path → offset of the value (and of the key, for object members). */
  readonly offsets: ReadonlyMap<string, number>;
}

const MAX_DEPTH = 512;

/** Reads JSON plus NaN/Infinity/-Infinity; throws JsonSyntaxError with the offset of the problem. */
export function parseLenientJson(text: string): LenientResult {
  const r = new Reader(text);
  r.ws();
  const value = r.value("$", 0);
  r.ws();
  if (r.i < text.length) throw new JsonSyntaxError("unexpected text after the JSON value", r.i);
  return { value, nonFinite: r.nonFinite, offsets: r.offsets };
}

class Reader {
  i = 0;
  readonly nonFinite: NonFiniteAt[] = [];
  readonly offsets = new Map<string, number>();
  constructor(private readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  fail(msg: string, at = this.i): never {
    throw new JsonSyntaxError(msg, at);
  }

  value(path: string, depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    if (!this.offsets.has(path)) this.offsets.set(path, this.i);
    const c = this.s[this.i];
    if (c === "{") return this.object(path, depth);
    if (c === "[") return this.array(path, depth);
    if (c === '"') return this.string();
    if (c === "t") return this.literal("true", true);
    if (c === "f") return this.literal("false", false);
    if (c === "n") return this.literal("null", null);
    if (c === "N") return this.nonFiniteToken(path, "NaN", Number.NaN);
    if (c === "I") return this.nonFiniteToken(path, "Infinity", Number.POSITIVE_INFINITY);
    if (c === "-" && this.s.startsWith("-Infinity", this.i))
      return this.nonFiniteToken(path, "-Infinity", Number.NEGATIVE_INFINITY);
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    if (c === undefined) this.fail("unexpected end of text, expected a value");
    return this.fail(`unexpected character ${JSON.stringify(c)}, expected a value`);
  }

  literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail(`invalid literal, expected ${word}`);
    this.i += word.length;
    return v;
  }

  nonFiniteToken(path: string, token: NonFiniteAt["token"], v: number): number {
    if (!this.s.startsWith(token, this.i)) this.fail("unexpected character, expected a value");
    this.nonFinite.push({ path, token, offset: this.i });
    this.i += token.length;
    return v;
  }

  number(): number {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(
      this.s.slice(this.i, this.i + 400),
    );
    if (!m || m[0] === "-" || m[0] === "") this.fail("invalid number");
    this.i += m[0].length;
    return Number(m[0]);
  }

  string(): string {
    const start = this.i;
    this.i++; // opening quote
    let out = "";
    for (;;) {
      if (this.i >= this.s.length) this.fail("unterminated string", start);
      const c = this.s[this.i] as string;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === "\\") {
        out += this.escape();
        continue;
      }
      if (c.charCodeAt(0) < 0x20) this.fail("control character in string");
      out += c;
      this.i++;
    }
  }

  escape(): string {
    const e = this.s[this.i + 1];
    const simple: Record<string, string> = {
      '"': '"',
      "\\": "\\",
      "/": "/",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
    };
    if (e !== undefined && Object.hasOwn(simple, e)) {
      this.i += 2;
      return simple[e] as string;
    }
    if (e === "u") {
      const hex = this.s.slice(this.i + 2, this.i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("invalid \\u escape");
      this.i += 6;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    return this.fail("invalid escape in string");
  }

  array(path: string, depth: number): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(childPath(path, out.length), depth + 1));
      this.ws();
      const c = this.s[this.i];
      if (c === ",") this.i++;
      else if (c === "]") {
        this.i++;
        return out;
      } else this.fail("expected ',' or ']' in array");
    }
  }

  object(path: string, depth: number): Record<string, unknown> {
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail("expected a string key in object");
      const keyAt = this.i;
      const key = this.string();
      const p = childPath(path, key);
      this.offsets.set(p, keyAt);
      this.ws();
      if (this.s[this.i] !== ":") this.fail("expected ':' after object key");
      this.i++;
      this.ws();
      // defineProperty: a "__proto__" key must become an own property, as JSON.parse makes it.
      Object.defineProperty(out, key, {
        value: this.value(p, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.ws();
      const c = this.s[this.i];
      if (c === ",") this.i++;
      else if (c === "}") {
        this.i++;
        return out;
      } else this.fail("expected ',' or '}' in object");
    }
  }
}

/** Line and column of the key (or array element) at `path`, when the text is readable. */
export function locatePath(text: string, path: string): TextPos | undefined {
  try {
    const off = parseLenientJson(text).offsets.get(path);
    return off === undefined ? undefined : lineColumn(text, off);
  } catch {
    return undefined;
  }
}

/** Short, readable rendering of a JSON value for messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
