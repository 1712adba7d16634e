/**
 * Typed instructions, derived at the type level from the `V002` table: a discriminated union on
 * `opcode` whose `fields` hold one property per non-reserved field (uint → number, enum → its value
 * name, flags → an object of named 0/1 bits). The shape is the one of /work/shared/isa-vectors.json.
 */
import type { V002 } from "./table.js";

type Table = typeof V002;
type AnyOpSpec = Table["opcodes"][number];

export type Mnemonic = AnyOpSpec["mnemonic"];
export type Bit = 0 | 1;

type OpSpec<M extends Mnemonic> = Extract<AnyOpSpec, { readonly mnemonic: M }>;

type FlagNames<F> = F extends { readonly bits: readonly (infer B)[] }
  ? B extends { readonly kind: "flag"; readonly name: infer N extends string }
    ? N
    : never
  : never;

/** Extensible enums also accept names a target declares (e.g. "SILU"). */
type EnumValue<F> = F extends { readonly values: infer V }
  ? F extends { readonly extensionCodes: object }
    ? (keyof V & string) | (string & {})
    : keyof V & string
  : never;

type FieldValue<F> = F extends { readonly kind: "uint" }
  ? number
  : F extends { readonly kind: "enum" }
    ? EnumValue<F>
    : F extends { readonly kind: "flags" }
      ? { [K in FlagNames<F>]: Bit }
      : never;

export type FieldsOf<M extends Mnemonic> = {
  [F in OpSpec<M>["fields"][number] as F extends { readonly kind: "reserved" }
    ? never
    : F["name"]]: FieldValue<F>;
};

export type InstrOf<M extends Mnemonic> = { readonly opcode: M; readonly fields: FieldsOf<M> };

/** One pccx v002 instruction. Narrow on `opcode` to reach typed fields. */
export type Instr = { [M in Mnemonic]: InstrOf<M> }[Mnemonic];

/** A flags field value: named bits, each 0 or 1. */
export type FlagsValue = Readonly<Record<string, Bit>>;

/** Any field value, for code that walks fields generically. */
export type FieldValueAny = number | string | FlagsValue;

/** An instruction of any table, untyped (what generic code and JSON input see). */
export interface LooseInstr {
  readonly opcode: string;
  readonly fields: Readonly<Record<string, unknown>>;
}
