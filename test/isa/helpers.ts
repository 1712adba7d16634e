/**
 * Shared test helpers for src/isa: the hardware vectors (committed fixture and ../shared copy),
 * fast-check arbitraries drawn from the table, and a reference encoder written independently of
 * src/isa's codecs (plain BigInt shifts of the table's lsb values) to check them against.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import type { FieldSpec, Instr, IsaTable, OpcodeSpec } from "../../src/isa/index.js";
import { V002 } from "../../src/isa/index.js";

export interface Vector {
  readonly word: string;
  readonly opcode: string;
  readonly fields: Record<string, unknown>;
}

export const FIXTURE_VECTORS = fileURLToPath(new URL("./fixtures/vectors.json", import.meta.url));
export const SHARED_DIR = fileURLToPath(new URL("../../../shared", import.meta.url));
export const SHARED_VECTORS = `${SHARED_DIR}/isa-vectors.json`;
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export function loadVectors(path: string): Vector[] {
  return (JSON.parse(readFileSync(path, "utf8")) as { vectors: Vector[] }).vectors;
}

export const fixtureVectors = loadVectors(FIXTURE_VECTORS);
export const sharedAvailable = existsSync(SHARED_VECTORS);

export const valueFields = (op: OpcodeSpec) => op.fields.filter((f) => f.kind !== "reserved");

/** Raw numeric value of a typed field value, from the table's own data. */
export function rawOf(f: FieldSpec, value: unknown): number {
  if (f.kind === "enum") return f.values[value as string]!;
  if (f.kind === "flags") {
    let v = 0;
    for (const b of f.bits)
      if (b.kind === "flag" && (value as Record<string, number>)[b.name]) v += 2 ** b.lsb;
    return v;
  }
  return value as number;
}

/** Reference encoder: opcode << opcode.lsb | Σ raw << lsb, in BigInt. */
export function refEncode(
  instr: { opcode: string; fields: Record<string, unknown> },
  table: IsaTable = V002,
): bigint {
  const op = table.opcodes.find((o) => o.mnemonic === instr.opcode)!;
  let w = BigInt(op.code) << BigInt(table.opcode.lsb);
  for (const f of valueFields(op)) w |= BigInt(rawOf(f, instr.fields[f.name])) << BigInt(f.lsb);
  return w;
}

/** Word bits of a field (for setting reserved bits in tests). */
export function fieldBits(f: { lsb: number; width: number }): bigint {
  return ((1n << BigInt(f.width)) - 1n) << BigInt(f.lsb);
}

function fieldArb(f: FieldSpec): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case "uint":
      return fc.integer({ min: 0, max: f.max ?? 2 ** f.width - 1 });
    case "enum":
      return fc.constantFrom(...Object.keys(f.values));
    case "flags": {
      const rec: Record<string, fc.Arbitrary<0 | 1>> = {};
      for (const b of f.bits) if (b.kind === "flag") rec[b.name] = fc.constantFrom(0 as const, 1 as const);
      return fc.record(rec);
    }
    case "reserved":
      return fc.constant(0);
  }
}

function violatesCombination(op: OpcodeSpec, fields: Record<string, unknown>): boolean {
  return (op.reservedCombinations ?? []).some((rc) =>
    Object.entries(rc.fields).every(([n, v]) => fields[n] === v),
  );
}

/** A random valid typed instruction of `op`. */
export function arbInstrOf(op: OpcodeSpec): fc.Arbitrary<Instr> {
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of valueFields(op)) rec[f.name] = fieldArb(f);
  return fc
    .record(rec)
    .filter((fields) => !violatesCombination(op, fields))
    .map((fields) => ({ opcode: op.mnemonic, fields }) as unknown as Instr);
}

/** A random valid typed instruction of any opcode. */
export const arbInstr: fc.Arbitrary<Instr> = fc.oneof(...V002.opcodes.map((op) => arbInstrOf(op)));

/** A random valid word, built by the reference encoder. */
export const arbValidWord: fc.Arbitrary<bigint> = arbInstr.map((i) => refEncode(i));

/** Any 64-bit word (mostly invalid). */
export const arbAnyWord: fc.Arbitrary<bigint> = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

/** A word with reserved opcode 0x5 (SPARSE_GEMV in v003) and an all-zero body, and its text forms. */
export const RESERVED_OP_WORD = 5n << BigInt(V002.opcode.lsb);
export const RESERVED_OP_HEX = `0x${RESERVED_OP_WORD.toString(16).padStart(16, "0")}`;

/** Bounded run counts: the whole suite must stay fast on 2 shared cores. */
export const RUNS = { numRuns: 300 } as const;
