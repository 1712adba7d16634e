import { open } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BufferPool, rawReader, WriteQueue } from "../../../src/layout/image/buffers.js";
import { llamaGraph } from "../plan/graphs.js";
import { type Checkpoint, tempDir, writeCheckpoint } from "./checkpoint.js";

const graph = llamaGraph({ hidden: 64, inter: 96, layers: 1, heads: 2, kvHeads: 1, headDim: 32, vocab: 40 });

describe("the image writer's buffers, reads and writes", () => {
  let ck: Checkpoint;
  beforeAll(async () => {
    ck = await writeCheckpoint(graph, { seed: 3 });
  });
  afterAll(() => ck.cleanup());

  it("recycles shared buffers by exact size and drops anything else", () => {
    const pool = new BufferPool(2);
    const a = pool.take(64);
    expect(a).toBeInstanceOf(SharedArrayBuffer);
    pool.give(a);
    expect(pool.take(64)).toBe(a);
    expect(pool.take(64)).not.toBe(a); // none left: a fresh one
    pool.give(new ArrayBuffer(64)); // a worker's own result: not recycled
    const b = pool.take(64);
    expect(b).toBeInstanceOf(SharedArrayBuffer);
    for (let i = 0; i < 4; i++) pool.give(new SharedArrayBuffer(32));
    const kept = new Set([pool.take(32), pool.take(32), pool.take(32)]);
    expect(kept.size).toBe(3); // at most 2 were kept, the third is new
  });

  it("reads a TensorIndex's bytes with its own handles, into pool buffers, exactly as readBytes does", async () => {
    const raw = rawReader(ck.index);
    const pool = new BufferPool();
    try {
      const name = "model.layers.0.mlp.down_proj.weight";
      const e = ck.index.get(name)!;
      for (const [start, length] of [
        [0, e.byteLength],
        [128, 512],
        [e.byteLength - 10, 10],
      ] as const) {
        const got = await raw.read(name, start, length, pool);
        expect(got.buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(Buffer.from(got).equals(Buffer.from(await ck.index.readBytes(name, start, length)))).toBe(
          true,
        );
        pool.give(got.buffer);
      }
      // A reused (dirty) buffer is fully overwritten.
      const again = await raw.read(name, 128, 512, pool);
      expect(Buffer.from(again).equals(Buffer.from(await ck.index.readBytes(name, 128, 512)))).toBe(true);
    } finally {
      await raw.close();
    }
  });

  it("goes through readBytes for any other source", async () => {
    const calls: [string, number, number][] = [];
    const src = {
      get: (n: string) => ck.index.get(n),
      names: () => ck.index.names(),
      readBytes: (n: string, start = 0, length?: number) => {
        calls.push([n, start, length ?? -1]);
        return ck.index.readBytes(n, start, length);
      },
    };
    const raw = rawReader(src);
    const got = await raw.read("model.norm.weight", 2, 8, new BufferPool());
    expect(calls).toEqual([["model.norm.weight", 2, 8]]);
    expect(got.length).toBe(8);
    await raw.close();
  });

  it("queues positional writes, calls back when each is done, and rethrows a failure", async () => {
    const out = tempDir();
    try {
      const file = join(out.dir, "w.bin");
      const fh = await open(file, "w+");
      const q = new WriteQueue(fh, 2);
      const done: number[] = [];
      for (let i = 0; i < 6; i++) {
        await q.write(new Uint8Array(4).fill(i + 1), i * 4, () => done.push(i));
      }
      await q.drain();
      expect(done.sort()).toEqual([0, 1, 2, 3, 4, 5]);
      const back = new Uint8Array(24);
      await fh.read(back, 0, 24, 0);
      expect([...back]).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6]);
      await fh.close();
      // Writing through a closed handle fails: the failure surfaces at the next write or drain.
      const bad = new WriteQueue(fh);
      await bad.write(new Uint8Array(4), 0);
      await expect(bad.drain()).rejects.toThrow();
      await expect(bad.write(new Uint8Array(4), 0)).rejects.toThrow();
    } finally {
      out.cleanup();
    }
  });
});
