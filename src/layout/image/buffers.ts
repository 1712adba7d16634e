/**
 * The memory and I/O plumbing of the image writer's hot loop:
 *
 * - `BufferPool`: SharedArrayBuffers recycled by exact size. Job blocks (read into one here, read by
 *   a worker in place) and the workers' results (written in place, read here) live in shared memory
 *   that circulates instead of being allocated, transferred and freed per job: each fresh
 *   multi-MiB buffer costs page faults and zeroing, and every buffer moved between threads counts as
 *   new external memory, which makes V8 run major GCs on every thread; on two cores all of that is
 *   time taken from the quantizing workers. A buffer goes back to the pool once its worker has
 *   answered (blocks) or its bytes are written (results).
 * - `RawReader`: positional reads of a tensor's bytes into a caller's buffer. A TensorIndex's entries
 *   name their file and absolute data offset, so its bytes are read with our own handles straight
 *   into recycled buffers; any other WeightSource goes through its `readBytes`.
 * - `WriteQueue`: positional writes issued without waiting for each to finish (bounded in number),
 *   so the main thread goes on reading and dispatching while the kernel copies the bytes out.
 */
import { type FileHandle, open } from "node:fs/promises";
import { ioError } from "../../diag/index.js";
import { TensorIndex } from "../../parser/safetensors/index.js";
import type { WeightSource } from "./source.js";

/** Writes all of `data` at `position`. */
export async function writeAt(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** Free SharedArrayBuffers by byte length; at most `perSize` kept for each length. */
export class BufferPool {
  private readonly free = new Map<number, SharedArrayBuffer[]>();

  constructor(private readonly perSize = 12) {}

  /** A shared buffer of exactly `bytes` bytes (recycled contents: not zeroed). */
  take(bytes: number): SharedArrayBuffer {
    return this.free.get(bytes)?.pop() ?? new SharedArrayBuffer(bytes);
  }

  /** Returns a buffer for reuse; anything but a SharedArrayBuffer (a worker's own result) is left to the GC. */
  give(b: ArrayBufferLike): void {
    if (!(b instanceof SharedArrayBuffer) || b.byteLength === 0) return;
    let list = this.free.get(b.byteLength);
    if (!list) {
      list = [];
      this.free.set(b.byteLength, list);
    }
    if (list.length < this.perSize) list.push(b);
  }
}

/** Reads `length` bytes of a tensor from byte `start` of its data. */
export interface RawReader {
  /** Into a buffer from `pool` when given (the caller owns it), else a fresh one. */
  read(name: string, start: number, length: number, pool?: BufferPool): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The largest single positional read (well under the 2 GiB limit of one fs read). */
const MAX_READ = 64 << 20;

export function rawReader(src: WeightSource): RawReader {
  if (!(src instanceof TensorIndex)) {
    return {
      read: (name, start, length) => src.readBytes(name, start, length),
      close: async () => {},
    };
  }
  const handles = new Map<string, Promise<FileHandle>>();
  return {
    async read(name, start, length, pool) {
      const e = src.require(name);
      const out = pool ? new Uint8Array(pool.take(length)) : new Uint8Array(length);
      let fh = handles.get(e.file);
      if (!fh) {
        fh = open(e.file, "r");
        handles.set(e.file, fh);
      }
      const h = await fh.catch((err: unknown) => {
        throw readError(e.file, err);
      });
      for (let done = 0; done < length; ) {
        const want = Math.min(MAX_READ, length - done);
        const { bytesRead } = await h
          .read(out, done, want, e.dataOffset + start + done)
          .catch((err: unknown) => {
            throw readError(e.file, err);
          });
        if (bytesRead === 0)
          throw readError(e.file, new Error(`file ended at byte ${e.dataOffset + start + done}`));
        done += bytesRead;
      }
      return out;
    },
    async close() {
      const all = [...handles.values()];
      handles.clear();
      await Promise.all(all.map((h) => h.then((x) => x.close()).catch(() => undefined)));
    },
  };
}

function readError(file: string, e: unknown) {
  return ioError("layout/read", `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, {
    at: { file },
    fix: "the checkpoint changed or became unreadable while the image was written: check the file and retry",
  });
}

/**
 * Positional writes in flight, at most `limit` at once; `then` runs after a write completes (to
 * recycle its buffer). The first failure is rethrown by the next `write` or by `drain`.
 */
export class WriteQueue {
  private readonly pending = new Set<Promise<void>>();
  private failure?: unknown;

  constructor(
    private readonly fh: FileHandle,
    private readonly limit = 8,
  ) {}

  async write(data: Uint8Array, position: number, then?: () => void): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    while (this.pending.size >= this.limit) await Promise.race(this.pending);
    if (this.failure !== undefined) throw this.failure;
    const p: Promise<void> = writeAt(this.fh, data, position).then(
      () => {
        this.pending.delete(p);
        then?.();
      },
      (e: unknown) => {
        this.pending.delete(p);
        this.failure ??= e;
      },
    );
    this.pending.add(p);
  }

  /** Waits for every write; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.race(this.pending);
    if (this.failure !== undefined) throw this.failure;
  }
}
