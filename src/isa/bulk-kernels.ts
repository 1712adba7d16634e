/**
 * The bulk codec's inner loops, generated from the compiled table as straight-line JavaScript: one
 * `switch` case per opcode with every shift, mask, limit and reserved-bit mask inlined as a
 * literal. This is what lets a generic table reach tens of millions of words per second (a loop
 * over per-field descriptors runs about half as fast). The source is a pure function of the table,
 * so nothing here states a bit position.
 */
import type { CompiledField, CompiledIsa, CompiledOpcode } from "./compiled.js";

/** Decode `n` words; writes opcode/fields/status and returns the number of invalid words. */
export type DecodeKernel = (
  pairs: Uint32Array,
  n: number,
  opcode: Uint8Array,
  fields: Uint32Array,
  status: Uint8Array,
  valid: Uint8Array,
) => number;

/** Encode `n` rows into pairs; returns the index of the first invalid row, or -1. */
export type EncodeKernel = (
  opcode: Uint8Array,
  fields: Uint32Array,
  n: number,
  out: Uint32Array,
  valid: Uint8Array,
) => number;

export interface BulkKernels {
  readonly stride: number;
  readonly decode: DecodeKernel;
  readonly encode: EncodeKernel;
  /** All enum/flags validity tables, concatenated (kernels index it at literal offsets). */
  readonly valid: Uint8Array;
  /** The generated sources, for debugging and docs. */
  readonly source: { readonly decode: string; readonly encode: string };
}

/** Per-word status the decode kernel writes (re-exported by bulk.ts). */
export const BulkStatus = {
  OK: 0,
  RESERVED_OPCODE: 1,
  RESERVED_BITS: 2,
  RESERVED_VALUE: 3,
  RESERVED_COMBINATION: 4,
} as const;
const ST = BulkStatus;

const kernelCache = new WeakMap<CompiledIsa, BulkKernels>();

export function bulkKernels(isa: CompiledIsa): BulkKernels {
  const cached = kernelCache.get(isa);
  if (cached) return cached;
  const offsets = new Map<CompiledField, number>();
  const tables: Uint8Array[] = [];
  let size = 0;
  for (const op of isa.byCode) {
    for (const f of op?.valueFields ?? []) {
      if (!f.valid) continue;
      offsets.set(f, size);
      tables.push(f.valid);
      size += f.valid.length;
    }
  }
  const valid = new Uint8Array(size);
  let at = 0;
  for (const t of tables) {
    valid.set(t, at);
    at += t.length;
  }
  const source = { decode: decodeSource(isa, offsets), encode: encodeSource(isa, offsets) };
  const kernels: BulkKernels = {
    stride: isa.maxSlots,
    // new Function is safe here: the source is generated from the instruction table, never from input.
    decode: new Function("pairs", "n", "opcode", "fields", "status", "valid", source.decode) as DecodeKernel,
    encode: new Function("opcode", "fields", "n", "out", "valid", source.encode) as EncodeKernel,
    valid,
    source,
  };
  kernelCache.set(isa, kernels);
  return kernels;
}

const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;

/** JS expression of field `f` read from `hi`/`lo` (an int in [0, 2^31)). */
function readExpr(f: CompiledField): string {
  const parts: string[] = [];
  if (f.mLo) parts.push(f.a ? `((lo >>> ${f.a}) & ${hex(f.mLo)})` : `(lo & ${hex(f.mLo)})`);
  if (f.mHi) {
    const h = f.b ? `((hi >>> ${f.b}) & ${hex(f.mHi)})` : `(hi & ${hex(f.mHi)})`;
    parts.push(f.c ? `(${h} << ${f.c})` : h);
  }
  return parts.join(" | ");
}

/**
 * JS condition that is true when `v<slot>` is not a valid value of `f`. A value read from a word
 * never exceeds the mask, so `fromWord` drops that comparison when the limit is the mask.
 */
