/**
 * The pccx v002 instruction table: every opcode, field, bit position, enum value and flag bit of the
 * ISA, stated once as data (pccx-v002 spec §1). The encoder, decoder, assembler, disassembler, the C
 * header and the field table of docs/isa.md are all derived from `V002`; no other file of pccxc may
 * state a bit position. To add an opcode or a field, edit this file and run `npx tsx src/isa/regen.ts`.
 */

/** One named bit group inside a flags field. `lsb` counts from the flags field's own lsb. */
export interface FlagBitSpec {
  readonly name: string;
  readonly lsb: number;
  readonly width: number;
  /** "flag": a 1-bit switch; "reserved": must be zero. */
  readonly kind: "flag" | "reserved";
  readonly doc: string;
}

interface FieldBase {
  readonly name: string;
  /** Bit position of the field's least significant bit in the 64-bit word. */
  readonly lsb: number;
  readonly width: number;
  readonly doc: string;
}

/** An unsigned integer. `max` below 2^width - 1 marks the values above it reserved. */
export interface UintFieldSpec extends FieldBase {
  readonly kind: "uint";
  readonly max?: number;
  /** Symbolic names the assembler accepts (and the disassembler prints) for some values. */
  readonly aliases?: Readonly<Record<string, number>>;
}

/** A code with named values; unnamed codes are reserved. */
export interface EnumFieldSpec extends FieldBase {
  readonly kind: "enum";
  readonly values: Readonly<Record<string, number>>;
  /** Reserved codes a target may name as extensions (e.g. a CVO SILU at 0x8). */
  readonly extensionCodes?: { readonly min: number; readonly max: number };
}

/** A group of named 1-bit flags and reserved-zero sub-fields. */
export interface FlagsFieldSpec extends FieldBase {
  readonly kind: "flags";
  readonly bits: readonly FlagBitSpec[];
}

/** Bits that must be zero. */
export interface ReservedFieldSpec extends FieldBase {
  readonly kind: "reserved";
}

export type FieldSpec = UintFieldSpec | EnumFieldSpec | FlagsFieldSpec | ReservedFieldSpec;
export type FieldKind = FieldSpec["kind"];

/** A combination of field values that is reserved although each value alone is valid. */
export interface ReservedCombination {
  readonly fields: Readonly<Record<string, number>>;
  readonly doc: string;
}

export interface OpcodeSpec {
  readonly mnemonic: string;
  readonly code: number;
  readonly doc: string;
  /** Every bit of the body, most significant field first (the order of encode/decode/docs). */
  readonly fields: readonly FieldSpec[];
  readonly reservedCombinations?: readonly ReservedCombination[];
}

export interface IsaTable {
  readonly name: string;
  readonly doc: string;
  readonly wordBits: 64;
  readonly opcode: { readonly lsb: number; readonly width: number };
  readonly opcodes: readonly OpcodeSpec[];
  /** Notes on reserved opcode codes; every code not in `opcodes` is reserved. */
  readonly reservedOpcodes: readonly { readonly code: number; readonly doc: string }[];
}

/** GEMV and GEMM share one body: stated once, used by both opcodes. */
const GEMX_FIELDS = [
  { name: "dest_reg", lsb: 43, width: 17, kind: "uint", doc: "L2 word address of the result (M×N BF16)" },
  {
    name: "src_addr",
    lsb: 26,
    width: 17,
    kind: "uint",
    doc: "L2 word address of the activation input (M×K BF16)",
  },
  {
    name: "flags",
    lsb: 20,
    width: 6,
    kind: "flags",
    doc: "engine flags",
    bits: [
      { name: "findemax", lsb: 5, width: 1, kind: "flag", doc: "track e_max of the results (for softmax)" },
      { name: "accm", lsb: 4, width: 1, kind: "flag", doc: "accumulate into dest instead of overwriting" },
      { name: "w_scale", lsb: 3, width: 1, kind: "flag", doc: "apply the per-row weight scale" },
      { name: "reserved", lsb: 0, width: 3, kind: "reserved", doc: "must be zero" },
    ],
  },
  {
    name: "size_ptr_addr",
    lsb: 14,
    width: 6,
    kind: "uint",
    doc: "constant-cache entry (weight_shape bank) describing the weight tile",
  },
  {
    name: "shape_ptr_addr",
    lsb: 8,
    width: 6,
    kind: "uint",
    doc: "constant-cache entry (fmap_shape bank): M activation rows, N outputs, K inputs",
  },
  { name: "parallel_lane", lsb: 3, width: 5, kind: "uint", doc: "GEMV cores to use (0 = all four)" },
  { name: "reserved", lsb: 0, width: 3, kind: "reserved", doc: "must be zero" },
] as const;

