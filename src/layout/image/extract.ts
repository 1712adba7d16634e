/**
 * Reading the rows of one tile (or table) out of the checkpoint in bounded memory: a band of stored
 * rows is read with one positional read and kept while the next jobs need it (column tiles of the
 * same rows, the other port's half), then each job gathers its rows × column range into a fresh
 * block the quantizer owns. BF16 goes to the workers as raw bits, F32 as is; FP8 / MXFP4 rows
 * covering whole blocks go as such (dequantized on the workers); only a transpose of non-BF16 data
 * or a column slice of pre-quantized data is made float32 here. Folded norms are not applied here:
 * the writer sends their factors with the task and the worker scales each row as it decodes it.
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import { decodeToF32 } from "../../parser/safetensors/index.js";
import { dequantFp8Rows, dequantMxfp4Rows, MXFP4_BLOCK, type RowBlock } from "../quant/index.js";
import type { BufferPool, RawReader } from "./buffers.js";
import { type SourceTensor, storedGeometry, type WeightSource } from "./source.js";

/** The logical rows × column range one job quantizes. */
export interface JobRows {
  /** Expert index of a stacked tensor (0 otherwise). */
  readonly expert: number;
  /** The [rows, cols] matrix the job indexes, one expert's (the stored one, transposed or not). */
  readonly matrix: { readonly rows: number; readonly cols: number };
  /** `matrix` is the stored matrix transposed: W[r][c] = stored[e·cols + c][r]. */
  readonly transposed: boolean;
  /** `matrix` is the logical [out, in] matrix transposed (folded norms then scale its rows). */
  readonly flipped?: boolean;
  /** Logical rows first, first+step, … (n of them). */
  readonly first: number;
  readonly step: number;
  readonly n: number;
  readonly c0: number;
  readonly kc: number;
}

type Band =
  | { readonly kind: "u16"; readonly a: number; readonly b: number; readonly data: Uint16Array }
  | { readonly kind: "f32"; readonly a: number; readonly b: number; readonly data: Float32Array }
  | { readonly kind: "fp8"; readonly a: number; readonly b: number; readonly data: Uint8Array }
  | {
      readonly kind: "mxfp4";
      readonly a: number;
      readonly b: number;
      readonly data: Uint8Array;
      readonly scales: Uint8Array;
    };

const bug = (m: string) => new PccxError("layout/extract", ExitCode.INTERNAL, m);

/** Reads and slices one checkpoint tensor; one band of stored rows cached at a time. */
export class TensorReader {
  readonly rows: number;
  readonly k: number;
  private band?: Band;
  /** The band's buffer when it came from the writer's pool (given back when the band is replaced). */
  private bandBuffer?: ArrayBufferLike;
  private scaleInv?: Float32Array;

  /**
   * `io`: the writer's reader and buffer pool; job blocks are then read and gathered into recycled
   * buffers (they come back with the workers' results).
   */
  constructor(
    private readonly src: WeightSource,
    readonly name: string,
    readonly source: SourceTensor,
    private readonly bandBytes: number,
    private readonly io?: { readonly raw: RawReader; readonly pool: BufferPool },
  ) {
    const g = storedGeometry(source);
    this.rows = g.rows;
    this.k = g.k;
  }

  /** Bytes of one stored row in the checkpoint. */
  rowBytes(): number {
    const s = this.source;
    if (s.kind === "mxfp4") return this.k / 2 + this.k / MXFP4_BLOCK;
    return s.entry.byteLength / Math.max(1, this.rows);
  }

  /** Ensures stored rows [a, b) are in the band. */
  private async ensure(a: number, b: number): Promise<Band> {
    const cur = this.band;
    if (cur && cur.a <= a && b <= cur.b) return cur;
    const want = Math.max(b - a, Math.floor(this.bandBytes / Math.max(1, this.rowBytes())));
    const end = Math.min(this.rows, a + want);
    this.release();
    this.band = await this.load(a, Math.max(end, b));
    return this.band;
  }

  /** Drops the cached band (its buffer goes back to the writer's pool; nothing else views it). */
  release(): void {
    if (this.bandBuffer) this.io?.pool.give(this.bandBuffer);
    this.band = undefined;
    this.bandBuffer = undefined;
  }

