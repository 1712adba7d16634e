/**
 * Bulk encode/decode: whole programs as columns, without a bigint or an object per word. Words are
 * `Uint32Array` lo/hi pairs (see words.ts); decoded instructions are `InstrColumns`: the opcode code
 * and, per word, `stride` raw field values in the opcode's slot order (its non-reserved fields in
 * table order; flags as their raw bits, enums as their codes). The loops are generated from the
 * table (bulk-kernels.ts); errors are reported through the single-word codec, so they read the same.
 */
import { invalidInput, isPccxError } from "../diag/index.js";
import { BulkStatus, bulkKernels } from "./bulk-kernels.js";
import { combinationProblem, decode, encode, instrFromRaw, valueProblem } from "./codec.js";
import { type CompiledIsa, compiledIsa, hex, type IsaOptions } from "./compiled.js";
import type { Instr, LooseInstr } from "./instr.js";
import { makeWord, wordsToPairs } from "./words.js";

export { BulkStatus };

export interface InstrColumns {
  readonly count: number;
  /** Field values per row: row i's values are fields[i*stride .. i*stride + nFields). */
  readonly stride: number;
  readonly opcode: Uint8Array;
  readonly fields: Uint32Array;
  /** BulkStatus per word (all OK after a strict decode). */
  readonly status: Uint8Array;
  /** Number of rows whose status is not OK. */
  readonly invalid: number;
}

/** Empty columns for `count` rows. */
export function allocColumns(count: number, opts?: IsaOptions): InstrColumns {
  const stride = compiledIsa(opts).maxSlots;
  return {
    count,
    stride,
    opcode: new Uint8Array(count),
    fields: new Uint32Array(count * stride),
    status: new Uint8Array(count),
    invalid: 0,
  };
}

/**
 * Decode `pairs` (lo/hi halves) into columns (`into`, when given and large enough, is reused).
 * Strict mode (default) throws the precise PccxError of the first invalid word, with its index;
 * lenient mode records a BulkStatus per word.
 */
export function decodeBulk(
  pairs: Uint32Array,
  opts: IsaOptions & { readonly mode?: "strict" | "lenient" } = {},
  into?: InstrColumns,
): InstrColumns {
  const isa = compiledIsa(opts);
  const k = bulkKernels(isa);
  const n = pairs.length >>> 1;
  const cols =
    into && into.opcode.length >= n && into.stride === k.stride
      ? { ...into, count: n }
      : allocColumns(n, opts);
  const invalid = k.decode(pairs, cols.count, cols.opcode, cols.fields, cols.status, k.valid);
  if (invalid && opts.mode !== "lenient") {
    const i = cols.status.findIndex((s) => s !== BulkStatus.OK);
    throwAt(i, () => decode(makeWord(pairs[2 * i + 1]!, pairs[2 * i]!), "strict", opts));
  }
  return { ...cols, invalid };
}

/** Encode columns into lo/hi pairs (into `out` when given). Throws the precise error of a bad row. */
export function encodeBulk(
  cols: Pick<InstrColumns, "count" | "stride" | "opcode" | "fields">,
  opts: IsaOptions = {},
  out: Uint32Array = new Uint32Array(cols.count * 2),
): Uint32Array {
  const isa = compiledIsa(opts);
  const k = bulkKernels(isa);
  if (cols.stride !== k.stride)
    throw new RangeError(`columns stride ${cols.stride}, the table needs ${k.stride}`);
  if (out.length < cols.count * 2)
    throw new RangeError(`output holds ${out.length / 2} words, need ${cols.count}`);
  const bad = k.encode(cols.opcode, cols.fields, cols.count, out, k.valid);
  if (bad >= 0) throwAt(bad, () => rowError(isa, cols, bad));
  return out;
}

/** The typed instruction in row `i` of (valid) columns. */
export function instrAt(cols: InstrColumns, i: number, opts?: IsaOptions): Instr {
  const op = compiledIsa(opts).byCode[cols.opcode[i]!];
  if (!op || cols.status[i] !== BulkStatus.OK)
    throw new RangeError(`row ${i} does not hold a valid instruction`);
  return instrFromRaw(op, cols.fields, i * cols.stride);
}

/** Columns of typed instructions (validated as `encode` validates them). */
export function columnsOf(instrs: readonly (Instr | LooseInstr)[], opts?: IsaOptions): InstrColumns {
  const words = BigUint64Array.from(instrs.map((instr) => encode(instr, opts)));
  return decodeBulk(wordsToPairs(words), opts);
}

function rowError(
  isa: CompiledIsa,
  cols: Pick<InstrColumns, "stride" | "opcode" | "fields">,
  i: number,
): never {
  const code = cols.opcode[i]!;
  const op = isa.byCode[code];
  if (!op) {
    const note = isa.reservedOpcodeDoc.get(code);
    throw invalidInput("isa/reserved-opcode", `opcode 0x${hex(code)} is reserved${note ? ` (${note})` : ""}`);
  }
  const base = i * cols.stride;
  const raw = Array.from(cols.fields.subarray(base, base + op.valueFields.length));
  const p =
    op.valueFields.map((f) => valueProblem(op, f, raw[f.slot]!)).find((x) => x !== undefined) ??
    combinationProblem(op, raw);
  throw invalidInput(p?.code ?? "isa/field-range", p?.message ?? `${op.mnemonic}: invalid fields`);
}

/** Run `f`, which throws a PccxError; rethrow it with the word index in front of its message. */
function throwAt(index: number, f: () => unknown): never {
  try {
    f();
  } catch (e) {
    if (isPccxError(e)) {
      throw invalidInput(e.code, `word ${index}: ${e.message}`, {
        notes: e.notes,
        ...(e.fix ? { fix: e.fix } : {}),
        at: { ...e.at, byteOffset: index * 8 },
      });
    }
    throw e;
  }
  throw new Error(`internal: word ${index} was flagged invalid by the bulk kernel but checks clean`);
}
