/**
 * How a graph value lives in L2. A value of `rows` tokens × `n` features is stored as column
 * blocks; each block is one header word (scratch for SCALE's scalar-first operand, docs/program.md
 * §4.5) followed by `rows` rows of ceil(width/8) words. Decode values (rows = 1) are one block, so a
 * GEMV may read or write any word-aligned range of them; prefill values use blocks no wider than a
 * stream tile, because a GEMM reads and writes rows with a stride fixed by its K or N. Multi-head
 * values align their blocks to whole heads. Views (slices, aliases) point into another value's
 * buffer and have no header of their own.
 */
import type { L2Addr, L2Buf } from "./draft.js";
import type { Machine } from "./machine.js";
import type { HostOperand } from "./program.js";

export interface Block {
  /** First feature (column) of the block and its width. */
  readonly start: number;
  readonly width: number;
  /** First data word (row 0) of the block. */
  readonly data: L2Addr;
  /** Words between consecutive rows: ceil(width / elements per word). */
  readonly rowWords: number;
  /** The scratch word just before `data`, when this block owns one. */
  readonly header?: L2Addr;
}

export interface LValue {
  readonly name: string;
  readonly n: number;
  readonly rows: number;
  readonly blocks: readonly Block[];
  /** The buffer that owns the storage (for views: the viewed value's buffer). */
  readonly buf: L2Buf;
  /** True when the value is a view into another value's storage. */
  readonly view?: boolean;
}

const lcm = (a: number, b: number): number => {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return (a / gcd(a, b)) * b;
};

/** Column blocks of a value: one for a single row; otherwise tile-sized, aligned to `unit` columns. */
export function blockWidths(m: Machine, n: number, rows: number, unit = 1): number[] {
  if (rows === 1) return [n];
  const step = lcm(unit, m.elemsPerWord);
  const b = step <= m.tileRows ? Math.floor(m.tileRows / step) * step : m.tileRows;
  const out: number[] = [];
  for (let s = 0; s < n; s += b) out.push(Math.min(b, n - s));
  return out;
}

export function layoutWords(m: Machine, widths: readonly number[], rows: number): number {
  return widths.reduce((s, w) => s + 1 + rows * Math.ceil(w / m.elemsPerWord), 0);
}

/** Lays out a value in a fresh buffer. */
export function placeValue(m: Machine, buf: L2Buf, name: string, n: number, rows: number, unit = 1): LValue {
  const widths = blockWidths(m, n, rows, unit);
  const blocks: Block[] = [];
  let w = 0;
  let start = 0;
  for (const width of widths) {
    const rowWords = Math.ceil(width / m.elemsPerWord);
    blocks.push({ start, width, rowWords, header: { buf, word: w }, data: { buf, word: w + 1 } });
    w += 1 + rows * rowWords;
    start += width;
  }
  return { name, n, rows, blocks, buf };
}

/** The word holding (row, column) — the column must start a word inside its block. */
export function addrOf(m: Machine, v: LValue, row: number, col: number): L2Addr | undefined {
  for (const b of v.blocks) {
    if (col < b.start || col >= b.start + b.width) continue;
    const off = col - b.start;
    if (off % m.elemsPerWord !== 0) return undefined;
    return { buf: b.data.buf, word: b.data.word + row * b.rowWords + off / m.elemsPerWord };
  }
  return undefined;
}

/** The block containing column range [col, col+count), if one block holds all of it. */
export function blockOf(v: LValue, col: number, count: number): Block | undefined {
  return v.blocks.find((b) => col >= b.start && col + count <= b.start + b.width);
}

/** True when the value's rows of every block are packed (width a whole number of words). */
export function isPacked(m: Machine, v: LValue): boolean {
  return v.blocks.every((b) => b.width % m.elemsPerWord === 0);
}

/** Words of a value's data region of one block (all rows). */
export const blockWords = (v: LValue, b: Block): number => v.rows * b.rowWords;

/** A slice view of columns [start, start+count) when it needs no copy (single row, word aligned). */
export function sliceView(
  m: Machine,
  v: LValue,
  start: number,
  count: number,
  name: string,
): LValue | undefined {
  if (v.rows !== 1 || start % m.elemsPerWord !== 0) return undefined;
  const b = blockOf(v, start, count);
  if (!b) return undefined;
  const data = { buf: b.data.buf, word: b.data.word + (start - b.start) / m.elemsPerWord };
  const block: Block = { start: 0, width: count, rowWords: Math.ceil(count / m.elemsPerWord), data };
  return { name, n: count, rows: 1, blocks: [block], buf: v.buf, view: true };
}

/** Host-side image of a value: its blocks' data words back to back (headers dropped). */
export function hostLayout(m: Machine, v: LValue): { elements: number; blocks?: number[]; rows?: number } {
  const padded = v.blocks.reduce((s, b) => s + v.rows * b.rowWords * m.elemsPerWord, 0);
  if (v.blocks.length === 1 && v.rows === 1) return { elements: v.n };
  return { elements: padded, blocks: v.blocks.map((b) => b.width), rows: v.rows };
}

/** A HostOperand for a value's host image at `region`/`offset`. */
export function hostOperandOf(
  m: Machine,
  v: LValue,
  region: string,
  offset: number,
  dtype: HostOperand["dtype"] = "bf16",
): HostOperand {
  const l = hostLayout(m, v);
  return {
    region,
    offset,
    elements: l.elements,
    dtype,
    ...(l.blocks ? { blocks: l.blocks, rows: l.rows } : {}),
  } as HostOperand;
}

/** Bytes of a value's host image. */
export function hostBytes(m: Machine, v: LValue): number {
  return v.blocks.reduce((s, b) => s + v.rows * b.rowWords * m.wordBytes, 0);
}
