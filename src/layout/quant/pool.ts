/**
 * A small pool of quantization worker threads. Each worker is given up to `depth` tasks at once
 * (default 2: the next task already waits in the worker's message queue when it finishes one, so it
 * never idles while the main thread is busy reading or writing); the rest wait in a FIFO queue here.
 * Input buffers are transferred, not copied, and so are the results; views of shared memory (blocks
 * and `QuantTask.output` buffers) are shared, and a result written into shared output buffers comes
 * back as views of them. The pool keeps the process alive only while tasks are in flight, so a
 * forgotten close() does not hang the CLI.
 *
 * The worker module sits next to this one: worker.js in the compiled dist, worker.ts when running
 * from sources (tsx, vitest), in which case the worker is started with tsx's loader.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ExitCode, PccxError } from "../../diag/index.js";
import { copyBlock, forTransfer, ownable } from "./source.js";
import { deserializeError, type QuantTask, type QuantTaskResult, type SerializedError } from "./task.js";
import type { WorkerRequest } from "./worker.js";

type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: QuantTaskResult; readonly inOutput?: false }
  | {
      readonly id: number;
      readonly ok: true;
      /** The codes and scales are in the task's shared output buffers. */
      readonly inOutput: true;
      readonly result: Pick<QuantTaskResult, "rows" | "stats">;
    }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

interface Pending {
  readonly id: number;
  readonly task: QuantTask;
  resolve(r: QuantTaskResult): void;
  reject(e: unknown): void;
}

interface Slot {
  readonly worker: Worker;
  /** Tasks sent to this worker, in the order it runs them. */
  readonly busy: Pending[];
}

/** Default thread count: the machine's cores, at most 8. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

/**
 * How to start a worker for the current module's flavour. From compiled .js: worker.js next to this
 * module. From .ts sources: a tiny CommonJS trampoline that installs tsx's require hook and loads
 * worker.ts (Node 20 does not apply `--import tsx` loader hooks to a worker's entry module, and
 * tsx's CJS hook compiles the ESM sources fine; code reached from the worker must therefore avoid
 * top-level await and import.meta).
 */
export function workerEntry(): { readonly source: URL | string; readonly eval: boolean } {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return { source: new URL("./worker.js", here), eval: false };
  const tsxHook = createRequire(here).resolve("tsx/cjs/api");
  const worker = fileURLToPath(new URL("./worker.ts", here));
  return {
    source: `require(${JSON.stringify(tsxHook)}).register();require(${JSON.stringify(worker)});`,
    eval: true,
  };
}

export class QuantPool {
  readonly size: number;
  /** Tasks sent to one worker at a time. */
  readonly depth: number;
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private failure?: PccxError;
  private closed = false;

  constructor(threads: number = defaultThreads(), depth = 2) {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new PccxError(
        "layout/quant-threads",
        ExitCode.USAGE,
        `worker threads must be ≥ 1, got ${threads}`,
      );
    }
    this.size = threads;
    this.depth = Math.max(1, Math.floor(depth));
    const entry = workerEntry();
    this.slots = Array.from({ length: threads }, () => this.spawn(entry));
  }

  private spawn(entry: ReturnType<typeof workerEntry>): Slot {
    const worker = new Worker(entry.source, { eval: entry.eval });
    const slot: Slot = { worker, busy: [] };
    worker.unref();
    worker.on("message", (m: WorkerReply) => this.onReply(slot, m));
    worker.on("error", (e) => this.fail(slot, e));
    worker.on("exit", (code) => {
      if (!this.closed) this.fail(slot, new Error(`quantization worker exited with code ${code}`));
    });
    return slot;
  }

  /**
   * Quantize one row block on a worker. The block's buffers are transferred (detached here), or,
   * when `copy` is set (sources that reuse their buffers), copied right away, before the block
   * waits in the queue.
   */
  run(task: QuantTask, copy = false): Promise<QuantTaskResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) {
      return Promise.reject(
        new PccxError("layout/quant-pool-closed", ExitCode.INTERNAL, "quantization pool is closed"),
      );
    }
    return new Promise((resolve, reject) => {
      const own = copy ? { ...task, block: copyBlock(task.block) } : task;
      this.queue.push({ id: this.nextId++, task: own, resolve, reject });
      this.dispatch();
    });
  }

  /** The least loaded worker with room for another task. */
  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.busy.length < this.depth && (!best || slot.busy.length < best.busy.length)) best = slot;
    }
    return best;
  }

  private dispatch(): void {
    for (let slot = this.freeSlot(); slot; slot = this.freeSlot()) {
      const next = this.queue.shift();
      if (!next) return;
      try {
        const { block, transfer } = forTransfer(next.task.block);
        const out = next.task.output;
        if (out) for (const b of [out.packed, out.scales]) if (b instanceof ArrayBuffer) transfer.push(b);
        const req: WorkerRequest = { id: next.id, task: { ...next.task, ...ownFactors(next.task), block } };
        // A detached buffer in a transfer list makes postMessage drop the message silently; left
        // out of the list, cloning it throws instead. Empty buffers have nothing to transfer anyway.
        slot.worker.postMessage(
          req,
          transfer.filter((b) => b.byteLength > 0),
        );
      } catch (e) {
        // A block that cannot be sent (e.g. its buffer was already transferred) fails alone.
        next.reject(
          new PccxError(
            "layout/quant-block-send",
            ExitCode.INTERNAL,
            `cannot send a row block to a worker: ${e}`,
            {
              fix: "pass each block once; a source that reuses its buffers needs copyBlocks: true",
            },
          ),
        );
        continue;
      }
      slot.busy.push(next);
      slot.worker.ref();
    }
  }

  private onReply(slot: Slot, m: WorkerReply): void {
    const p = slot.busy.shift();
    if (slot.busy.length === 0) slot.worker.unref();
    if (!p || p.id !== m.id) {
      this.fail(slot, new Error(`worker answered task ${m.id}, expected ${p?.id}`));
      return;
    }
    if (!m.ok) p.reject(deserializeError(m.error));
    else if (!m.inOutput) p.resolve(m.result);
    else {
      const out = p.task.output!;
      const packed = new Uint8Array(out.packed);
      p.resolve({ ...m.result, packed, scales: new Float32Array(out.scales) });
    }
    this.dispatch();
  }

  /** A crashed worker fails its task and every queued one: the output would have a hole. */
  private fail(slot: Slot, e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.failure ??= new PccxError(
      "layout/quant-worker",
      ExitCode.INTERNAL,
      `quantization worker failed: ${msg}`,
      {
        notes: e instanceof Error && e.stack ? [e.stack] : [],
      },
    );
    const pending = [...slot.busy.splice(0), ...this.queue.splice(0)];
    for (const p of pending) p.reject(this.failure);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const busy = this.slots.flatMap((s) => s.busy.splice(0));
    for (const p of [...busy, ...this.queue.splice(0)]) {
      p.reject(new PccxError("layout/quant-pool-closed", ExitCode.INTERNAL, "quantization pool closed"));
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/**
 * A task's scale factors as views owning their buffers: they are cloned, not transferred (callers
 * often share one factor array between tasks), and cloning a view would copy its whole buffer.
 */
function ownFactors(t: QuantTask): { colScale?: Float32Array; rowScale?: Float32Array } {
  return {
    ...(t.colScale ? { colScale: ownable(t.colScale) } : {}),
    ...(t.rowScale ? { rowScale: ownable(t.rowScale) } : {}),
  };
}
