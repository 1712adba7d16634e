/**
 * Encode one typed instruction to its 64-bit word and decode a word back, through the compiled
 * table. Every invalid input is a PccxError (exit 2) naming the opcode, the field and the value:
 * out-of-range values, unknown names, reserved opcodes, reserved values and non-zero reserved bits.
 * `decode(w, "lenient")` reports those problems as data instead (for disassembly).
 */
import { invalidInput } from "../diag/index.js";
import {
  type CompiledField,
  type CompiledIsa,
  type CompiledOpcode,
  compiledIsa,
  type FieldShift,
  hex,
  type IsaOptions,
} from "./compiled.js";
import type { Instr, LooseInstr } from "./instr.js";
import { checkWord, formatWord, makeWord, wordHi, wordLo } from "./words.js";

/** Something wrong with a word or an instruction, as data. */
export interface IsaProblem {
  /** Stable code, e.g. `isa/field-range`. */
  readonly code: string;
  readonly message: string;
  /** The field concerned ("opcode" for the opcode, "reserved" for reserved bits). */
  readonly field?: string;
  readonly value?: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly word: bigint; readonly instr: Instr }
  | {
      readonly ok: false;
      readonly word: bigint;
      readonly opcode: number;
      readonly mnemonic?: string;
      /** Raw values of the fields that could be read. */
      readonly raw: Readonly<Record<string, number>>;
      readonly problems: readonly IsaProblem[];
    };

export type DecodeMode = "strict" | "lenient";

/** `b` or `hi:lo` bit range in the word. */
export function bitRange(lsb: number, width: number): string {
  return width === 1 ? `${lsb}` : `${lsb + width - 1}:${lsb}`;
}

export function opcodeByMnemonic(isa: CompiledIsa, mnemonic: string): CompiledOpcode {
  const op = isa.byMnemonic.get(mnemonic);
  if (op) return op;
  throw invalidInput("isa/unknown-opcode", `unknown opcode "${mnemonic}"`, {
    fix: `use one of ${[...isa.byMnemonic.keys()].join(", ")}`,
  });
}

/** The 64-bit word of `instr`. Throws PccxError (exit 2) for anything the table does not allow. */
export function encode(instr: Instr | LooseInstr, opts?: IsaOptions): bigint {
  const isa = compiledIsa(opts);
  if (typeof instr !== "object" || instr === null || typeof instr.opcode !== "string") {
    throw invalidInput("isa/bad-instr", "an instruction is an object { opcode, fields }");
  }
  const op = opcodeByMnemonic(isa, instr.opcode);
  const fields = (instr.fields ?? {}) as Readonly<Record<string, unknown>>;
  for (const name of Object.keys(fields)) {
    if (!op.fieldByName.has(name)) {
      throw fieldError(name, "isa/unknown-field", `${op.mnemonic} has no field "${name}"`, {
        fix: `fields of ${op.mnemonic}: ${op.valueFields.map((f) => f.name).join(", ")}`,
      });
    }
  }
  const raw = op.valueFields.map((f) => rawValue(op, f, fields[f.name]));
  const problem = combinationProblem(op, raw);
  if (problem) throw invalidInput(problem.code, problem.message, { fix: "change one of the fields" });
  let hi = (op.code & isa.opcodeField.mHi) << isa.opcodeField.b;
  let lo = 0;
  for (const f of op.valueFields) {
    const v = raw[f.slot]!;
    lo |= (v & f.mLo) << f.a;
    hi |= ((v >>> f.c) & f.mHi) << f.b;
  }
  return makeWord(hi, lo);
}

/** The raw field value of a typed value (number, name or flags object), validated. */
function rawValue(op: CompiledOpcode, f: CompiledField, value: unknown): number {
  if (value === undefined) {
    throw fieldError(f.name, "isa/missing-field", `${op.mnemonic} field ${f.name} is missing`);
  }
  let v: number;
  if (typeof value === "string") v = nameToCode(op, f, value);
  else if (f.kind === "flags" && typeof value === "object" && value !== null) {
    v = flagsObjectToRaw(op, f, value as Record<string, unknown>);
  } else if (typeof value === "number" && Number.isInteger(value) && value >= 0) v = value;
  else {
    throw fieldError(
      f.name,
      "isa/field-type",
      `${op.mnemonic} field ${f.name} = ${show(value)} is not valid`,
      {
        fix: `give ${expected(f)}`,
      },
    );
  }
  const problem = valueProblem(op, f, v);
  if (problem) throw fieldError(f.name, problem.code, problem.message, { fix: `give ${expected(f)}` });
  return v;
}

