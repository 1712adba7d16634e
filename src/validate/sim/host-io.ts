/**
 * Host operands as rows (docs/program.md §5, src/codegen/host-ops): an operand is one row of
 * `elements` values, or `rows` token rows stored as column blocks — block b (width w_b) holds the
 * rows' columns [s_b, s_b + w_b), each row padded to whole L2 words, block after block. A view reads
 * the operand's whole storage span once (typed by its dtype), lets a host function address
 * element (t, j), and writes the span back, so padding and elements a function leaves alone keep
 * their DDR contents.
 */
import type { HostOperand } from "../../codegen/program.js";
import { ELEM_BYTES, type ElemType, type RegionMem } from "./ddr.js";
import { fault } from "./faults.js";
import type { SimState } from "./state.js";

export class RowView {
  /** Storage offsets (elements) of each block's first row and each block's padded row width. */
  private readonly blockStart: Int32Array;
  private readonly blockPad: Int32Array;
  private readonly blockCol: Int32Array;
  readonly width: number;

  constructor(
    readonly data: Float32Array,
    readonly rows: number,
    blocks: readonly number[],
    /** Row padding unit: the L2 word for column-block operands, 1 for plain contiguous rows. */
    padTo: number,
  ) {
    const n = blocks.length;
    this.blockStart = new Int32Array(n);
    this.blockPad = new Int32Array(n);
    this.blockCol = new Int32Array(n + 1);
    let at = 0;
    let col = 0;
    blocks.forEach((w, b) => {
      const pad = Math.ceil(w / padTo) * padTo;
      this.blockStart[b] = at;
      this.blockPad[b] = pad;
      this.blockCol[b] = col;
      at += rows * pad;
      col += w;
    });
    this.blockCol[n] = col;
    this.width = col;
  }

  /** Storage index of element (t, j); faults outside the operand. */
  at(t: number, j: number): number {
    if (t < 0 || t >= this.rows || j < 0 || j >= this.width) {
      throw fault("host-op", `element (${t}, ${j}) is outside an operand of ${this.rows} × ${this.width}`);
    }
    let b = 0;
    while (j >= this.blockCol[b + 1]!) b++;
    return this.blockStart[b]! + t * this.blockPad[b]! + (j - this.blockCol[b]!);
  }

  get(t: number, j: number): number {
    return this.data[this.at(t, j)]!;
  }

  set(t: number, j: number, v: number): void {
    this.data[this.at(t, j)] = v;
  }

  /** Row t as a dense array. */
  row(t: number): Float32Array {
    const out = new Float32Array(this.width);
    for (let j = 0; j < this.width; j++) out[j] = this.get(t, j);
    return out;
  }

  setRow(t: number, v: ArrayLike<number>): void {
    for (let j = 0; j < this.width; j++) this.set(t, j, v[j]!);
  }
}

/** An operand bound to its DDR range. */
export interface BoundOperand {
  readonly op: HostOperand;
  readonly region: RegionMem;
  readonly type: ElemType;
  /** Bytes the operand spans (its storage, padding included). */
  readonly bytes: number;
  readonly view: RowView;
}

/** Rows and block widths of an operand; `rowsAttr` applies when the operand itself has no rows. */
function geometry(
  o: HostOperand,
  rowsAttr: number | undefined,
  what: string,
): { rows: number; blocks: number[]; padded: boolean } {
  if (o.rows !== undefined) {
    const blocks = o.blocks ? [...o.blocks] : [o.elements / o.rows];
    if (!Number.isInteger(o.rows) || o.rows < 1 || blocks.some((w) => !Number.isInteger(w) || w < 0)) {
      throw fault(
        "host-op",
        `${what}: rows ${o.rows} and blocks [${blocks}] do not describe ${o.elements} elements`,
      );
    }
    return { rows: o.rows, blocks, padded: true };
  }
  const rows = rowsAttr ?? 1;
  if (!Number.isInteger(rows) || rows < 1 || o.elements % rows !== 0) {
    throw fault("host-op", `${what}: ${o.elements} elements do not split into ${rows} rows`);
  }
  return { rows, blocks: [o.elements / rows], padded: false };
}

/**
 * Binds and reads an operand (inputs and outputs alike: outputs keep what they do not write).
 * `unread`: only check the range (outputs a function writes byte by byte).
 */
export function bindOperand(
  s: SimState,
  o: HostOperand,
  rowsAttr: number | undefined,
  what: string,
  unread = false,
): BoundOperand {
  const type = o.dtype as ElemType;
  if (!(type in ELEM_BYTES)) throw fault("host-op", `${what}: unknown dtype ${o.dtype}`);
  const { rows, blocks, padded } = geometry(o, rowsAttr, what);
  const padTo = padded ? s.l2.epw : 1;
  const span = Math.max(o.elements, spanOf(rows, blocks, padTo));
  const bytes = Math.ceil(span * ELEM_BYTES[type]);
  const region = s.ddr.at(o.region, o.offset, bytes, what);
  const data = unread ? new Float32Array(0) : s.ddr.readTyped(region, o.offset, span, type);
  return { op: o, region, type, bytes, view: new RowView(data, rows, blocks, padTo) };
}

function spanOf(rows: number, blocks: readonly number[], padTo: number): number {
  return blocks.reduce((a, w) => a + rows * Math.ceil(w / padTo) * padTo, 0);
}

/** Stores a bound output back to DDR. */
export function storeOperand(s: SimState, b: BoundOperand): void {
  s.ddr.writeTyped(b.region, b.op.offset, b.view.data, b.type);
}
