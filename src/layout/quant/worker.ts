/**
 * Worker thread entry of the quantization pool: receives `{ id, task }`, answers `{ id, ok, result }`
 * with the packed bytes and scales transferred (or shared, when written into the task's shared
 * output buffers), never copied; or `{ id, ok: false, error }`.
 */
import { parentPort } from "node:worker_threads";
import { type QuantTask, runQuantTask, serializeError } from "./task.js";

export interface WorkerRequest {
  readonly id: number;
  readonly task: QuantTask;
}

const port = parentPort;
if (!port) throw new Error("src/layout/quant/worker must be started as a worker thread");

port.on("message", (req: WorkerRequest) => {
  try {
    const result = runQuantTask(req.task);
    const out = req.task.output;
    if (out && result.packed.buffer === out.packed && out.packed instanceof SharedArrayBuffer) {
      // Written into the caller's shared buffers: only the row count and statistics go back (a
      // SharedArrayBuffer in a message makes a new object counted as external memory each time).
      port.postMessage({
        id: req.id,
        ok: true,
        result: { rows: result.rows, stats: result.stats },
        inOutput: true,
      });
      return;
    }
    const own = [result.packed.buffer, result.scales.buffer].filter((b) => b instanceof ArrayBuffer);
    port.postMessage({ id: req.id, ok: true, result }, own);
  } catch (e) {
    port.postMessage({ id: req.id, ok: false, error: serializeError(e) });
  }
});
