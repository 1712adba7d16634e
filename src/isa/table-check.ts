/**
 * Consistency checks of an instruction table, run when it is compiled: a table that leaves a bit
 * undescribed, overlaps two fields or names an enum value that does not fit is a bug in pccxc, and
 * every view derived from it would be wrong.
 */
import type { FieldSpec, IsaTable, OpcodeSpec } from "./table.js";

const IDENT = /^[a-z][a-z0-9_]*$/;
const MNEMONIC = /^[A-Z][A-Z0-9_]*$/;
/** Enum and flags fields get a validity table of 2^width entries: keep them small. */
const MAX_TABLE_WIDTH = 12;

/** Every problem found in `table`, as sentences; empty when the table is consistent. */
export function checkTable(table: IsaTable): string[] {
  const out: string[] = [];
  const { lsb, width } = table.opcode;
  if (lsb + width !== table.wordBits || lsb < 32) {
    out.push(`the opcode field must be the top bits of the word and lie in its upper half (lsb ${lsb})`);
  }
  const codes = new Set<number>();
  const mnemonics = new Set<string>();
  for (const op of table.opcodes) {
    if (!MNEMONIC.test(op.mnemonic)) out.push(`mnemonic "${op.mnemonic}" is not an upper-case identifier`);
    if (mnemonics.has(op.mnemonic)) out.push(`mnemonic ${op.mnemonic} is defined twice`);
    if (codes.has(op.code)) out.push(`opcode code ${op.code} is used twice`);
    if (!Number.isInteger(op.code) || op.code < 0 || op.code >= 2 ** width) {
      out.push(`${op.mnemonic}: code ${op.code} does not fit the ${width}-bit opcode field`);
    }
    codes.add(op.code);
    mnemonics.add(op.mnemonic);
    out.push(...checkOpcode(op, lsb).map((p) => `${op.mnemonic}: ${p}`));
  }
  for (const r of table.reservedOpcodes) {
    if (codes.has(r.code)) out.push(`reserved opcode note for code ${r.code}, which is defined`);
  }
  return out;
}

function checkOpcode(op: OpcodeSpec, bodyBits: number): string[] {
  const out: string[] = [];
  const owner: (string | undefined)[] = new Array(bodyBits).fill(undefined);
  const names = new Set<string>();
  let prevLsb = Number.POSITIVE_INFINITY;
  for (const f of op.fields) {
    if (!IDENT.test(f.name)) out.push(`field name "${f.name}" is not a lower-case identifier`);
    if (f.kind !== "reserved" && names.has(f.name)) out.push(`field ${f.name} is defined twice`);
    names.add(f.name);
    if (!Number.isInteger(f.width) || f.width < 1 || f.width > 31)
      out.push(`field ${f.name}: width ${f.width}`);
    if (f.lsb >= prevLsb) out.push(`field ${f.name} is out of order (fields go most significant first)`);
    prevLsb = f.lsb;
    for (let b = f.lsb; b < f.lsb + f.width; b++) {
      if (b >= bodyBits) out.push(`field ${f.name} reaches bit ${b}, inside the opcode`);
      else if (owner[b] !== undefined) out.push(`bit ${b} belongs to both ${owner[b]} and ${f.name}`);
      else owner[b] = f.name;
    }
    out.push(...checkFieldValues(f).map((p) => `field ${f.name}: ${p}`));
  }
  const missing = owner.flatMap((o, b) => (o === undefined ? [b] : []));
  if (missing.length) out.push(`bits ${missing.join(", ")} are not described (list them as reserved)`);
  for (const rc of op.reservedCombinations ?? []) {
    for (const [name, v] of Object.entries(rc.fields)) {
      const f = op.fields.find((x) => x.name === name && x.kind === "uint");
      if (!f) out.push(`reserved combination names ${name}, which is not a uint field`);
      else if (v < 0 || v >= 2 ** f.width) out.push(`reserved combination value ${name}=${v} does not fit`);
    }
  }
  return out;
}

function checkFieldValues(f: FieldSpec): string[] {
  const out: string[] = [];
  const size = 2 ** f.width;
  switch (f.kind) {
    case "reserved":
      break;
    case "uint":
      if (f.max !== undefined && (f.max < 0 || f.max >= size)) out.push(`max ${f.max} does not fit`);
      for (const [n, v] of Object.entries(f.aliases ?? {})) {
        if (!IDENT.test(n)) out.push(`alias "${n}" is not a lower-case identifier`);
        if (v < 0 || v > (f.max ?? size - 1)) out.push(`alias ${n}=${v} is not a valid value`);
      }
      break;
    case "enum": {
      if (f.width > MAX_TABLE_WIDTH) out.push(`enum wider than ${MAX_TABLE_WIDTH} bits`);
      const seen = new Set<number>();
      for (const [n, v] of Object.entries(f.values)) {
        if (!MNEMONIC.test(n)) out.push(`enum name "${n}" is not an upper-case identifier`);
        if (!Number.isInteger(v) || v < 0 || v >= size) out.push(`enum value ${n}=${v} does not fit`);
        if (seen.has(v)) out.push(`enum code ${v} is used twice`);
        seen.add(v);
      }
      const ext = f.extensionCodes;
      if (ext && [...seen].some((v) => v >= ext.min && v <= ext.max))
        out.push("extension codes overlap named codes");
      if (ext && (ext.min > ext.max || ext.max >= size)) out.push("extension code range does not fit");
      break;
    }
    case "flags": {
      if (f.width > MAX_TABLE_WIDTH) out.push(`flags wider than ${MAX_TABLE_WIDTH} bits`);
      const used = new Array<string | undefined>(f.width).fill(undefined);
      for (const b of f.bits) {
        if (b.kind === "flag" && b.width !== 1) out.push(`flag ${b.name} must be 1 bit wide`);
        if (b.kind === "flag" && !IDENT.test(b.name)) out.push(`flag name "${b.name}" is not an identifier`);
        for (let i = b.lsb; i < b.lsb + b.width; i++) {
          if (i >= f.width) out.push(`flag ${b.name} reaches bit ${i}, outside the field`);
          else if (used[i] !== undefined) out.push(`flag bit ${i} belongs to both ${used[i]} and ${b.name}`);
          else used[i] = b.name;
        }
      }
      if (used.some((u) => u === undefined)) out.push("some flag bits are not described");
      break;
    }
  }
  return out;
}
