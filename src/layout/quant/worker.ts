/**
 * Worker thread entry of the quantization pool: receives `{ id, task }`, answers `{ id, ok, result }`
 * with the packed bytes and scales transferred (not copied), or `{ id, ok: false, error }`.
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
    port.postMessage({ id: req.id, ok: true, result }, [
      result.packed.buffer as ArrayBuffer,
      result.scales.buffer as ArrayBuffer,
    ]);
  } catch (e) {
    port.postMessage({ id: req.id, ok: false, error: serializeError(e) });
  }
});
