/**
 * The instruction table compiled once into what the codecs need at speed: per field the shifts and
 * masks that move it between a value and the word's hi/lo 32-bit halves, the largest valid value,
 * a validity table for enum and flags codes, name maps; per opcode the reserved-bit masks. Target
 * extensions (names for reserved enum codes, e.g. CVO SILU = 0x8) are applied here, so every codec
 * sees one consistent view. Compiled tables are cached per (table, extensions).
 */
import { ExitCode, invalidInput, PccxError } from "../diag/index.js";
import { canonicalJson } from "../util/json.js";
import { type EnumFieldSpec, type FieldSpec, type IsaTable, type OpcodeSpec, V002 } from "./table.js";
import { checkTable } from "./table-check.js";

/** Names for reserved enum codes, keyed by `<MNEMONIC>.<field>`, e.g. {"CVO.cvo_func": {SILU: 8}}. */
export type EnumExtensions = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Options every ISA entry point accepts. */
export interface IsaOptions {
  /** The instruction table (default: V002). */
  readonly table?: IsaTable;
  /** Extension names for CVO function codes 0x8–0xF, e.g. { SILU: 8 } (shorthand for "CVO.cvo_func"). */
  readonly cvoExtensions?: Readonly<Record<string, number>>;
  readonly extensions?: EnumExtensions;
}

/** Moves a field between its value and the word halves: value = ((lo>>>a)&mLo) | (((hi>>>b)&mHi)<<c). */
export interface FieldShift {
  readonly a: number;
  readonly mLo: number;
  readonly b: number;
  readonly mHi: number;
  readonly c: number;
}

export interface FlagBit {
  readonly name: string;
  readonly shift: number;
  readonly mask: number;
}

export interface CompiledField extends FieldShift {
  readonly spec: FieldSpec;
  readonly name: string;
  readonly kind: FieldSpec["kind"];
  readonly lsb: number;
  readonly width: number;
  /** 2^width - 1. */
  readonly mask: number;
  /** Index among the opcode's value fields (bulk column slot); -1 for reserved fields. */
  readonly slot: number;
  /** The largest value that may be valid (uint `max`, else the mask). */
  readonly limit: number;
  /** For enum and flags fields: valid[v] = 1 when v is a valid value. */
  readonly valid: Uint8Array | null;
  /** Enum names (with extensions) or uint aliases → code. */
  readonly names: ReadonlyMap<string, number>;
  /** Enum code → name (extensions included). */
  readonly codeNames: readonly (string | undefined)[];
  /** Flag bits (kind "flag" only) in table order. */
  readonly flags: readonly FlagBit[];
  /** Bits of a flags value that must be zero. */
  readonly flagsReserved: number;
}

export interface CompiledCombination {
  readonly slots: readonly number[];
  readonly values: readonly number[];
  readonly doc: string;
}

export interface CompiledOpcode {
  readonly spec: OpcodeSpec;
  readonly mnemonic: string;
  readonly code: number;
  readonly fields: readonly CompiledField[];
  /** Non-reserved fields in slot order. */
  readonly valueFields: readonly CompiledField[];
  readonly fieldByName: ReadonlyMap<string, CompiledField>;
  /** Reserved bits of the word, as masks on the hi and lo halves. */
  readonly reservedHi: number;
  readonly reservedLo: number;
  readonly combinations: readonly CompiledCombination[];
}

export interface CompiledIsa {
  readonly table: IsaTable;
  readonly extensions: EnumExtensions;
  readonly opcodeField: FieldShift & { readonly mask: number };
  /** Indexed by opcode code; undefined for reserved codes. */
  readonly byCode: readonly (CompiledOpcode | undefined)[];
  readonly byMnemonic: ReadonlyMap<string, CompiledOpcode>;
  /** The largest number of value fields of any opcode (the bulk column stride). */
  readonly maxSlots: number;
  readonly reservedOpcodeDoc: ReadonlyMap<number, string>;
}

/** Shifts and masks that place `width` bits at `lsb` of a 64-bit word held as hi/lo halves. */
export function fieldShift(lsb: number, width: number): FieldShift {
  const mask = lowMask(width);
  if (lsb >= 32) return { a: 0, mLo: 0, b: lsb - 32, mHi: mask, c: 0 };
  if (lsb + width <= 32) return { a: lsb, mLo: mask, b: 0, mHi: 0, c: 0 };
  const loBits = 32 - lsb;
  return { a: lsb, mLo: lowMask(loBits), b: 0, mHi: lowMask(width - loBits), c: loBits };
}

