/**
 * Streaming quantization of one tensor: row blocks in, quantized chunks out in input order. With
 * threads > 0 the blocks run on a worker pool, a bounded number in flight (memory stays flat
 * whatever the tensor size); results are reassembled in order, and since each block's result does
 * not depend on where it ran, the output is byte-identical for any thread count.
 */
import { ExitCode, invalidInput, PccxError } from "../../diag/index.js";
import { QuantPool } from "./pool.js";
import { DEFAULT_SCHEME, groupsPerRow, packedRowBytes, type QuantScheme } from "./scheme.js";
import { blockRows, type RowBlock } from "./source.js";
import { type ErrorSummary, QuantStats } from "./stats.js";
import { type QuantTask, type QuantTaskResult, runQuantTask } from "./task.js";

export interface QuantizeOptions {
  /** Input features per row. */
  readonly k: number;
  readonly scheme?: QuantScheme;
  /** Worker threads; 0 (the default) quantizes on the calling thread. Ignored when `pool` is given. */
  readonly threads?: number;
  /** A pool shared across tensors (not closed here). */
  readonly pool?: QuantPool;
  /**
   * Copy blocks to the workers instead of transferring them: set it when the source reuses its
   * buffers (e.g. TensorIndex.streamRows with `reuse`), which a transfer would detach.
   */
  readonly copyBlocks?: boolean;
  /** Blocks in flight per worker; bounds memory. Default 2. */
  readonly inflightPerWorker?: number;
  /** Tensor name and file, for error messages. */
  readonly tensor?: string;
  readonly file?: string;
}

/** The quantized form of one row block, at its place in the tensor. */
export interface QuantChunk {
  readonly firstRow: number;
  readonly rows: number;
  readonly k: number;
  readonly packed: Uint8Array;
  readonly scales: Float32Array;
  readonly stats: QuantStats;
}

function toChunk(firstRow: number, k: number, r: QuantTaskResult): QuantChunk {
  return { firstRow, rows: r.rows, k, packed: r.packed, scales: r.scales, stats: new QuantStats(r.stats) };
}

/**
 * Quantize a tensor given as row blocks (each a whole number of rows). Ownership of each block
 * passes to the quantizer: with threads, its buffer is transferred to a worker and detached (unless
 * `copyBlocks`). Inline, each block is consumed before the next is pulled.
 */
export async function* quantizeRows(
  blocks: AsyncIterable<RowBlock> | Iterable<RowBlock>,
  opts: QuantizeOptions,
): AsyncGenerator<QuantChunk> {
  const { k } = opts;
  if (!Number.isInteger(k) || k <= 0) {
    throw new PccxError("layout/quant-k", ExitCode.INTERNAL, `K must be a positive integer, got ${k}`);
  }
  const scheme = opts.scheme ?? DEFAULT_SCHEME;
  const base = {
    k,
    scheme,
    ...(opts.tensor ? { tensor: opts.tensor } : {}),
    ...(opts.file ? { file: opts.file } : {}),
  };
  const threads = opts.threads ?? 0;
  if (!opts.pool && threads === 0) {
    let firstRow = 0;
    for await (const block of blocks) {
      const r = runQuantTask({ ...base, block, firstRow });
      yield toChunk(firstRow, k, r);
      firstRow += r.rows;
    }
    return;
  }
  const pool = opts.pool ?? new QuantPool(threads);
  const limit = pool.size * (opts.inflightPerWorker ?? 2);
  const inflight: { firstRow: number; result: Promise<QuantTaskResult> }[] = [];
  try {
    let firstRow = 0;
    for await (const block of blocks) {
      const rows = blockRows(block, k);
      const task: QuantTask = { ...base, block, firstRow };
      const result = pool.run(task, opts.copyBlocks ?? false);
      result.catch(() => {}); // observed when its turn comes; avoid an unhandled rejection meanwhile
      inflight.push({ firstRow, result });
      firstRow += rows;
      while (inflight.length >= limit) {
        const head = inflight.shift()!;
        yield toChunk(head.firstRow, k, await head.result);
      }
    }
    while (inflight.length > 0) {
      const head = inflight.shift()!;
      yield toChunk(head.firstRow, k, await head.result);
    }
  } finally {
    if (!opts.pool) await pool.close();
  }
}

/** A whole quantized tensor. */
export interface QuantizedTensor {
  readonly rows: number;
  readonly k: number;
  readonly scheme: QuantScheme;
  /** rows × packedRowBytes(k) bytes. */
  readonly packed: Uint8Array;
  /** rows × groupsPerRow stored scale values. */
  readonly scales: Float32Array;
  readonly stats: QuantStats;
  readonly summary: ErrorSummary;
}

/** Quantize a whole tensor of `rows` × k into memory (for tests, the simulator and small tensors). */
export async function quantizeTensor(
  blocks: AsyncIterable<RowBlock> | Iterable<RowBlock>,
  opts: QuantizeOptions & { readonly rows: number },
): Promise<QuantizedTensor> {
  const scheme = opts.scheme ?? DEFAULT_SCHEME;
  const rb = packedRowBytes(opts.k);
  const gpr = groupsPerRow(scheme, opts.k);
  const packed = new Uint8Array(opts.rows * rb);
  const scales = new Float32Array(opts.rows * gpr);
  const stats = new QuantStats();
  let seen = 0;
  for await (const c of quantizeRows(blocks, opts)) {
    seen = c.firstRow + c.rows;
    if (seen > opts.rows) throw rowCountError(opts, `more than ${opts.rows}`);
    packed.set(c.packed, c.firstRow * rb);
    scales.set(c.scales, c.firstRow * gpr);
    stats.merge(c.stats);
  }
  if (seen !== opts.rows) throw rowCountError(opts, String(seen));
  return { rows: opts.rows, k: opts.k, scheme, packed, scales, stats, summary: stats.summary() };
}

function rowCountError(opts: QuantizeOptions & { readonly rows: number }, got: string): PccxError {
  return invalidInput(
    "layout/quant-row-count",
    `${opts.tensor ?? "tensor"}: got ${got} rows of K = ${opts.k}, expected ${opts.rows}`,
    { fix: "the tensor's data does not match its declared shape; check the safetensors header" },
  );
}
