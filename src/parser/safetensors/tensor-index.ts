/**
 * TensorIndex: every tensor of a checkpoint (one file or many shards) by name, with lazy access to
 * its data. Rows are the last dimension (a [N, K] weight has N rows of K; [E, N, K] has E·N rows;
 * a vector is one row). Reads are positional, in bounded pieces through a small staging buffer,
 * so memory is the caller's output plus a few MiB, whatever the file size.
 */
import { invalidInput } from "../../diag/index.js";
import { decodeToF32 } from "./decode.js";
import { readRowsDequant } from "./dequant.js";
import { type DType, dtypeInfo, isDecodable } from "./dtype.js";
import type { RowGeometry } from "./geometry.js";
import { checkRowRange, numel, rowGeometry } from "./geometry.js";
import { FilePool, readFully } from "./io.js";

export interface TensorEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Absolute path of the file holding the data. */
  readonly file: string;
  /** Absolute byte offset of the first element in `file`. */
  readonly dataOffset: number;
  readonly byteLength: number;
}

export interface RowChunk {
  readonly rowStart: number;
  readonly rowCount: number;
  readonly cols: number;
  /** rowCount × cols values, row-major. */
  readonly data: Float32Array;
}

export interface StreamOptions {
  /** Yield views of one reused output buffer (valid until the next iteration) instead of fresh arrays. */
  readonly reuse?: boolean;
}

/** Bytes of file data decoded per staging step; the buffer is reused. */
export const STAGING_BYTES = 1024 * 1024;
/** Default chunk size of streamRows, in bytes of file data. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

export interface TensorIndexOptions {
  /** The files the index was built from, in load order (default: the entries' files). */
  readonly files?: readonly string[];
  /** Each file's `__metadata__`. */
  readonly metadata?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Block-scaled FP8 checkpoints: `quantization_config.weight_block_size` ([rows, cols]). */
  readonly weightBlockSize?: readonly [number, number];
}

export class TensorIndex {
  readonly files: readonly string[];
  readonly metadata: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly weightBlockSize?: readonly [number, number];
  private readonly byName: ReadonlyMap<string, TensorEntry>;
  private readonly pool = new FilePool();

  /** `entries` in any order; they are kept sorted by name. */
  constructor(entries: Iterable<TensorEntry>, opts: TensorIndexOptions = {}) {
    const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.byName = new Map(sorted.map((e) => [e.name, e]));
    this.files = opts.files ?? [...new Set(sorted.map((e) => e.file))];
    this.metadata = opts.metadata ?? new Map();
    this.weightBlockSize = opts.weightBlockSize;
  }