/** 2^width - 1 as a number (width ≤ 32). */
export function lowMask(width: number): number {
  return width >= 32 ? 0xffffffff : 2 ** width - 1;
}

const cache = new WeakMap<IsaTable, Map<string, CompiledIsa>>();
/** Per options object (treated as immutable): repeated calls skip re-keying the cache. */
const byOptions = new WeakMap<IsaOptions, CompiledIsa>();
let defaultIsa: CompiledIsa | undefined;

/** The compiled view of `opts.table` (default V002) with the options' extensions, cached. */
export function compiledIsa(opts?: IsaOptions): CompiledIsa {
  if (!opts || (!opts.table && !opts.cvoExtensions && !opts.extensions)) {
    defaultIsa ??= lookup({});
    return defaultIsa;
  }
  let isa = byOptions.get(opts);
  if (!isa) {
    isa = lookup(opts);
    byOptions.set(opts, isa);
  }
  return isa;
}

function lookup(opts: IsaOptions): CompiledIsa {
  const table = opts.table ?? V002;
  const extensions = mergeExtensions(opts);
  const key = canonicalJson(extensions);
  let perTable = cache.get(table);
  if (!perTable) {
    perTable = new Map();
    cache.set(table, perTable);
  }
  let isa = perTable.get(key);
  if (!isa) {
    isa = compile(table, extensions);
    perTable.set(key, isa);
  }
  return isa;
}

function mergeExtensions(opts: IsaOptions): EnumExtensions {
  if (!opts.cvoExtensions) return opts.extensions ?? {};
  const cvo = { ...(opts.extensions?.["CVO.cvo_func"] ?? {}), ...opts.cvoExtensions };
  return { ...(opts.extensions ?? {}), "CVO.cvo_func": cvo };
}

function compile(table: IsaTable, extensions: EnumExtensions): CompiledIsa {
  const problems = checkTable(table);
  if (problems.length) {
    throw new PccxError(
      "isa/bad-table",
      ExitCode.INTERNAL,
      `instruction table ${table.name} is inconsistent: ${problems[0]}`,
      {
        notes: problems.slice(1),
      },
    );
  }
  checkExtensionKeys(table, extensions);
  const byCode: (CompiledOpcode | undefined)[] = new Array(2 ** table.opcode.width).fill(undefined);
  const byMnemonic = new Map<string, CompiledOpcode>();
  for (const op of table.opcodes) {
    const c = compileOpcode(op, extensions);
    byCode[op.code] = c;
    byMnemonic.set(op.mnemonic, c);
  }
  return {
    table,
    extensions,
    opcodeField: { ...fieldShift(table.opcode.lsb, table.opcode.width), mask: lowMask(table.opcode.width) },
    byCode,
    byMnemonic,
    maxSlots: Math.max(...[...byMnemonic.values()].map((o) => o.valueFields.length)),
    reservedOpcodeDoc: new Map(table.reservedOpcodes.map((r) => [r.code, r.doc])),
  };
}

function compileOpcode(op: OpcodeSpec, extensions: EnumExtensions): CompiledOpcode {
  let slot = 0;
  let reservedHi = 0;
  let reservedLo = 0;
  const fields = op.fields.map((spec) => {
    const f = compileField(op, spec, spec.kind === "reserved" ? -1 : slot++, extensions);
    if (spec.kind === "reserved") {
      reservedLo |= (f.mask & f.mLo) << f.a;
      reservedHi |= ((f.mask >>> f.c) & f.mHi) << f.b;
    }
    return f;
  });
  const valueFields = fields.filter((f) => f.slot >= 0);
  const fieldByName = new Map(valueFields.map((f) => [f.name, f]));
  const combinations = (op.reservedCombinations ?? []).map((rc) => {
    const names = Object.keys(rc.fields);
    return {
      slots: names.map((n) => fieldByName.get(n)!.slot),
      values: names.map((n) => rc.fields[n]!),
      doc: rc.doc,
    };
  });
  return {
    spec: op,
    mnemonic: op.mnemonic,
    code: op.code,
    fields,
    valueFields,
    fieldByName,
    reservedHi: reservedHi >>> 0,
    reservedLo: reservedLo >>> 0,
    combinations,
  };
}

