/**
 * NaN / ±Inf in a weight: the quantizer stops at the first bad value of whatever tile it is working
 * on, which is not necessarily the tensor's first one. This scan reads the stored tensor from the
 * top (in row blocks) and reports the first bad element in stored row-major order, so the message
 * names the same position whatever the tiling or the thread count.
 */
import { invalidInput, type PccxError } from "../../diag/index.js";
import type { TensorReader } from "./extract.js";
import { type SourceTensor, sourceLabel } from "./source.js";

export function nonFiniteError(
  name: string,
  source: SourceTensor,
  row: number,
  col: number,
  value: number,
): PccxError {
  const file = source.kind === "mxfp4" ? source.blocks.file : source.entry.file;
  return invalidInput(
    "layout/nonfinite",
    `tensor ${name} has ${value} at row ${row}, column ${col} (stored ${sourceLabel(source)}` +
      `${source.kind === "mxfp4" ? ", dequantized" : ""}); the first non-finite value in row-major order`,
    {
      at: { file },
      notes: ["INT4 quantization needs finite weights; NaN or Infinity usually means a corrupt checkpoint"],
      fix: "re-download or re-export the checkpoint; check the dtype recorded in the safetensors header",
    },
  );
}

/** Scans the whole stored tensor; returns the error for its first non-finite element, if any. */
export async function firstNonFinite(reader: TensorReader): Promise<PccxError | undefined> {
  const per = Math.max(1, Math.floor((1 << 20) / Math.max(1, reader.k)));
  for (let a = 0; a < reader.rows; a += per) {
    const b = Math.min(reader.rows, a + per);
    const v = await reader.storedRowsF32(a, b);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) {
        return nonFiniteError(reader.name, reader.source, a + Math.floor(i / reader.k), i % reader.k, v[i]!);
      }
    }
  }
  return undefined;
}