  get size(): number {
    return this.byName.size;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  entries(): IterableIterator<TensorEntry> {
    return this.byName.values();
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): TensorEntry | undefined {
    return this.byName.get(name);
  }

  /** The entry, or a PccxError naming the tensor and a few similar names. */
  require(name: string): TensorEntry {
    const e = this.byName.get(name);
    if (e) return e;
    const stem = name.split(".").slice(-2).join(".");
    const similar = this.names()
      .filter((n) => n.endsWith(stem))
      .slice(0, 5);
    throw invalidInput("safetensors/no-tensor", `tensor "${name}" is not in the checkpoint`, {
      notes: similar.length ? [`similar names: ${similar.join(", ")}`] : [],
      fix: "check the tensor name against `pccxc inspect <model> --all-tensors`",
    });
  }

  /** Total number of elements over all tensors. */
  parameterCount(): number {
    let n = 0;
    for (const e of this.byName.values()) n += numel(e.shape);
    return n;
  }

  totalBytes(): number {
    let n = 0;
    for (const e of this.byName.values()) n += e.byteLength;
    return n;
  }

  rows(name: string): RowGeometry {
    return rowGeometry(this.require(name));
  }

  /** Raw bytes of a tensor, `length` bytes from byte `start` of its data. */
  async readBytes(name: string, start = 0, length?: number): Promise<Uint8Array> {
    const e = this.require(name);
    const len = length ?? e.byteLength - start;
    if (start < 0 || len < 0 || start + len > e.byteLength) {
      throw invalidInput(
        "safetensors/read-range",
        `bytes ${start}..${start + len} are outside tensor "${name}" (${e.byteLength} bytes)`,
      );
    }
    const out = new Uint8Array(len);
    await readFully(await this.pool.get(e.file), e.file, out, 0, len, e.dataOffset + start);
    return out;
  }

  /** Rows [rowStart, rowStart + rowCount) decoded to float32. */
  async readRows(name: string, rowStart: number, rowCount: number): Promise<Float32Array> {
    const e = this.decodableEntry(name);
    const g = rowGeometry(e);
    checkRowRange(name, g, rowStart, rowCount);
    const out = new Float32Array(rowCount * g.cols);
    await this.decodeRange(e, rowStart * g.cols, rowCount * g.cols, out, new Uint8Array(stagingSize(e)));
    return out;
  }

  /**
   * The tensor in chunks of `rowsPerChunk` rows (default: about 1 MiB of file data, small enough that
   * the decoded chunk is still in the CPU cache when the consumer reads it). The read of
   * the next chunk is issued before the current one is decoded, so I/O and decoding overlap.
   */
  async *streamRows(name: string, rowsPerChunk?: number, opts: StreamOptions = {}): AsyncGenerator<RowChunk> {
    const e = this.decodableEntry(name);
    const g = rowGeometry(e);
    const elemBits = dtypeInfo(e.dtype).bits;
    const rowBytes = (g.cols * elemBits) / 8;
    const per = Math.max(1, rowsPerChunk ?? Math.floor(DEFAULT_CHUNK_BYTES / Math.max(1, rowBytes)));
    if (!Number.isSafeInteger(per))
      throw invalidInput("safetensors/read-range", `bad rowsPerChunk ${rowsPerChunk}`);
    const fh = await this.pool.get(e.file);
    const chunkBytes = Math.min(per, g.rows) * rowBytes;
    const bufs = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
    const shared = opts.reuse ? new Float32Array(Math.min(per, g.rows) * g.cols) : undefined;
    const read = (row: number, k: number) => {
      const count = Math.min(per, g.rows - row);
      const buf = bufs[k]!;
      const p = readFully(fh, e.file, buf, 0, count * rowBytes, e.dataOffset + row * rowBytes).then(
        () => buf,
      );
      p.catch(() => undefined); // a consumer that stops early must not leave an unhandled rejection
      return p;
    };
    let pending = g.rows > 0 ? read(0, 0) : undefined;
    for (let row = 0, k = 0; row < g.rows; row += per, k ^= 1) {
      const count = Math.min(per, g.rows - row);
      const buf = await pending!;
      const next = row + per;
      pending = next < g.rows ? read(next, k ^ 1) : undefined;
      const data = shared ? shared.subarray(0, count * g.cols) : new Float32Array(count * g.cols);
      decodeToF32(e.dtype, buf, count * g.cols, data);
      yield { rowStart: row, rowCount: count, cols: g.cols, data };
    }
  }

  /**
   * Rows of a block-scaled FP8 weight multiplied by their scales (DeepSeek-V3 style: `W` [N, K] in
   * F8_E4M3 with `W_scale_inv` [ceil(N/bn), ceil(K/bk)]). Tensors without a scale tensor are
   * returned as readRows gives them.
   */
  readRowsDequant(
    name: string,
    rowStart: number,
    rowCount: number,
    blockSize?: readonly [number, number],
  ): Promise<Float32Array> {
    return readRowsDequant(this, name, rowStart, rowCount, blockSize ?? this.weightBlockSize);
  }

  /** Closes every open file handle; later reads reopen them. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Decodes elements [first, first + count) of `e` into `out` through `staging`. */
  protected async decodeRange(
    e: TensorEntry,
    first: number,
    count: number,
    out: Float32Array,
    staging: Uint8Array,
  ): Promise<void> {
    const bytesPerElem = dtypeInfo(e.dtype).bits / 8;
    const fh = await this.pool.get(e.file);
    const perStep = Math.max(1, Math.floor(staging.length / bytesPerElem));
    for (let done = 0; done < count; done += perStep) {
      const n = Math.min(perStep, count - done);
      await readFully(fh, e.file, staging, 0, n * bytesPerElem, e.dataOffset + (first + done) * bytesPerElem);
      decodeToF32(e.dtype, staging, n, out, done);
    }
  }

  protected decodableEntry(name: string): TensorEntry {
    const e = this.require(name);
    if (!isDecodable(e.dtype)) {
      throw invalidInput(
        "safetensors/not-decodable",
        `tensor "${name}" has dtype ${e.dtype}, which cannot be read as floats ` +
          "(pccxc decodes F32, F16, BF16 and F8_E4M3)",
        { at: { file: e.file }, fix: "read integer, boolean and packed tensors with readBytes()" },
      );
    }
    return e;
  }
}

function stagingSize(e: TensorEntry): number {
  return Math.max(4, Math.min(STAGING_BYTES, e.byteLength));
}