function nameToCode(op: CompiledOpcode, f: CompiledField, name: string): number {
  const code = f.kind === "flags" ? undefined : f.names.get(name);
  if (code !== undefined) return code;
  const what = f.kind === "enum" ? "a known value" : "a known name";
  const ext = f.spec.kind === "enum" ? f.spec.extensionCodes : undefined;
  throw fieldError(f.name, "isa/bad-name", `${op.mnemonic} field ${f.name} = "${name}" is not ${what}`, {
    fix: `give ${expected(f)}`,
    notes: ext ? [`codes 0x${hex(ext.min)}–0x${hex(ext.max)} may be named by a target extension`] : [],
  });
}

function flagsObjectToRaw(op: CompiledOpcode, f: CompiledField, obj: Record<string, unknown>): number {
  let v = 0;
  for (const [name, bit] of Object.entries(obj)) {
    const fl = f.flags.find((x) => x.name === name);
    const path = `${f.name}.${name}`;
    if (!fl) {
      throw fieldError(path, "isa/bad-flag", `${op.mnemonic} field ${f.name} has no flag "${name}"`, {
        fix: `flags of ${op.mnemonic}: ${f.flags.map((x) => x.name).join(", ")}`,
      });
    }
    if (bit !== 0 && bit !== 1 && bit !== true && bit !== false) {
      throw fieldError(path, "isa/field-range", `${op.mnemonic} flag ${path} = ${show(bit)} must be 0 or 1`);
    }
    if (bit === 1 || bit === true) v |= fl.mask;
  }
  return v;
}

/** What is wrong with raw value `v` of field `f`, or undefined when it is valid. */
export function valueProblem(op: CompiledOpcode, f: CompiledField, v: number): IsaProblem | undefined {
  if (v <= f.limit && (f.kind === "reserved" ? v === 0 : !f.valid || f.valid[v])) return undefined;
  const at = `${op.mnemonic} field ${f.name} = ${v}`;
  if (v > f.mask) {
    const message = `${at} is out of range: ${f.width} bits hold 0..${f.mask}`;
    return { code: "isa/field-range", message, field: f.name, value: v };
  }
  switch (f.kind) {
    case "reserved":
      if (v === 0) return undefined;
      return {
        code: "isa/reserved-bits",
        message: `${op.mnemonic} reserved bits ${bitRange(f.lsb, f.width)} = 0x${hex(v)} must be zero`,
        field: f.name,
        value: v,
      };
    case "uint":
      if (v <= f.limit) return undefined;
      return {
        code: "isa/reserved-value",
        message: `${at} is reserved (valid: 0..${f.limit}; ${f.spec.doc})`,
        field: f.name,
        value: v,
      };
    case "enum":
      if (f.valid![v]) return undefined;
      return {
        code: "isa/reserved-value",
        message: `${at} (0x${hex(v)}) is reserved (${f.spec.doc})`,
        field: f.name,
        value: v,
      };
    case "flags": {
      if (f.valid![v]) return undefined;
      const spec = f.spec.kind === "flags" ? f.spec : undefined;
      const bits = (spec?.bits ?? []).filter(
        (b) => b.kind === "reserved" && (v >> b.lsb) & (2 ** b.width - 1),
      );
      const where = bits.map((b) => bitRange(f.lsb + b.lsb, b.width)).join(", ");
      return {
        code: "isa/reserved-bits",
        message: `${op.mnemonic} field ${f.name} = 0x${hex(v)} sets reserved bits ${where} (must be zero; flags: ${f.flags.map((x) => x.name).join(", ")})`,
        field: f.name,
        value: v,
      };
    }
  }
}

