import type { FileHandle } from "node:fs/promises";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PccxError } from "../../../src/diag/index.js";
import { rowGeometry } from "../../../src/parser/safetensors/geometry.js";
import { parseSafetensorsBytes } from "../../../src/parser/safetensors/header.js";
import { MAX_READ_BYTES, readFully } from "../../../src/parser/safetensors/io.js";
import { openTensorIndex } from "../../../src/parser/safetensors/load.js";
import type { TensorIndex } from "../../../src/parser/safetensors/tensor-index.js";
import {
  buildHeader,
  encodeBf16,
  encodeF32,
  writeSafetensors,
} from "../../../src/parser/safetensors/writer.js";
import { roundBf16 } from "../../../src/util/float.js";
import { useTempDirs } from "./fixtures.js";

const tempDir = useTempDirs();
/** Indices the tests open, closed after each test (an unclosed FileHandle warns on GC). */
const opened: TensorIndex[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((i) => i.close()));
});

const ramp = (n: number, scale = 0.25) => Float32Array.from({ length: n }, (_, i) => (i - n / 2) * scale);

async function smallModel() {
  const dir = await tempDir();
  const file = join(dir, "model.safetensors");
  const f16 = new Uint8Array(6 * 2);
  for (const [i, h] of [0x3c00, 0xc000, 0x3800, 0x0001, 0x7bff, 0x8000].entries()) {
    new DataView(f16.buffer).setUint16(2 * i, h, true);
  }
  await writeSafetensors(
    file,
    [
      { name: "w.f32", dtype: "F32", shape: [4, 3], data: encodeF32(ramp(12)) },
      { name: "w.bf16", dtype: "BF16", shape: [5, 7], data: encodeBf16(ramp(35, 0.1)) },
      { name: "w.f16", dtype: "F16", shape: [2, 3], data: f16 },
      { name: "w.f8", dtype: "F8_E4M3", shape: [2, 2], data: Uint8Array.of(0x38, 0xb8, 0x7e, 0x01) },
      { name: "ids", dtype: "I32", shape: [2], data: new Uint8Array(8) },
      { name: "experts", dtype: "F32", shape: [2, 3, 2], data: encodeF32(ramp(12)) },
      { name: "vec", dtype: "F32", shape: [3], data: encodeF32([1, 2, 3]) },
    ],
    { format: "pt" },
  );
  const index = await openTensorIndex({ kind: "single", file, shards: [file] });
  opened.push(index);
  return { dir, file, index };
}

describe("TensorIndex over a written file", () => {
  it("indexes dtype, shape, absolute offsets and byte lengths", async () => {
    const { file, index } = await smallModel();
    const h = parseSafetensorsBytes(await readFile(file), file);
    const e = index.require("w.bf16");
    expect(e).toMatchObject({ dtype: "BF16", shape: [5, 7], file, byteLength: 70 });
    expect(e.dataOffset).toBe(h.dataStart + 48);
    expect(index.names()).toEqual(["experts", "ids", "vec", "w.bf16", "w.f16", "w.f32", "w.f8"]);
    expect(index.parameterCount()).toBe(12 + 35 + 6 + 4 + 2 + 12 + 3);
    expect(index.metadata.get(file)).toEqual({ format: "pt" });
  });

  it("reads rows of F32, BF16, F16 and F8_E4M3 as float32", async () => {
    const { index } = await smallModel();
    expect([...(await index.readRows("w.f32", 1, 2))]).toEqual([...ramp(12).subarray(3, 9)]);
    expect([...(await index.readRows("w.bf16", 2, 3))]).toEqual(
      [...ramp(35, 0.1).subarray(14, 35)].map(roundBf16),
    );
    expect([...(await index.readRows("w.f16", 0, 2))]).toEqual([1, -2, 0.5, 2 ** -24, 65504, -0]);
    expect([...(await index.readRows("w.f8", 0, 2))]).toEqual([1, -1, 448, 2 ** -9]);
  });

  it("treats the last dimension as the row", async () => {
    const { index } = await smallModel();
    expect(index.rows("experts")).toEqual({ rows: 6, cols: 2 });
    expect(index.rows("vec")).toEqual({ rows: 1, cols: 3 });
    expect(rowGeometry({ shape: [] })).toEqual({ rows: 1, cols: 1 });
    expect(rowGeometry({ shape: [4, 0] })).toEqual({ rows: 4, cols: 0 });
    expect([...(await index.readRows("experts", 5, 1))]).toEqual([...ramp(12).subarray(10, 12)]);
  });

  it("streams rows in chunks that cover the tensor exactly, fresh or reused", async () => {
    const { index } = await smallModel();
    const all = await index.readRows("w.bf16", 0, 5);
    for (const reuse of [false, true]) {
      const got: number[] = [];
      const starts: number[] = [];
      const arrays = new Set<ArrayBufferLike>();
      for await (const c of index.streamRows("w.bf16", 2, { reuse })) {
        starts.push(c.rowStart);
        expect(c.data.length).toBe(c.rowCount * 7);
        got.push(...c.data);
        arrays.add(c.data.buffer);
      }
      expect(starts).toEqual([0, 2, 4]);
      expect(got).toEqual([...all]);
      expect(arrays.size).toBe(reuse ? 1 : 3);
    }
  });

  it("a consumer may stop streaming early", async () => {
    const { index } = await smallModel();
    for await (const c of index.streamRows("w.f32", 1)) {
      expect(c.rowStart).toBe(0);
      break;
    }
    expect([...(await index.readRows("w.f32", 3, 1))]).toEqual([...ramp(12).subarray(9, 12)]);
  });

  it("reads raw bytes of integer tensors but refuses to decode them", async () => {
    const { index } = await smallModel();
    expect(await index.readBytes("ids")).toEqual(new Uint8Array(8));
    await expect(index.readRows("ids", 0, 1)).rejects.toMatchObject({ code: "safetensors/not-decodable" });
    await expect(index.readRows("ids", 0, 1)).rejects.toThrow(/dtype I32/);
  });

  it("rejects out-of-range reads and unknown names with typed errors", async () => {
    const { index } = await smallModel();
    await expect(index.readRows("w.f32", 3, 2)).rejects.toMatchObject({
      code: "safetensors/read-range",
      exitCode: 2,
    });
    await expect(index.readRows("w.f32", -1, 1)).rejects.toBeInstanceOf(PccxError);
    await expect(index.readBytes("w.f32", 40, 10)).rejects.toMatchObject({ code: "safetensors/read-range" });
    expect(() => index.require("w.f33")).toThrow(/not in the checkpoint/);
  });

  it("opens files lazily and can be closed and reused", async () => {
    const { index } = await smallModel();
    const pool = (index as unknown as { pool: { openCount: number } }).pool;
    expect(pool.openCount).toBe(0);
    await index.readRows("vec", 0, 1);
    expect(pool.openCount).toBe(1);
    await index.close();
    expect(pool.openCount).toBe(0);
    expect([...(await index.readRows("vec", 0, 1))]).toEqual([1, 2, 3]);
    await index.close();
  });

  it("reports a file truncated after its header was read", async () => {
    const { file, index } = await smallModel();
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 20));
    await expect(index.readRows("vec", 0, 1)).rejects.toMatchObject({
      code: "safetensors/truncated",
      exitCode: 2,
    });
    expect([...(await index.readRows("w.f8", 0, 1))]).toEqual([1, -1]);
    await index.close();
  });
});