  private async load(a: number, b: number): Promise<Band> {
    const s = this.source;
    const k = this.k;
    if (s.kind === "mxfp4") {
      const data = await this.src.readBytes(s.blocks.name, (a * k) / 2, ((b - a) * k) / 2);
      const scales = await this.src.readBytes(
        s.scales.name,
        (a * k) / MXFP4_BLOCK,
        ((b - a) * k) / MXFP4_BLOCK,
      );
      return { kind: "mxfp4", a, b, data, scales };
    }
    const per = s.entry.byteLength / Math.max(1, this.rows) / k;
    const start = a * k * per;
    const length = (b - a) * k * per;
    const raw = ownAligned(
      this.io
        ? await this.io.raw.read(s.entry.name, start, length, this.io.pool)
        : await this.src.readBytes(s.entry.name, start, length),
    );
    // Bands are read into pool buffers too: 8 MiB fresh buffers would make V8 collect garbage often.
    if (this.io && (s.entry.dtype === "BF16" || s.entry.dtype === "F32" || s.kind === "fp8"))
      this.bandBuffer = raw.buffer;
    if (s.kind === "fp8") {
      this.scaleInv ??= await this.readScaleInv(s);
      return { kind: "fp8", a, b, data: raw };
    }
    if (s.entry.dtype === "BF16")
      return { kind: "u16", a, b, data: new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2) };
    if (s.entry.dtype === "F32")
      return { kind: "f32", a, b, data: new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4) };
    const data = new Float32Array((b - a) * k);
    decodeToF32(s.entry.dtype, raw, data.length, data);
    this.io?.pool.give(raw.buffer);
    return { kind: "f32", a, b, data };
  }

  private async readScaleInv(s: Extract<SourceTensor, { kind: "fp8" }>): Promise<Float32Array> {
    const raw = await this.src.readBytes(s.scale.name);
    const n = s.scale.shape.reduce((p, d) => p * d, 1);
    const out = new Float32Array(n);
    decodeToF32(s.scale.dtype, raw, n, out);
    return out;
  }

  /** Stored rows [a, b) as float32 (dequantized), for scans and the float paths. */
  async storedRowsF32(a: number, b: number): Promise<Float32Array> {
    const band = await this.ensure(a, b);
    return this.bandF32(band, a, b);
  }

  private bandF32(band: Band, a: number, b: number): Float32Array {
    const k = this.k;
    const off = (a - band.a) * k;
    const n = (b - a) * k;
    switch (band.kind) {
      case "f32":
        return band.data.slice(off, off + n);
      case "u16": {
        const out = new Float32Array(n);
        widenBf16(band.data, off, new Uint32Array(out.buffer), 0, n);
        return out;
      }
      case "fp8": {
        const s = this.source as Extract<SourceTensor, { kind: "fp8" }>;
        return dequantFp8Rows({
          data: band.data.subarray(off, off + n),
          k,
          firstRow: a,
          scaleInv: this.scaleInv!,
          blockSize: s.blockSize,
          tensor: this.name,
        });
      }
      case "mxfp4":
        return dequantMxfp4Rows({
          blocks: band.data.subarray(off / 2, (off + n) / 2),
          scales: band.scales.subarray(off / MXFP4_BLOCK, (off + n) / MXFP4_BLOCK),
          k,
          tensor: this.name,
        });
    }
  }

  /** The job's rows as a block the quantizer owns (fresh buffers). */
  async block(j: JobRows): Promise<RowBlock> {
    if (j.n <= 0 || j.kc <= 0) throw bug(`empty job on ${this.name}`);
    const { rows: R, cols: C } = j.matrix;
    const storedK = j.transposed ? R : C;
    if (storedK !== this.k && !(this.source.kind === "mxfp4" && C === this.k)) {
      throw bug(`${this.name}: stored rows of ${this.k} do not fit a [${R}, ${C}] matrix`);
    }
    if (j.flipped && this.source.kind === "mxfp4") throw bug(`${this.name}: MXFP4 data read transposed`);
    if (j.transposed && this.source.kind !== "mxfp4") return this.transposedBlock(j);
    const first = j.expert * R + j.first;
    const last = j.expert * R + j.first + (j.n - 1) * j.step;
    const direct = this.directRows(j, first);
    if (direct) return direct;
    const band = await this.ensure(first, last + 1);
    if (band.kind === "u16") return { kind: "bf16", bits: this.gatherU16(band.data, band.a, first, j) };
    if (band.kind === "fp8" && j.c0 === 0 && j.kc === this.k && j.step === 1) {
      const s = this.source as Extract<SourceTensor, { kind: "fp8" }>;
      const off = (first - band.a) * this.k;
      return {
        kind: "fp8-e4m3",
        data: band.data.slice(off, off + j.n * this.k),
        scaleInv: this.scaleInv!,
        blockSize: s.blockSize,
      };
    }
    if (band.kind === "mxfp4" && j.step === 1 && j.c0 % MXFP4_BLOCK === 0 && j.kc % MXFP4_BLOCK === 0) {
      return this.mxfp4Block(band, first, j);
    }
    const out = new Float32Array(j.n * j.kc);
    for (let i = 0; i < j.n; i++) {
      const r = first + i * j.step;
      const o = (r - band.a) * this.k + j.c0;
      if (band.kind === "f32") out.set(band.data.subarray(o, o + j.kc), i * j.kc);
      else out.set(this.bandF32(band, r, r + 1).subarray(j.c0, j.c0 + j.kc), i * j.kc);
    }
    return out;
  }

  /**
   * Whole contiguous BF16/F32 rows outside the cached band are read straight into the block's own
   * buffer: no band, no copy (most projections are tiled with K whole).
   */
  private directRows(j: JobRows, first: number): Promise<RowBlock> | undefined {
    const s = this.source;
    if (s.kind !== "float" || j.step !== 1 || j.c0 !== 0 || j.kc !== this.k) return undefined;
    if (s.entry.dtype !== "BF16" && s.entry.dtype !== "F32") return undefined;
    const cur = this.band;
    if (cur && cur.a <= first && first + j.n <= cur.b) return undefined;
    const bytes = s.entry.dtype === "BF16" ? 2 : 4;
    const start = first * this.k * bytes;
    const length = j.n * this.k * bytes;
    const read = this.io
      ? this.io.raw.read(s.entry.name, start, length, this.io.pool)
      : this.src.readBytes(s.entry.name, start, length);
    return read.then((raw) => {
      const own = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : raw.slice();
      return bytes === 2
        ? { kind: "bf16" as const, bits: new Uint16Array(own.buffer, 0, own.length / 2) }
        : new Float32Array(own.buffer, 0, own.length / 4);
    });
  }

  private gatherU16(data: Uint16Array, a: number, first: number, j: JobRows): Uint16Array {
    const n = j.n * j.kc;
    const out = this.io ? new Uint16Array(this.io.pool.take(n * 2)) : new Uint16Array(n);
    for (let i = 0; i < j.n; i++) {
      const o = (first + i * j.step - a) * this.k + j.c0;
      out.set(data.subarray(o, o + j.kc), i * j.kc);
    }
    return out;
  }

  private mxfp4Block(band: Extract<Band, { kind: "mxfp4" }>, first: number, j: JobRows): RowBlock {
    const k = this.k;
    const blocks = new Uint8Array((j.n * j.kc) / 2);
    const scales = new Uint8Array((j.n * j.kc) / MXFP4_BLOCK);
    for (let i = 0; i < j.n; i++) {
      const r = first + i - band.a;
      blocks.set(band.data.subarray((r * k + j.c0) / 2, (r * k + j.c0 + j.kc) / 2), (i * j.kc) / 2);
      const s0 = (r * k + j.c0) / MXFP4_BLOCK;
      scales.set(band.scales.subarray(s0, s0 + j.kc / MXFP4_BLOCK), (i * j.kc) / MXFP4_BLOCK);
    }
    return { kind: "mxfp4", blocks, scales };
  }

  /**
   * W[r][c] = stored[e·C + c][r] (stored [E, in, out], or the [in, out] view of a tensor stored
   * [out, in]). The job's kc stored rows are read in bands of at most `bandBytes` (whole stored
   * rows, one read each) and the job's columns picked out of each, so memory stays bounded by the
   * band and the job whatever the stored width.
   */
  private async transposedBlock(j: JobRows): Promise<RowBlock> {
    const a = j.expert * j.matrix.cols + j.c0;
    const k = this.k;
    const { n, kc, first, step } = j;
    const src = this.source;
    const raw = src.kind === "float" && src.entry.dtype === "BF16";
    const bits = new Uint16Array(raw ? n * kc : 0);
    const out = new Float32Array(raw ? 0 : n * kc);
    const per = Math.max(1, Math.floor(this.bandBytes / Math.max(1, this.rowBytes())));
    for (let c0 = 0; c0 < kc; c0 += per) {
      const c1 = Math.min(kc, c0 + per);
      const band = await this.ensure(a + c0, a + c1);
      if (raw && band.kind === "u16") {
        const base = (a - band.a) * k + first;
        for (let c = c0; c < c1; c++) {
          const o = base + c * k;
          for (let i = 0; i < n; i++) bits[i * kc + c] = band.data[o + i * step]!;
        }
        continue;
      }
      const rows = band.kind === "f32" ? band.data : this.bandF32(band, a + c0, a + c1);
      const base = (band.kind === "f32" ? (a + c0 - band.a) * k : 0) + first;
      for (let c = c0; c < c1; c++) {
        const o = base + (c - c0) * k;
        for (let i = 0; i < n; i++) out[i * kc + c] = rows[o + i * step]!;
      }
    }
    return raw ? { kind: "bf16", bits } : out;
  }
}

/** Typed-array views need an aligned offset; a source returning an odd sub-view is copied. */
function ownAligned(b: Uint8Array): Uint8Array {
  return b.byteOffset % 4 === 0 ? b : b.slice();
}

/** BF16 bits src[from, from+n) → float32 bits dst[at, at+n) (a monomorphic hot loop). */
function widenBf16(src: Uint16Array, from: number, dst: Uint32Array, at: number, n: number): void {
  for (let i = 0; i < n; i++) dst[at + i] = src[from + i]! << 16;
}
