/**
 * Writing quantized rows into the image in the stored formats (docs/program.md §4.3 and
 * docs/layout.md §6), with the sha256 of each piece computed on the way:
 *
 * - order-0 tile: rows (padded to beats) are written as they arrive, in row order; the scales are
 *   kept (one float per row/group) and written after the last row, padded to a beat;
 * - order-1 tile: K-block-major, so the tile is assembled in memory (tiles are bounded by an
 *   instruction's size) and written once complete;
 * - INT4 table: each row is its codes (whole beats) followed by its scales, padded to a beat.
 *
 * Rows must arrive in order (the pipeline guarantees it); anything else is a bug. Writes go through
 * a WriteQueue (not awaited one by one); `release` is called once the writer no longer needs the
 * `packed` buffer it was given (its write finished, or it was copied), so the caller can reuse it.
 */
import { createHash, type Hash } from "node:crypto";
import { ExitCode, PccxError } from "../../diag/index.js";
import {
  type Group,
  groupsPerRowOf,
  padBeat,
  type ScaleDtype,
  scaleBytesOf,
  tileScaleBytes,
} from "../plan/sizes.js";
import { BEAT_BYTES, beatRowBytes, CODES_PER_BEAT, encodeScales, packedRowBytes } from "../quant/index.js";
import type { WriteQueue } from "./buffers.js";

export interface PieceFormat {
  readonly layout: "tile0" | "tile1" | "table";
  readonly rows: number;
  readonly cols: number;
  readonly group: Group;
  readonly scaleDtype: ScaleDtype;
  readonly fileOffset: number;
  readonly bytes: number;
}

export interface PieceWriter {
  /**
   * Rows [first, first + n) of the piece: packed codes (n × ceil(cols/2)) and n × groups scales.
   * `scales` may be reused as soon as this returns, `packed` once `release` is called.
   */
  add(
    first: number,
    n: number,
    packed: Uint8Array,
    scales: Float32Array,
    release?: () => void,
  ): Promise<void>;
  /** Queues what is left; returns the piece's sha256 (hashed as the bytes were queued). */
  finish(): Promise<string>;
}

const bug = (m: string) => new PccxError("layout/piece-order", ExitCode.INTERNAL, m);

abstract class Base implements PieceWriter {
  protected next = 0;
  protected readonly hash: Hash = createHash("sha256");
  protected readonly prb: number;
  protected readonly gpr: number;
  protected readonly sb: number;

  constructor(
    protected readonly out: WriteQueue,
    protected readonly f: PieceFormat,
  ) {
    this.prb = packedRowBytes(f.cols);
    this.gpr = groupsPerRowOf(f.group, f.cols);
    this.sb = scaleBytesOf(f.scaleDtype);
  }

  protected take(first: number, n: number): void {
    if (first !== this.next || first + n > this.f.rows) {
      throw bug(`rows ${first}..${first + n} arrived, expected row ${this.next} of ${this.f.rows}`);
    }
    this.next += n;
  }

  protected done(): void {
    if (this.next !== this.f.rows) throw bug(`piece finished at row ${this.next} of ${this.f.rows}`);
  }

  abstract add(
    first: number,
    n: number,
    packed: Uint8Array,
    scales: Float32Array,
    release?: () => void,
  ): Promise<void>;
  abstract finish(): Promise<string>;
}

class Tile0Writer extends Base {
  private readonly scales: Float32Array;
  private readonly rb = beatRowBytes(this.f.cols);

  constructor(out: WriteQueue, f: PieceFormat) {
    super(out, f);
    this.scales = new Float32Array(f.rows * this.gpr);
  }

