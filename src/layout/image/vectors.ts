/**
 * Unquantized tensors of the image: L2-pinned vectors and BF16/F32 row tables (learned positions,
 * vectors that stay in DDR). Read in row chunks, converted to the stored format (BF16 from BF16 is
 * a byte copy, anything else rounds to nearest even), checked for NaN/Inf, written at their place,
 * hashed. Vectors are padded with zeros to a whole L2 word.
 */
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { encodeBf16 } from "../../util/float.js";
import type { PlacedTensor } from "../types.js";
import { writeAt } from "./buffers.js";
import { TensorReader } from "./extract.js";
import { nonFiniteError } from "./nonfinite.js";
import { findSource, type WeightSource } from "./source.js";

const CHUNK_ELEMENTS = 1 << 20;

function encode(values: Float32Array, format: "bf16" | "f32"): Uint8Array {
  if (format === "f32")
    return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  return encodeBf16(values);
}

/** Writes one unquantized tensor at `fileOffset`; returns its sha256 (of `t.bytes` bytes). */
export async function writeVector(
  fh: FileHandle,
  src: WeightSource,
  t: PlacedTensor,
  fileOffset: number,
): Promise<string> {
  const source = findSource(src, t.tensor)!;
  const reader = new TensorReader(src, t.tensor, source, CHUNK_ELEMENTS * 4);
  const format = t.format === "f32" ? "f32" : "bf16";
  const hash = createHash("sha256");
  const rowsPer = Math.max(1, Math.floor(CHUNK_ELEMENTS / Math.max(1, reader.k)));
  let at = fileOffset;
  for (let a = 0; a < reader.rows; a += rowsPer) {
    const b = Math.min(reader.rows, a + rowsPer);
    const v = await reader.storedRowsF32(a, b);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!))
        throw nonFiniteError(t.tensor, source, a + Math.floor(i / reader.k), i % reader.k, v[i]!);
    }
    const bytes = encode(v, format);
    hash.update(bytes);
    await writeAt(fh, bytes, at);
    at += bytes.length;
  }
  const pad = fileOffset + t.bytes - at;
  if (pad > 0) {
    const zeros = new Uint8Array(pad);
    hash.update(zeros);
    await writeAt(fh, zeros, at);
  }
  return hash.digest("hex");
}
