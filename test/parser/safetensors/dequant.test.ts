import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openTensorIndex } from "../../../src/parser/safetensors/load.js";
import { encodeF32, writeSafetensors } from "../../../src/parser/safetensors/writer.js";
import { f8e4m3ToF32 } from "../../../src/util/float.js";
import { useTempDirs } from "./fixtures.js";

const tempDir = useTempDirs();

/** A W [n, k] F8_E4M3 weight with W_scale_inv [ceil(n/bn), ceil(k/bk)] F32, and the reference dequant. */
async function fp8Weight(n: number, k: number, bn: number, bk: number, seed: number) {
  const dir = await tempDir();
  const file = join(dir, "model.safetensors");
  const codes = Uint8Array.from({ length: n * k }, (_, i) => {
    const c = (i * 37 + seed) & 0x7f;
    return c === 0x7f ? 0x7e : c | ((i + seed) & 1 ? 0x80 : 0); // avoid NaN codes
  });
  const sr = Math.ceil(n / bn);
  const sc = Math.ceil(k / bk);
  const scales = Float32Array.from({ length: sr * sc }, (_, i) => 0.5 + i + seed / 8);
  await writeSafetensors(file, [
    { name: "layer.weight", dtype: "F8_E4M3", shape: [n, k], data: codes },
    { name: "layer.weight_scale_inv", dtype: "F32", shape: [sr, sc], data: encodeF32(scales) },
    { name: "norm.weight", dtype: "F32", shape: [k], data: encodeF32(new Float32Array(k).fill(2)) },
  ]);
  const ref = (r: number, c: number) =>
    Math.fround(f8e4m3ToF32(codes[r * k + c]!) * scales[Math.floor(r / bn) * sc + Math.floor(c / bk)]!);
  const index = await openTensorIndex(
    { kind: "single", file, shards: [file] },
    { weightBlockSize: [bn, bk] },
  );
  return { index, ref };
}

describe("block-scaled FP8 dequantisation (DeepSeek-V3 layout)", () => {
  it("multiplies each bn×bk block by its scale, for any row window and ragged edges", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 9 }),
          k: fc.integer({ min: 1, max: 9 }),
          bn: fc.integer({ min: 1, max: 4 }),
          bk: fc.integer({ min: 1, max: 4 }),
          seed: fc.nat(100),
          a: fc.nat(),
          b: fc.nat(),
        }),
        async ({ n, k, bn, bk, seed, a, b }) => {
          const { index, ref } = await fp8Weight(n, k, bn, bk, seed);
          const start = a % n;
          const count = b % (n - start + 1);
          const got = await index.readRowsDequant("layer.weight", start, count);
          const want = Float32Array.from({ length: count * k }, (_, i) =>
            ref(start + Math.floor(i / k), i % k),
          );
          expect([...got]).toEqual([...want]);
          await index.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it("uses 128×128 blocks across block boundaries", async () => {
    const { index, ref } = await fp8Weight(300, 260, 128, 128, 3);
    const got = await index.readRowsDequant("layer.weight", 120, 20);
    for (const [r, c] of [
      [0, 0],
      [7, 127],
      [8, 128],
      [19, 259],
    ] as const) {
      expect(got[r * 260 + c]).toBe(ref(120 + r, c));
    }
    await index.close();
  });

  it("returns plain rows for tensors without a scale tensor", async () => {
    const { index } = await fp8Weight(2, 3, 1, 1, 0);
    expect([...(await index.readRowsDequant("norm.weight", 0, 1))]).toEqual([2, 2, 2]);
    await index.close();
  });

  it("needs a block size, and a scale shape that matches it", async () => {
    const { index } = await fp8Weight(4, 4, 2, 2, 0);
    await expect(index.readRowsDequant("layer.weight", 0, 1, [4, 4])).rejects.toMatchObject({
      code: "safetensors/scale-shape",
      exitCode: 2,
    });
    await expect(index.readRowsDequant("layer.weight", 0, 1, [0, 2])).rejects.toMatchObject({
      code: "safetensors/no-block-size",
    });
    const dir = await tempDir();
    const file = join(dir, "m.safetensors");
    await writeSafetensors(file, [
      { name: "w", dtype: "F8_E4M3", shape: [1, 1], data: Uint8Array.of(0x38) },
      { name: "w_scale_inv", dtype: "F32", shape: [1, 1], data: encodeF32([3]) },
    ]);
    const noBlock = await openTensorIndex({ kind: "single", file, shards: [file] });
    await expect(noBlock.readRowsDequant("w", 0, 1)).rejects.toThrow(/weight_block_size/);
    expect([...(await noBlock.readRowsDequant("w", 0, 1, [128, 128]))]).toEqual([3]);
    await index.close();
    await noBlock.close();
  });
});