  async add(
    first: number,
    n: number,
    packed: Uint8Array,
    scales: Float32Array,
    release?: () => void,
  ): Promise<void> {
    this.take(first, n);
    this.scales.set(scales, first * this.gpr);
    const at = this.f.fileOffset + first * this.rb;
    if (this.rb === this.prb) {
      this.hash.update(packed);
      await this.out.write(packed, at, release);
      return;
    }
    const rows = new Uint8Array(n * this.rb);
    for (let i = 0; i < n; i++) rows.set(packed.subarray(i * this.prb, (i + 1) * this.prb), i * this.rb);
    release?.();
    this.hash.update(rows);
    await this.out.write(rows, at);
  }

  async finish(): Promise<string> {
    this.done();
    const tail = new Uint8Array(tileScaleBytes(this.f));
    tail.set(encodeScales(this.scales, this.f.scaleDtype));
    this.hash.update(tail);
    await this.out.write(tail, this.f.fileOffset + this.f.rows * this.rb);
    return this.hash.digest("hex");
  }
}

/** K-block-major: per block of 32 K-elements one beat per row, then (group 32) the block's scales. */
class Tile1Writer extends Base {
  private readonly buf: Uint8Array;
  private readonly blocks = Math.ceil(this.f.cols / CODES_PER_BEAT);
  private readonly stride: number;

  constructor(out: WriteQueue, f: PieceFormat) {
    super(out, f);
    this.buf = new Uint8Array(f.bytes);
    this.stride = f.group === 32 ? f.rows * BEAT_BYTES + padBeat(f.rows * this.sb) : f.rows * BEAT_BYTES;
  }

  async add(
    first: number,
    n: number,
    packed: Uint8Array,
    scales: Float32Array,
    release?: () => void,
  ): Promise<void> {
    this.take(first, n);
    const enc = encodeScales(scales, this.f.scaleDtype);
    const half = BEAT_BYTES;
    for (let i = 0; i < n; i++) {
      const r = first + i;
      for (let b = 0; b < this.blocks; b++) {
        const src = packed.subarray(
          i * this.prb + b * half,
          Math.min((i + 1) * this.prb, i * this.prb + (b + 1) * half),
        );
        this.buf.set(src, b * this.stride + r * BEAT_BYTES);
        if (this.f.group === 32) {
          const s = enc.subarray((i * this.gpr + b) * this.sb, (i * this.gpr + b + 1) * this.sb);
          this.buf.set(s, b * this.stride + this.f.rows * BEAT_BYTES + r * this.sb);
        }
      }
      if (this.f.group === 0) {
        this.buf.set(enc.subarray(i * this.sb, (i + 1) * this.sb), this.blocks * this.stride + r * this.sb);
      }
    }
    release?.();
  }

  async finish(): Promise<string> {
    this.done();
    this.hash.update(this.buf);
    await this.out.write(this.buf, this.f.fileOffset);
    return this.hash.digest("hex");
  }
}

/** Row table: [codes of the row (whole beats) | the row's scales], each row padded to a beat. */
class TableWriter extends Base {
  private readonly rb = beatRowBytes(this.f.cols);
  private readonly stride = padBeat(this.rb + this.gpr * this.sb);

  async add(
    first: number,
    n: number,
    packed: Uint8Array,
    scales: Float32Array,
    release?: () => void,
  ): Promise<void> {
    this.take(first, n);
    const enc = encodeScales(scales, this.f.scaleDtype);
    const out = new Uint8Array(n * this.stride);
    const sRow = this.gpr * this.sb;
    for (let i = 0; i < n; i++) {
      out.set(packed.subarray(i * this.prb, (i + 1) * this.prb), i * this.stride);
      out.set(enc.subarray(i * sRow, (i + 1) * sRow), i * this.stride + this.rb);
    }
    release?.();
    this.hash.update(out);
    await this.out.write(out, this.f.fileOffset + first * this.stride);
  }

  async finish(): Promise<string> {
    this.done();
    return this.hash.digest("hex");
  }
}

export function pieceWriter(out: WriteQueue, f: PieceFormat): PieceWriter {
  if (f.layout === "tile0") return new Tile0Writer(out, f);
  if (f.layout === "tile1") return new Tile1Writer(out, f);
  return new TableWriter(out, f);
}
