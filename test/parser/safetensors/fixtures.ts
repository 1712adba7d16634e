/** Test helpers: temporary directories and small safetensors files built in memory. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { DType } from "../../../src/parser/safetensors/dtype.js";
import { buildHeader } from "../../../src/parser/safetensors/writer.js";

/** A temp dir per call, removed after the current test. */
export function useTempDirs(): () => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return async () => {
    const d = await mkdtemp(join(tmpdir(), "pccxc-parser-"));
    dirs.push(d);
    return d;
  };
}

export interface RawTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data?: Uint8Array;
}

/** A whole safetensors file in memory (data defaults to a byte ramp). */
export function safetensorsBytes(
  tensors: readonly RawTensor[],
  metadata?: Record<string, string>,
): Uint8Array {
  const { bytes, spans } = buildHeader(tensors, metadata);
  const total = spans.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(bytes.length + total);
  out.set(bytes);
  let off = bytes.length;
  for (const [i, t] of tensors.entries()) {
    const span = spans[i]!;
    const d = t.data ?? Uint8Array.from({ length: span }, (_, k) => (k * 7 + i) & 0xff);
    out.set(d.subarray(0, span), off);
    off += span;
  }
  return out;
}

/** A file from a raw header object and a data section of `dataBytes` zero bytes. */
export function rawFile(header: unknown, dataBytes: number, pad = true): Uint8Array {
  let json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header), "utf8");
  if (pad && json.length % 8) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}
