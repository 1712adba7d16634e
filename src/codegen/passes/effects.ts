/**
 * What a draft step touches, for the waits pass: L2 word ranges read and written (sizes at their
 * relocation maximum), and DDR byte ranges (a relocated range conservatively covers the region).
 */

import { memcpyShape } from "../alloc/const.js";
import type { DStep, L2Addr, Val } from "../draft.js";
import { isReloc } from "../draft.js";
import type { Machine } from "../machine.js";
import type { HostOperand } from "../program.js";
import { maxOf } from "./schedule.js";

export type Range = readonly [number, number];

export interface L2Effects {
  readonly reads: Range[];
  readonly writes: Range[];
}

export interface DdrRange {
  readonly region: string;
  readonly lo: number;
  readonly hi: number;
}

const at = (a: L2Addr): number => (a.buf.offset ?? 0) + a.word;
const words = (m: Machine, elements: number) => Math.ceil(elements / m.elemsPerWord);

export function l2Effects(m: Machine, s: DStep): L2Effects {
  const reads: Range[] = [];
  const writes: Range[] = [];
  const span = (a: L2Addr, n: number): Range => [at(a), at(a) + Math.max(1, n)];
  if (s.kind === "gemv") {
    const M = maxOf(s.shape.a);
    const N = maxOf(s.shape.b);
    const K = maxOf(s.shape.c);
    reads.push(span(s.src, M * words(m, K)));
    writes.push(span(s.dest, M * words(m, N)));
    if (s.accm) reads.push(span(s.dest, M * words(m, N)));
  } else if (s.kind === "cvo") {
    const len = maxOf(s.length);
    const w = words(m, len);
    const kind = m.cvo.get(s.func)?.operands ?? "unary";
    if (kind === "scalar_first") reads.push(span(s.src, 1 + w));
    else if (kind === "rope_pairs") reads.push(span(s.src, w + 2 * words(m, Math.ceil(len / 2))));
    else reads.push(span(s.src, w));
    const dw = kind === "reduce" ? 1 : w;
    writes.push(span(s.dst, dw));
    if (kind === "binary_dst" || s.accm) reads.push(span(s.dst, dw));
  } else if (s.kind === "memcpy") {
    const r = memcpyShape(m, s.count);
    const w = words(m, maxOf(r.a) * maxOf(r.b) * maxOf(r.c));
    if (s.src) reads.push(span(s.src, w));
    if (s.dest) writes.push(span(s.dest, w));
  }
  return { reads, writes };
}

export const overlaps = (a: Range, b: Range) => a[0] < b[1] && b[0] < a[1];

export function conflicts(a: L2Effects, b: L2Effects): boolean {
  for (const w of a.writes) {
    for (const x of b.reads) if (overlaps(w, x)) return true;
    for (const x of b.writes) if (overlaps(w, x)) return true;
  }
  for (const w of b.writes) for (const x of a.reads) if (overlaps(w, x)) return true;
  return false;
}

const DTYPE_BYTES: Readonly<Record<HostOperand["dtype"], number>> = { f32: 4, bf16: 2, i32: 4, int4: 0.5 };

/** Bytes a host operand spans (block layouts included). */
export function operandBytes(m: Machine, o: HostOperand): number {
  const b = DTYPE_BYTES[o.dtype];
  if (o.blocks && o.rows !== undefined) {
    const rows = o.rows;
    return o.blocks.reduce((s, w) => s + rows * words(m, w) * m.elemsPerWord * b, 0);
  }
  return Math.ceil(o.elements * b);
}

export function operandRange(m: Machine, o: HostOperand): DdrRange {
  return { region: o.region, lo: o.offset, hi: o.offset + operandBytes(m, o) };
}

export function dmaRange(offset: Val, bytes: Val, region: string): DdrRange {
  if (isReloc(offset) || isReloc(bytes)) return { region, lo: 0, hi: Number.POSITIVE_INFINITY };
  return { region, lo: offset, hi: offset + bytes };
}

export const ddrOverlap = (a: DdrRange, b: DdrRange) => a.region === b.region && a.lo < b.hi && b.lo < a.hi;
