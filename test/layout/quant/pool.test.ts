import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_SCHEME,
  QuantPool,
  type QuantScheme,
  quantizeRows,
  quantizeTensor,
  type RowBlock,
} from "../../../src/layout/quant/index.js";
import { sha256Hex } from "../../../src/util/hash.js";
import { randomMatrix, splitRows, toBf16Bits } from "./helpers.js";

const K = 130;
const ROWS = 300;
const CUTS = [1, 40, 7, 64, 3, 90, 20];

function blocksOf(m: Float32Array, kind: "f32" | "bf16"): RowBlock[] {
  const parts = splitRows(m, K, CUTS);
  return kind === "f32" ? parts : parts.map((p) => ({ kind: "bf16", bits: toBf16Bits(p) }));
}

describe("worker pool", () => {
  // Shared pools: starting a worker from .ts sources costs a few hundred ms of transpiling.
  let one: QuantPool;
  let two: QuantPool;
  beforeAll(() => {
    one = new QuantPool(1);
    two = new QuantPool(2);
  });
  afterAll(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  const schemes: QuantScheme[] = [
    DEFAULT_SCHEME,
    { scaleGroup: 32, scaleDtype: "f16", quantSearch: true },
    { scaleGroup: 128, scaleDtype: "f32", quantSearch: false },
  ];
  for (const scheme of schemes) {
    it(`gives byte-identical output and statistics for 0, 1 and 2 threads (${JSON.stringify(scheme)})`, async () => {
      const m = randomMatrix(ROWS, K, 9, 0.1, true);
      const opts = { k: K, rows: ROWS, scheme };
      const inline = await quantizeTensor(blocksOf(m, "bf16"), opts);
      const [a, b] = await Promise.all([
        quantizeTensor(blocksOf(m, "bf16"), { ...opts, pool: one }),
        quantizeTensor(blocksOf(m, "bf16"), { ...opts, pool: two }),
      ]);
      for (const t of [a!, b!]) {
        expect(t.packed).toEqual(inline.packed);
        expect(t.scales).toEqual(inline.scales);
        expect(t.summary).toEqual(inline.summary);
      }
      // BF16 bits decoded on the worker equal float32 rows decoded beforehand.
      const f32 = await quantizeTensor(blocksOf(m, "f32"), { ...opts, pool: two });
      expect(f32.packed).toEqual(inline.packed);
    });
  }

  it("yields chunks in input order even when later blocks finish first", async () => {
    const m = randomMatrix(ROWS, K, 3);
    const firstRows: number[] = [];
    for await (const c of quantizeRows(splitRows(m, K, [200, 1, 1, 1, 50]), { k: K, pool: two })) {
      firstRows.push(c.firstRow);
    }
    expect(firstRows).toEqual([0, 200, 201, 202, 203, 253]);
  });

  it("transfers whole buffers to the workers and copies sub-views instead of detaching them", async () => {
    const whole = randomMatrix(4, K, 1);
    const big = randomMatrix(8, K, 2);
    const view = big.subarray(0, 4 * K);
    for await (const _ of quantizeRows([whole, view], { k: K, pool: one })) {
      // consume
    }
    expect(whole.byteLength).toBe(0); // detached: ownership passed to the worker
    expect(big.length).toBe(8 * K); // the caller's larger buffer is intact
  });

  it("copies blocks from a source that reuses one buffer when asked (copyBlocks)", async () => {
    const m = randomMatrix(40, K, 8);
    const reused = new Float32Array(8 * K);
    function* reusing() {
      for (let r = 0; r < 40; r += 8) {
        reused.set(m.subarray(r * K, (r + 8) * K));
        yield reused; // the same buffer every time, like streamRows({ reuse: true })
      }
    }
    const want = await quantizeTensor(splitRows(m, K, [8, 8, 8, 8]), { k: K, rows: 40 });
    const got = await quantizeTensor(reusing(), { k: K, rows: 40, pool: two, copyBlocks: true });
    expect(got.packed).toEqual(want.packed);
    expect(got.summary).toEqual(want.summary);
    expect(reused.length).toBe(8 * K); // never detached
  });

  it("rejects a block whose buffer was already handed over, without breaking the pool", async () => {
    const m = randomMatrix(4, K, 6);
    function* twice() {
      yield m;
      yield m; // detached by the first transfer
    }
    await expect(quantizeTensor(twice(), { k: K, rows: 8, pool: one })).rejects.toMatchObject({
      code: "layout/quant-block-send",
    });
    const ok = await quantizeTensor([randomMatrix(2, K, 7)], { k: K, rows: 2, pool: one });
    expect(ok.summary.count).toBe(2 * K);
  });

  it("reports a worker-side error as the same PccxError, and the pool keeps working", async () => {
    const pool = new QuantPool(2);
    try {
      const bad = randomMatrix(10, K, 4);
      bad[7 * K + 2] = Number.POSITIVE_INFINITY;
      await expect(
        quantizeTensor(splitRows(bad, K, [3, 3]), { k: K, rows: 10, pool, tensor: "lm_head.weight" }),
      ).rejects.toMatchObject({
        name: "PccxError",
        code: "layout/quant-nonfinite",
        exitCode: 2,
        message: "tensor lm_head.weight has Infinity at [7, 2]",
      });
      const ok = await quantizeTensor([randomMatrix(5, K, 5)], { k: K, rows: 5, pool });
      expect(ok.summary.count).toBe(5 * K);
    } finally {
      await pool.close();
    }
    await expect(
      pool.run({ block: new Float32Array(K), k: K, firstRow: 0, scheme: DEFAULT_SCHEME }),
    ).rejects.toMatchObject({ code: "layout/quant-pool-closed" });
  });

  it("checks the row count of a whole tensor", async () => {
    await expect(
      quantizeTensor([randomMatrix(3, K, 1)], { k: K, rows: 4, threads: 1 }),
    ).rejects.toMatchObject({
      code: "layout/quant-row-count",
      exitCode: 2,
    });
  });

  it("loads its workers when the sources run under tsx in another process", async () => {
    const script = fileURLToPath(new URL("./fixtures/pool-smoke.ts", import.meta.url));
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const out = execFileSync(process.execPath, ["--import", "tsx", script], { cwd: root, encoding: "utf8" });
    const k = 96;
    const t = await quantizeTensor(splitRows(randomMatrix(50, k, 42), k, [7, 13, 5]), { k, rows: 50 });
    const bytes = new Uint8Array(t.packed.length + t.scales.byteLength);
    bytes.set(t.packed);
    bytes.set(new Uint8Array(t.scales.buffer), t.packed.length);
    expect(out.trim()).toBe(sha256Hex(bytes));
  });
});