describe("bounded positional reads", () => {
  it("splits a large read into pieces below MAX_READ_BYTES (< 2 GiB) at absolute positions", async () => {
    const calls: [number, number][] = [];
    const fake = {
      read: async (_b: Uint8Array, _o: number, length: number, position: number) => {
        calls.push([length, position]);
        return { bytesRead: length };
      },
    } as unknown as FileHandle;
    const total = 3 * MAX_READ_BYTES + 5;
    // a zero-length typed array is enough: the fake never writes into it
    await readFully(fake, "f", new Uint8Array(0), 0, total, 1000);
    expect(MAX_READ_BYTES).toBeLessThan(2 ** 31);
    expect(calls.map((c) => c[0])).toEqual([MAX_READ_BYTES, MAX_READ_BYTES, MAX_READ_BYTES, 5]);
    expect(calls.map((c) => c[1])).toEqual([
      1000,
      1000 + MAX_READ_BYTES,
      1000 + 2 * MAX_READ_BYTES,
      1000 + 3 * MAX_READ_BYTES,
    ]);
  });
});

describe("writer", () => {
  it("streams tensor data from a callback and writes a file the reader accepts", async () => {
    const dir = await tempDir();
    const file = join(dir, "s.safetensors");
    const rows = 64;
    const cols = 1000;
    const written = await writeSafetensors(file, [
      {
        name: "big",
        dtype: "BF16",
        shape: [rows, cols],
        data: async (write) => {
          for (let r = 0; r < rows; r++)
            await write(encodeBf16(Float32Array.from({ length: cols }, (_, c) => r + c / 1024)));
        },
      },
    ]);
    const index = await openTensorIndex({ kind: "single", file, shards: [file] });
    expect(written.fileSize).toBe(8 + written.headerLength + rows * cols * 2);
    const row = await index.readRows("big", 17, 1);
    expect(row[5]).toBe(roundBf16(17 + 5 / 1024));
    await index.close();
  });

  it("writes deterministic bytes with the header padded to 8", async () => {
    const t = [{ name: "a", dtype: "F32" as const, shape: [2], data: encodeF32([1, 2]) }];
    const { bytes } = buildHeader(t, { format: "pt" });
    expect((bytes.length - 8) % 8).toBe(0);
    const dir = await tempDir();
    await writeSafetensors(join(dir, "1.safetensors"), t, { format: "pt" });
    await writeSafetensors(join(dir, "2.safetensors"), t, { format: "pt" });
    expect(await readFile(join(dir, "1.safetensors"))).toEqual(await readFile(join(dir, "2.safetensors")));
  });

  it("rejects a producer that writes the wrong number of bytes and leaves no file", async () => {
    const dir = await tempDir();
    const file = join(dir, "bad.safetensors");
    const tooFew = writeSafetensors(file, [
      { name: "a", dtype: "F32", shape: [2], data: async (w) => w(new Uint8Array(4)) },
    ]);
    await expect(tooFew).rejects.toMatchObject({ code: "safetensors/write-span" });
    const tooMany = writeSafetensors(file, [{ name: "a", dtype: "U8", shape: [2], data: new Uint8Array(3) }]);
    await expect(tooMany).rejects.toMatchObject({ code: "safetensors/write-span" });
    await expect(readFile(file)).rejects.toThrow();
  });
});
