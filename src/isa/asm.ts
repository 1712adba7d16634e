/**
 * The pccx assembler: text → 64-bit words. One instruction per line, a mnemonic then named fields
 * `name=value` (decimal or 0x hex, enum names, uint aliases, flags as `accm|w_scale`), `;` or `#`
 * comments, `name:` labels (symbolic names for instruction indices) and `.word <value>` for a raw
 * word. Omitted fields are 0. Every error is a PccxError at file:line:column naming the token.
 * The syntax is documented in docs/isa.md.
 */
import { invalidInput, PccxError, type SourceLoc } from "../diag/index.js";
import { encode } from "./codec.js";
import { type CompiledField, type CompiledOpcode, compiledIsa, type IsaOptions } from "./compiled.js";

/** A label: `name` stands for the instruction index `index` (may equal the word count: the end). */
export interface AsmLabel {
  readonly name: string;
  readonly index: number;
}

export interface AsmProgram {
  readonly words: BigUint64Array;
  /** In index order (definition order for labels of the same index). */
  readonly labels: readonly AsmLabel[];
  /** Source line of each word. */
  readonly lines: readonly number[];
}

export interface AsmOptions extends IsaOptions {
  /** File name used in error locations. */
  readonly file?: string;
}

interface Token {
  readonly text: string;
  readonly col: number;
  readonly kind: "word" | "punct";
}

const WORD_CHAR = /[A-Za-z0-9_.]/;
const LABEL = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const NUMBER = /^(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$/;
const MAX_WORD = (1n << 64n) - 1n;

/** Assemble a whole source text. */
export function assemble(text: string, opts: AsmOptions = {}): AsmProgram {
  const isa = compiledIsa(opts);
  const words: bigint[] = [];
  const lines: number[] = [];
  const labels: AsmLabel[] = [];
  const labelLines = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const ln = new Line(raw, i + 1, opts.file);
    let toks = ln.tokens;
    while (toks.length >= 2 && toks[1]!.text === ":") {
      const name = toks[0]!;
      if (name.kind !== "word" || !LABEL.test(name.text))
        throw ln.error("isa/asm-syntax", name, "bad label name");
      const prev = labelLines.get(name.text);
      if (prev !== undefined) {
        throw ln.error(
          "isa/asm-duplicate-label",
          name,
          `label ${name.text} is already defined on line ${prev}`,
        );
      }
      labelLines.set(name.text, ln.line);
      labels.push({ name: name.text, index: words.length });
      toks = toks.slice(2);
    }
    if (!toks.length) return;
    words.push(statement(ln, toks, isa.byMnemonic, opts));
    lines.push(ln.line);
  });
  return { words: BigUint64Array.from(words), labels, lines };
}

/** Assemble one instruction written on one line (e.g. the CLI's `isa encode` arguments). */
export function assembleLine(text: string, opts: AsmOptions = {}): bigint {
  const p = assemble(text, opts);
  if (p.words.length !== 1 || p.labels.length) {
    throw invalidInput("isa/asm-syntax", `expected exactly one instruction, got "${text.trim()}"`, {
      at: { file: opts.file ?? "<input>", line: 1, column: 1 },
    });
  }
  return p.words[0]!;
}

/** One source line: its tokens and a way to raise located errors. */
class Line {
  readonly tokens: Token[] = [];

  constructor(
    readonly raw: string,
    readonly line: number,
    readonly file: string | undefined,
  ) {
    this.tokenize();
  }

  private tokenize(): void {
    const s = this.raw;
    let i = 0;
    while (i < s.length) {
      const ch = s[i]!;
      if (ch === ";" || ch === "#") return;
      if (ch === " " || ch === "\t") {
        i++;
      } else if (WORD_CHAR.test(ch)) {
        const start = i;
        while (i < s.length && WORD_CHAR.test(s[i]!)) i++;
        this.tokens.push({ text: s.slice(start, i), col: start + 1, kind: "word" });
      } else if ("=,|+:".includes(ch)) {
        this.tokens.push({ text: ch, col: i + 1, kind: "punct" });
        i++;
      } else {
        throw this.error("isa/asm-syntax", { text: ch, col: i + 1, kind: "punct" }, "unexpected character");
      }
    }
  }

  at(tok: Token | undefined): SourceLoc {
    return { file: this.file ?? "<input>", line: this.line, column: tok?.col ?? this.raw.length + 1 };
  }

  error(code: string, tok: Token | undefined, message: string, fix?: string): PccxError {
    const near = tok ? ` near "${tok.text}"` : " at the end of the line";
    return invalidInput(code, `${message}${near}`, { at: this.at(tok), ...(fix ? { fix } : {}) });
  }
}

