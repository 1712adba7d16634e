/**
 * A small safetensors writer for tests, benchmarks and the tiny-model generator. Tensor data is
 * either given as bytes or streamed from a callback, so multi-GB files are written without holding
 * them in memory. The header is deterministic (tensors in the given order, `__metadata__` first,
 * padded with spaces to a multiple of 8 like the reference writer); the file appears atomically.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { invalidInput } from "../../diag/index.js";
import { type DType, dtypeInfo } from "./dtype.js";

/** Writes one chunk of a tensor's data; chunks are appended in call order. */
export type WriteChunk = (chunk: Uint8Array) => Promise<void>;

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The bytes, or a producer that calls `write` with consecutive chunks. */
  readonly data: Uint8Array | ((write: WriteChunk) => Promise<void>);
}

export interface WrittenFile {
  readonly path: string;
  readonly headerLength: number;
  readonly fileSize: number;
}

/** Byte span of a tensor of this dtype and shape (exact; throws when not a whole number of bytes). */
export function spanOf(name: string, dtype: DType, shape: readonly number[]): number {
  const bits = BigInt(dtypeInfo(dtype).bits) * shape.reduce((p, d) => p * BigInt(d), 1n);
  if (bits % 8n !== 0n || bits / 8n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidInput(
      "safetensors/write-span",
      `tensor "${name}": [${shape.join(", ")}] ${dtype} is not byte sized`,
    );
  }
  return Number(bits / 8n);
}

/** The header bytes (length prefix included) for these tensors, and each tensor's span. */
export function buildHeader(
  tensors: readonly Pick<TensorToWrite, "name" | "dtype" | "shape">[],
  metadata?: Readonly<Record<string, string>>,
): { bytes: Uint8Array; spans: number[] } {
  // Entries are serialised one by one: a tensor may be named "__proto__", which an object literal
  // would turn into a prototype assignment and silently drop.
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  const names = new Set<string>();
  const spans: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.name === "__metadata__" || names.has(t.name)) {
      throw invalidInput("safetensors/write-name", `tensor name "${t.name}" is reserved or repeated`);
    }
    names.add(t.name);
    const span = spanOf(t.name, t.dtype, t.shape);
    const entry = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + span] };
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify(entry)}`);
    spans.push(span);
    offset += span;
  }
  const json = Buffer.from(`{${parts.join(",")}}`, "utf8");
  const padded = Math.ceil(json.length / 8) * 8 || 8;
  const bytes = new Uint8Array(8 + padded).fill(0x20);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.set(json, 8);
  return { bytes, spans };
}

export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Promise<WrittenFile> {
  const { bytes, spans } = buildHeader(tensors, metadata);
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  const fh = await open(tmp, "w");
  let size = bytes.length;
  try {
    await writeAll(fh, bytes);
    for (const [i, t] of tensors.entries()) size += await writeTensor(fh, t, spans[i]!);
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  return { path, headerLength: bytes.length - 8, fileSize: size };
}

async function writeTensor(fh: FileHandle, t: TensorToWrite, span: number): Promise<number> {
  let written = 0;
  const write: WriteChunk = async (chunk) => {
    if (written + chunk.length > span) {
      throw invalidInput(
        "safetensors/write-span",
        `tensor "${t.name}": more than its ${span} bytes were written`,
      );
    }
    written += chunk.length;
    await writeAll(fh, chunk);
  };
  if (typeof t.data === "function") await t.data(write);
  else await write(t.data);
  if (written !== span) {
    throw invalidInput(
      "safetensors/write-span",
      `tensor "${t.name}": ${written} bytes written, ${span} expected`,
    );
  }
  return written;
}

async function writeAll(fh: FileHandle, b: Uint8Array): Promise<void> {
  let off = 0;
  while (off < b.length) {
    const { bytesWritten } = await fh.write(b, off, b.length - off);
    off += bytesWritten;
  }
}

/** float32 values as F32 little-endian bytes. */
export function encodeF32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** float32 values rounded to BF16 (nearest even), little-endian bytes (util/float's encoder). */
export { encodeBf16 } from "../../util/float.js";
