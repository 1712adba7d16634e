/**
 * One unit of quantization work (a row block of one tensor) and its result, as sent to and from
 * worker threads. The same `runQuantTask` runs inline (threads = 0) and on a worker, so the output
 * does not depend on where it ran.
 */
import { ExitCode, type ExitCode as ExitCodeT, PccxError, type SourceLoc } from "../../diag/index.js";
import { quantizeInput } from "./kernel.js";
import type { QuantScheme } from "./scheme.js";
import { kernelInput, type RowBlock } from "./source.js";
import type { QuantStatsData } from "./stats.js";

export interface QuantTask {
  readonly block: RowBlock;
  readonly k: number;
  /** Index of the block's first row in the tensor. */
  readonly firstRow: number;
  readonly scheme: QuantScheme;
  readonly tensor?: string;
  readonly file?: string;
  /**
   * Folded norms, applied on the worker before quantizing: column c of the block is multiplied by
   * colScale[c] (k factors), row r by rowScale[r] (one per block row), in float32.
   */
  readonly colScale?: Float32Array;
  readonly rowScale?: Float32Array;
  /**
   * Buffers the result is written into instead of fresh ones (rows × packedRowBytes(k) and
   * rows × groupsPerRow × 4 bytes; other sizes are ignored). SharedArrayBuffers (what the image
   * writer recycles) are shared with the worker; ArrayBuffers are transferred there and back.
   */
  readonly output?: QuantOutput;
}

export interface QuantOutput {
  readonly packed: ArrayBufferLike;
  readonly scales: ArrayBufferLike;
}

export interface QuantTaskResult {
  readonly rows: number;
  readonly packed: Uint8Array;
  readonly scales: Float32Array;
  readonly stats: QuantStatsData;
}

export function runQuantTask(t: QuantTask): QuantTaskResult {
  const input = {
    ...kernelInput(t.block, t.k, t.firstRow, t.tensor),
    ...(t.colScale ? { colScale: t.colScale } : {}),
    ...(t.rowScale ? { rowScale: t.rowScale } : {}),
  };
  const q = quantizeInput(
    input,
    t.k,
    t.scheme,
    {
      firstRow: t.firstRow,
      ...(t.tensor ? { tensor: t.tensor } : {}),
      ...(t.file ? { file: t.file } : {}),
    },
    t.output,
  );
  return {
    rows: q.rows,
    packed: q.packed,
    scales: q.scales,
    stats: q.stats.toData(),
  };
}

/** A PccxError flattened for postMessage (class identity does not survive structured clone). */
export interface SerializedError {
  readonly code: string;
  readonly exitCode: ExitCodeT;
  readonly message: string;
  readonly at?: SourceLoc;
  readonly notes: readonly string[];
  readonly fix?: string;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof PccxError) {
    return {
      code: e.code,
      exitCode: e.exitCode,
      message: e.message,
      notes: e.notes,
      ...(e.at ? { at: e.at } : {}),
      ...(e.fix ? { fix: e.fix } : {}),
    };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    code: "layout/quant-internal",
    exitCode: ExitCode.INTERNAL,
    message: `quantization worker failed: ${err.message}`,
    notes: err.stack ? [err.stack] : [],
  };
}

export function deserializeError(s: SerializedError): PccxError {
  return new PccxError(s.code, s.exitCode, s.message, {
    notes: s.notes,
    ...(s.at ? { at: s.at } : {}),
    ...(s.fix ? { fix: s.fix } : {}),
  });
}