function compileField(op: OpcodeSpec, spec: FieldSpec, slot: number, ext: EnumExtensions): CompiledField {
  const mask = lowMask(spec.width);
  const base = { spec, name: spec.name, kind: spec.kind, lsb: spec.lsb, width: spec.width, mask, slot };
  const shift = fieldShift(spec.lsb, spec.width);
  const none = { valid: null, names: new Map<string, number>(), codeNames: [], flags: [], flagsReserved: 0 };
  switch (spec.kind) {
    case "reserved":
      return { ...base, ...shift, ...none, limit: 0 };
    case "uint":
      return {
        ...base,
        ...shift,
        ...none,
        limit: spec.max ?? mask,
        names: new Map(Object.entries(spec.aliases ?? {})),
      };
    case "enum":
      return {
        ...base,
        ...shift,
        ...compileEnum(op, spec, ext[`${op.mnemonic}.${spec.name}`] ?? {}),
        flags: [],
      };
    case "flags": {
      const flags = spec.bits
        .filter((b) => b.kind === "flag")
        .map((b) => ({ name: b.name, shift: b.lsb, mask: lowMask(b.width) << b.lsb }));
      const reserved = spec.bits.filter((b) => b.kind === "reserved");
      const flagsReserved = reserved.reduce((m, b) => m | (lowMask(b.width) << b.lsb), 0);
      const valid = new Uint8Array(mask + 1);
      for (let v = 0; v <= mask; v++) valid[v] = v & flagsReserved ? 0 : 1;
      const names = new Map(flags.map((f) => [f.name, f.mask]));
      return { ...base, ...shift, limit: mask, valid, names, codeNames: [], flags, flagsReserved };
    }
  }
}

function compileEnum(op: OpcodeSpec, spec: EnumFieldSpec, extra: Readonly<Record<string, number>>) {
  const names = new Map<string, number>(Object.entries(spec.values));
  for (const [name, code] of Object.entries(extra)) {
    const range = spec.extensionCodes;
    const where = `${op.mnemonic}.${spec.name}`;
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) {
      throw invalidInput(
        "isa/bad-extension",
        `extension name "${name}" for ${where} is not an upper-case identifier`,
        {
          fix: "use a name like SILU or TANH",
        },
      );
    }
    if (names.has(name)) {
      throw invalidInput("isa/bad-extension", `extension name "${name}" for ${where} is already defined`);
    }
    if (!range || !Number.isInteger(code) || code < range.min || code > range.max) {
      const allowed = range ? `0x${hex(range.min)}–0x${hex(range.max)}` : "none";
      throw invalidInput(
        "isa/bad-extension",
        `extension ${name} = ${code} for ${where} is not a free extension code (allowed: ${allowed})`,
      );
    }
    if ([...names.values()].includes(code)) {
      throw invalidInput("isa/bad-extension", `extension ${name} for ${where} reuses code 0x${hex(code)}`);
    }
    names.set(name, code);
  }
  const codeNames: (string | undefined)[] = new Array(2 ** spec.width).fill(undefined);
  const valid = new Uint8Array(2 ** spec.width);
  for (const [name, code] of names) {
    codeNames[code] = name;
    valid[code] = 1;
  }
  return { valid, names, codeNames, limit: lowMask(spec.width), flagsReserved: 0 };
}

function checkExtensionKeys(table: IsaTable, extensions: EnumExtensions): void {
  for (const key of Object.keys(extensions)) {
    const [mn, fname] = key.split(".");
    const op = table.opcodes.find((o) => o.mnemonic === mn);
    const field = op?.fields.find((f) => f.name === fname);
    if (field?.kind !== "enum" || !field.extensionCodes) {
      throw invalidInput("isa/bad-extension", `"${key}" is not an extensible enum field of ${table.name}`, {
        fix: "extensions name reserved codes of an enum field that declares extension codes, e.g. CVO.cvo_func",
      });
    }
  }
}

export function hex(v: number, digits = 1): string {
  return v.toString(16).toUpperCase().padStart(digits, "0");
}