function statement(
  ln: Line,
  toks: readonly Token[],
  ops: ReadonlyMap<string, CompiledOpcode>,
  opts: AsmOptions,
): bigint {
  const head = toks[0]!;
  if (head.text.toLowerCase() === ".word") return rawWord(ln, toks);
  const op = head.kind === "word" ? ops.get(head.text.toUpperCase()) : undefined;
  if (!op) {
    throw ln.error(
      "isa/asm-unknown-mnemonic",
      head,
      `unknown mnemonic`,
      `use one of ${[...ops.keys()].join(", ")}, or .word`,
    );
  }
  const values: Record<string, number | string> = {};
  const valueTok = new Map<string, Token>();
  let i = 1;
  while (i < toks.length) {
    const name = toks[i]!;
    const f = name.kind === "word" ? op.fieldByName.get(name.text) : undefined;
    if (!f) {
      const fix = `fields of ${op.mnemonic}: ${op.valueFields.map((x) => x.name).join(", ")}`;
      throw ln.error("isa/asm-unknown-field", name, `${op.mnemonic} has no field "${name.text}"`, fix);
    }
    if (valueTok.has(f.name))
      throw ln.error("isa/asm-duplicate-field", name, `field ${f.name} is given twice`);
    if (toks[i + 1]?.text !== "=")
      throw ln.error("isa/asm-syntax", toks[i + 1], `expected "=" after ${f.name}`);
    const [value, end] = fieldValue(ln, op, f, toks, i + 2);
    values[f.name] = value;
    valueTok.set(f.name, toks[i + 2]!);
    i = end;
    if (toks[i]?.text === ",") i++;
  }
  for (const f of op.valueFields) values[f.name] ??= 0;
  try {
    return encode({ opcode: op.mnemonic, fields: values }, opts);
  } catch (e) {
    if (!(e instanceof PccxError)) throw e;
    // Point at the value of the field the encoder names (jsonPath "fields.<name>[.<flag>]").
    const field = e.at?.jsonPath?.split(".")[1];
    const tok = (field && valueTok.get(field)) || head;
    throw invalidInput(e.code, `${e.message} (near "${tok.text}")`, {
      at: ln.at(tok),
      notes: e.notes,
      ...(e.fix ? { fix: e.fix } : {}),
    });
  }
}

/** Parse the value of `f` starting at toks[i]; returns the value and the index after it. */
function fieldValue(
  ln: Line,
  op: CompiledOpcode,
  f: CompiledField,
  toks: readonly Token[],
  i: number,
): [number | string, number] {
  const first = toks[i];
  if (first?.kind !== "word") throw ln.error("isa/asm-syntax", first, `expected a value for ${f.name}`);
  if (f.kind !== "flags") {
    if (toks[i + 1]?.text === "|" || toks[i + 1]?.text === "+") {
      throw ln.error("isa/asm-syntax", toks[i + 1], `${f.name} takes a single value`);
    }
    if (NUMBER.test(first.text)) return [number(ln, first), i + 1];
    if (f.kind === "enum") return [first.text.toUpperCase(), i + 1];
    return [first.text, i + 1];
  }
  // flags: names and numbers joined by | or +, OR-ed together.
  let raw = 0;
  let j = i;
  for (;;) {
    const t = toks[j];
    if (t?.kind !== "word")
      throw ln.error("isa/asm-syntax", t, `expected a flag name of ${op.mnemonic} ${f.name}`);
    if (NUMBER.test(t.text)) raw |= number(ln, t);
    else {
      const bit = f.flags.find((x) => x.name === t.text);
      if (!bit) {
        const fix = `flags of ${op.mnemonic}: ${f.flags.map((x) => x.name).join(", ")} (or 0 for none)`;
        throw ln.error("isa/asm-unknown-flag", t, `${op.mnemonic} ${f.name} has no flag "${t.text}"`, fix);
      }
      raw |= bit.mask;
    }
    j++;
    if (toks[j]?.text !== "|" && toks[j]?.text !== "+") return [raw, j];
    j++;
  }
}

function number(ln: Line, tok: Token): number {
  const v = Number(tok.text.replaceAll("_", ""));
  if (!Number.isSafeInteger(v)) throw ln.error("isa/field-range", tok, "number too large for any field");
  return v;
}

function rawWord(ln: Line, toks: readonly Token[]): bigint {
  const t = toks[1];
  if (t?.kind !== "word" || !NUMBER.test(t.text))
    throw ln.error("isa/asm-syntax", t, "expected a number after .word");
  if (toks.length > 2) throw ln.error("isa/asm-syntax", toks[2], ".word takes one value");
  const w = BigInt(t.text.replaceAll("_", ""));
  if (w > MAX_WORD) throw ln.error("isa/word-range", t, ".word value does not fit 64 bits");
  return w;
}
