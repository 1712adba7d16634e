/** The golden reference's weights read from a single-file safetensors checkpoint (the shipped tiny models). */
import { openTensorIndex } from "../../src/parser/safetensors/index.js";
import { checkpointReader, type WeightReader } from "../../src/validate/golden/index.js";

/** Runs `fn` with a WeightReader over `file` (a model.safetensors), closing the file afterwards. */
export async function withCheckpointReader<T>(
  file: string,
  fn: (reader: WeightReader) => Promise<T>,
): Promise<T> {
  const idx = await openTensorIndex({ kind: "single", file, shards: [file] });
  try {
    return await fn(checkpointReader(idx));
  } finally {
    await idx.close();
  }
}