/** The reserved combination `raw` (slot-ordered values) hits, if any. */
export function combinationProblem(op: CompiledOpcode, raw: readonly number[]): IsaProblem | undefined {
  for (const c of op.combinations) {
    if (c.slots.every((s, i) => raw[s] === c.values[i])) {
      const which = c.slots.map((s, i) => `${op.valueFields[s]!.name}=${c.values[i]}`).join(", ");
      return { code: "isa/reserved-combination", message: `${op.mnemonic} ${which}: ${c.doc}`, field: which };
    }
  }
  return undefined;
}

/** Decode strictly (throws on any problem) or leniently (returns the problems). */
export function decode(word: bigint, mode?: "strict", opts?: IsaOptions): Instr;
export function decode(word: bigint, mode: "lenient", opts?: IsaOptions): DecodeResult;
export function decode(word: bigint, mode: DecodeMode = "strict", opts?: IsaOptions): Instr | DecodeResult {
  const r = decodeWord(checkWord(word), compiledIsa(opts));
  if (mode === "lenient") return r;
  if (r.ok) return r.instr;
  const [first, ...rest] = r.problems;
  throw invalidInput(first!.code, `word ${formatWord(word)}: ${first!.message}`, {
    notes: rest.map((p) => p.message),
    fix: "check the word, or disassemble with --lenient to see every problem",
  });
}

export function decodeWord(word: bigint, isa: CompiledIsa): DecodeResult {
  const hi = wordHi(word);
  const lo = wordLo(word);
  const code = extract(isa.opcodeField, hi, lo) & isa.opcodeField.mask;
  const op = isa.byCode[code];
  if (!op) {
    const note = isa.reservedOpcodeDoc.get(code);
    const message = `opcode 0x${hex(code)} is reserved${note ? ` (${note})` : ""}`;
    const problem = { code: "isa/reserved-opcode", message, field: "opcode", value: code };
    return { ok: false, word, opcode: code, raw: {}, problems: [problem] };
  }
  const problems: IsaProblem[] = [];
  const raw: number[] = [];
  for (const f of op.fields) {
    const v = extract(f, hi, lo);
    const p = valueProblem(op, f, v);
    if (p) problems.push(p);
    if (f.slot >= 0) raw[f.slot] = v;
  }
  const combo = combinationProblem(op, raw);
  if (combo) problems.push(combo);
  if (!problems.length) return { ok: true, word, instr: instrFromRaw(op, raw) };
  const rawByName = Object.fromEntries(op.valueFields.map((f) => [f.name, raw[f.slot]!]));
  return { ok: false, word, opcode: code, mnemonic: op.mnemonic, raw: rawByName, problems };
}

/** The typed instruction of already validated slot-ordered raw values. */
export function instrFromRaw(op: CompiledOpcode, raw: ArrayLike<number>, base = 0): Instr {
  const fields: Record<string, unknown> = {};
  for (const f of op.valueFields) {
    const v = raw[base + f.slot]!;
    if (f.kind === "enum") fields[f.name] = f.codeNames[v];
    else if (f.kind === "flags") {
      const bits: Record<string, number> = {};
      for (const fl of f.flags) bits[fl.name] = (v & fl.mask) === 0 ? 0 : 1;
      fields[f.name] = bits;
    } else fields[f.name] = v;
  }
  return { opcode: op.mnemonic, fields } as unknown as Instr;
}

function extract(f: FieldShift, hi: number, lo: number): number {
  return (((lo >>> f.a) & f.mLo) | (((hi >>> f.b) & f.mHi) << f.c)) >>> 0;
}

function fieldError(
  path: string,
  code: string,
  message: string,
  details: { fix?: string; notes?: string[] } = {},
) {
  return invalidInput(code, message, { at: { jsonPath: `fields.${path}` }, ...details });
}

function expected(f: CompiledField): string {
  switch (f.kind) {
    case "enum":
      return `one of ${[...f.names.keys()].join(", ")}`;
    case "flags":
      return `an object of 0/1 bits named ${f.flags.map((x) => x.name).join(", ")}`;
    default: {
      const aliases = [...f.names.keys()];
      return `an integer in 0..${f.limit}${aliases.length ? ` or one of ${aliases.join(", ")}` : ""}`;
    }
  }
}

function show(v: unknown): string {
  return typeof v === "string"
    ? `"${v}"`
    : typeof v === "bigint"
      ? `${v}n`
      : (JSON.stringify(v) ?? String(v));
}