export const V002 = {
  name: "pccx-v002",
  doc: "pccx v002 NPU instruction set: one 64-bit word per instruction, opcode in the top 4 bits",
  wordBits: 64,
  opcode: { lsb: 60, width: 4 },
  opcodes: [
    {
      mnemonic: "GEMV",
      code: 0x0,
      doc: "matrix × vector on the GEMV cores (decode); weights from the HP2/HP3 streams",
      fields: GEMX_FIELDS,
    },
    {
      mnemonic: "GEMM",
      code: 0x1,
      doc: "matrix × matrix on the 32×32 systolic array (prefill); weights from the HP0/HP1 streams",
      fields: GEMX_FIELDS,
    },
    {
      mnemonic: "MEMCPY",
      code: 0x2,
      doc: "move data between the host (ACP stream) and L2, or inside L2",
      fields: [
        { name: "from_device", lsb: 59, width: 1, kind: "uint", doc: "source side: 0 NPU (L2), 1 host" },
        { name: "to_device", lsb: 58, width: 1, kind: "uint", doc: "destination side: 0 NPU (L2), 1 host" },
        {
          name: "dest_addr",
          lsb: 41,
          width: 17,
          kind: "uint",
          doc: "destination L2 word address (when the destination is L2)",
        },
        {
          name: "src_addr",
          lsb: 24,
          width: 17,
          kind: "uint",
          doc: "source L2 word address (when the source is L2)",
        },
        {
          name: "aux_addr",
          lsb: 7,
          width: 17,
          kind: "uint",
          doc: "documented as a host offset in 16-byte units; pccxc takes the DDR address from the paired DataMover command",
        },
        {
          name: "shape_ptr_addr",
          lsb: 1,
          width: 6,
          kind: "uint",
          doc: "constant-cache entry (fmap_shape bank) whose a·b·c is the BF16 element count",
        },
        { name: "async", lsb: 0, width: 1, kind: "uint", doc: "0 wait for completion, 1 fire and forget" },
      ],
      reservedCombinations: [
        {
          fields: { from_device: 1, to_device: 1 },
          doc: "direction host→host is reserved; valid directions are (1,0) host→L2, (0,1) L2→host, (0,0) L2→L2",
        },
      ],
    },
    {
      mnemonic: "MEMSET",
      code: 0x3,
      doc: "write one constant-cache entry (three 16-bit values)",
      fields: [
        {
          name: "dest_cache",
          lsb: 58,
          width: 2,
          kind: "uint",
          max: 1,
          aliases: { fmap_shape: 0, weight_shape: 1 },
          doc: "bank: 0 fmap_shape, 1 weight_shape (2–3 reserved)",
        },
        { name: "dest_addr", lsb: 52, width: 6, kind: "uint", doc: "entry 0..63" },
        { name: "a_value", lsb: 36, width: 16, kind: "uint", doc: "first value (usually M)" },
        { name: "b_value", lsb: 20, width: 16, kind: "uint", doc: "second value (usually N)" },
        { name: "c_value", lsb: 4, width: 16, kind: "uint", doc: "third value (usually K)" },
        { name: "reserved", lsb: 0, width: 4, kind: "reserved", doc: "must be zero" },
      ],
    },
    {
      mnemonic: "CVO",
      code: 0x4,
      doc: "special function unit: one BF16 element per clock",
      fields: [
        {
          name: "cvo_func",
          lsb: 56,
          width: 4,
          kind: "enum",
          values: { EXP: 0, SQRT: 1, GELU: 2, SIN: 3, COS: 4, REDUCE_SUM: 5, SCALE: 6, RECIP: 7 },
          extensionCodes: { min: 0x8, max: 0xf },
          doc: "function; 0x8–0xF reserved in the base ISA (a target may name extension codes there)",
        },
        { name: "src_addr", lsb: 39, width: 17, kind: "uint", doc: "L2 word address of the input vector" },
        { name: "dst_addr", lsb: 22, width: 17, kind: "uint", doc: "L2 word address of the output vector" },
        { name: "length", lsb: 6, width: 16, kind: "uint", doc: "element count" },
        {
          name: "flags",
          lsb: 1,
          width: 5,
          kind: "flags",
          doc: "SFU flags",
          bits: [
            { name: "sub_emax", lsb: 4, width: 1, kind: "flag", doc: "subtract e_max first (softmax)" },
            {
              name: "recip_scale",
              lsb: 3,
              width: 1,
              kind: "flag",
              doc: "SCALE divides instead of multiplying",
            },
            { name: "accm", lsb: 2, width: 1, kind: "flag", doc: "accumulate into dst" },
            { name: "reserved", lsb: 0, width: 2, kind: "reserved", doc: "must be zero" },
          ],
        },
        { name: "async", lsb: 0, width: 1, kind: "uint", doc: "0 wait for completion, 1 fire and forget" },
      ],
    },
  ],
  reservedOpcodes: [
    { code: 0x5, doc: "SPARSE_GEMV in v003" },
    { code: 0x6, doc: "SPARSE_GEMM in v003" },
    { code: 0x8, doc: "written by KICK in today's RTL, and dropped" },
  ],
} as const satisfies IsaTable;