function invalidExpr(
  f: CompiledField,
  offsets: ReadonlyMap<CompiledField, number>,
  fromWord: boolean,
): string {
  const v = `v${f.slot}`;
  const checks: string[] = [];
  if (f.limit < f.mask || !fromWord) checks.push(`${v} > ${f.limit}`);
  const off = offsets.get(f);
  if (off !== undefined) checks.push(`valid[${off} + ${v}] === 0`);
  return checks.join(" || ");
}

function comboExpr(op: CompiledOpcode): string {
  return op.combinations
    .map((c) => `(${c.slots.map((s, i) => `v${s} === ${c.values[i]}`).join(" && ")})`)
    .join(" || ");
}

function decodeSource(isa: CompiledIsa, offsets: ReadonlyMap<CompiledField, number>): string {
  const S = isa.maxSlots;
  const { b, mask } = isa.opcodeField;
  const cases = isa.byCode.flatMap((op) => {
    if (!op) return [];
    const lines = [`case ${op.code}: {`];
    const reserved = [
      op.reservedHi ? `(hi & ${hex(op.reservedHi)})` : "",
      op.reservedLo ? `(lo & ${hex(op.reservedLo)})` : "",
    ];
    if (op.reservedHi || op.reservedLo) {
      lines.push(`  if (${reserved.filter((x) => x).join(" | ")}) { st = ${ST.RESERVED_BITS}; break; }`);
    }
    for (const f of op.valueFields)
      lines.push(`  const v${f.slot} = ${readExpr(f)}; fields[o + ${f.slot}] = v${f.slot};`);
    const bad = op.valueFields.map((f) => invalidExpr(f, offsets, true)).filter((x) => x);
    if (bad.length) lines.push(`  if (${bad.join(" || ")}) { st = ${ST.RESERVED_VALUE}; break; }`);
    if (op.combinations.length) lines.push(`  if (${comboExpr(op)}) st = ${ST.RESERVED_COMBINATION};`);
    lines.push("  break;", "}");
    return lines;
  });
  return [
    "let bad = 0;",
    "for (let i = 0; i < n; i++) {",
    "  const lo = pairs[2 * i], hi = pairs[2 * i + 1];",
    `  const code = (hi >>> ${b}) & ${hex(mask)};`,
    "  opcode[i] = code;",
    `  const o = i * ${S};`,
    "  let st = 0;",
    "  switch (code) {",
    ...cases.map((l) => `  ${l}`),
    `  default: st = ${ST.RESERVED_OPCODE};`,
    "  }",
    "  status[i] = st;",
    "  if (st !== 0) bad++;",
    "}",
    "return bad;",
  ].join("\n");
}

function encodeSource(isa: CompiledIsa, offsets: ReadonlyMap<CompiledField, number>): string {
  const S = isa.maxSlots;
  const { b } = isa.opcodeField;
  const cases = isa.byCode.flatMap((op) => {
    if (!op) return [];
    const lines = [`case ${op.code}: {`];
    for (const f of op.valueFields) lines.push(`  const v${f.slot} = fields[o + ${f.slot}];`);
    const bad = op.valueFields.map((f) => invalidExpr(f, offsets, false)).filter((x) => x);
    if (op.combinations.length) bad.push(comboExpr(op));
    if (bad.length) lines.push(`  if (${bad.join(" || ")}) return i;`);
    const lo: string[] = [];
    const hi = [`${op.code << b}`];
    for (const f of op.valueFields) {
      const v = `v${f.slot}`;
      if (f.mLo) lo.push(f.a ? `(${v} << ${f.a})` : v);
      if (f.mHi) {
        const part = f.c ? `(${v} >>> ${f.c})` : v;
        hi.push(f.b ? `(${part} << ${f.b})` : part);
      }
    }
    lines.push(
      `  out[2 * i] = ${lo.length ? lo.join(" | ") : "0"};`,
      `  out[2 * i + 1] = ${hi.join(" | ")};`,
    );
    lines.push("  break;", "}");
    return lines;
  });
  return [
    "for (let i = 0; i < n; i++) {",
    `  const o = i * ${S};`,
    "  switch (opcode[i]) {",
    ...cases.map((l) => `  ${l}`),
    "  default: return i;",
    "  }",
    "}",
    "return -1;",
  ].join("\n");
}
