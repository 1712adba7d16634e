/**
 * JSON text with positions: parse a target file and report a syntax error by line and column
 * (Node's own messages do not reliably carry one), and find the line a JSON path is written on so
 * that schema errors point into the file.
 */
import { invalidInput } from "../diag/index.js";
import { lineColumn, type TextPos } from "../util/json.js";
import { formatPath, type PathSeg } from "./json-path.js";

export type { TextPos };

class JsonSyntaxError extends Error {
  constructor(
    readonly pos: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** A small recursive-descent JSON reader that records where each path's value (or key) starts. */
class Locator {
  private pos = 0;
  readonly at = new Map<string, number>();

  constructor(private readonly text: string) {}

  run(): void {
    this.ws();
    this.value([]);
    this.ws();
    if (this.pos < this.text.length) this.fail("unexpected text after the JSON value");
  }

  private fail(reason: string): never {
    throw new JsonSyntaxError(this.pos, reason);
  }

  private ws(): void {
    while (this.pos < this.text.length && " \t\r\n".includes(this.text[this.pos]!)) this.pos++;
  }

  private value(path: PathSeg[]): void {
    const key = formatPath(path);
    if (!this.at.has(key)) this.at.set(key, this.pos);
    const c = this.text[this.pos];
    if (c === "{") this.object(path);
    else if (c === "[") this.array(path);
    else if (c === '"') this.string();
    else if (c !== undefined && /[-0-9]/.test(c)) this.number();
    else this.literal();
  }

  private object(path: PathSeg[]): void {
    this.pos++;
    this.ws();
    if (this.text[this.pos] === "}") return void this.pos++;
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('expected a property name in double quotes or "}"');
      const keyPos = this.pos;
      const key = this.string();
      this.at.set(formatPath([...path, key]), keyPos);
      this.ws();
      if (this.text[this.pos] !== ":") this.fail('expected ":" after a property name');
      this.pos++;
      this.ws();
      this.value([...path, key]);
      this.ws();
      const c = this.text[this.pos];
      if (c === "}") return void this.pos++;
      if (c !== ",") this.fail('expected "," or "}" after a property value');
      this.pos++;
      this.ws();
    }
  }

  private array(path: PathSeg[]): void {
    this.pos++;
    this.ws();
    if (this.text[this.pos] === "]") return void this.pos++;
    for (let i = 0; ; i++) {
      this.value([...path, i]);
      this.ws();
      const c = this.text[this.pos];
      if (c === "]") return void this.pos++;
      if (c !== ",") this.fail('expected "," or "]" after an array element');
      this.pos++;
      this.ws();
    }
  }

  private string(): string {
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(this.text.slice(this.pos));
    if (!m) this.fail("invalid or unterminated string");
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  private number(): void {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!m) this.fail("invalid number");
    this.pos += m[0].length;
  }

  private literal(): void {
    for (const lit of ["true", "false", "null"]) {
      if (this.text.startsWith(lit, this.pos)) {
        this.pos += lit.length;
        return;
      }
    }
    this.fail(this.pos >= this.text.length ? "unexpected end of file" : "expected a JSON value");
  }
}

/** Parse a JSON file's text; a syntax error becomes `target/json` (exit 2) with line and column. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const loc = new Locator(text);
    let offset = text.length;
    let reason = e instanceof Error ? e.message : String(e);
    try {
      loc.run();
    } catch (se) {
      if (se instanceof JsonSyntaxError) {
        offset = se.pos;
        reason = se.message;
      }
    }
    const { line, column } = lineColumn(text, offset);
    throw invalidInput("target/json", `${file}:${line}:${column}: invalid JSON: ${reason}`, {
      at: { file, line, column, byteOffset: Buffer.byteLength(text.slice(0, offset)) },
      fix: "correct the JSON syntax at that position (target files are plain JSON: no comments, no trailing commas)",
    });
  }
}

/**
 * Where the value of `path` starts in `text` (for a path that does not exist, its nearest
 * existing ancestor). Undefined when the text cannot be scanned.
 */
export function locatePath(text: string, path: readonly PathSeg[]): TextPos | undefined {
  const loc = new Locator(text);
  try {
    loc.run();
  } catch {
    return undefined;
  }
  for (let n = path.length; n >= 0; n--) {
    const off = loc.at.get(formatPath(path.slice(0, n)));
    if (off !== undefined) return lineColumn(text, off);
  }
  return undefined;
}
