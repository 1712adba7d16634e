import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkFp8ScaleShape,
  DEFAULT_SCHEME,
  dequantFp8Rows,
  dequantMxfp4Rows,
  FP4_VALUES,
  mxfp4Shape,
  quantizeF32Rows,
  quantizeTensor,
  type RowBlock,
} from "../../../src/layout/quant/index.js";
import { f8e4m3ToF32 } from "../../../src/util/float.js";

/** Random FP8 E4M3 bytes without the NaN codes 0x7f / 0xff. */
function fp8Bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    let b = s >>> 24;
    if ((b & 0x7f) === 0x7f) b ^= 1;
    out[i] = b;
  }
  return out;
}

describe("FP8 E4M3 block-scaled (DeepSeek-V3)", () => {
  const n = 130;
  const k = 200; // neither is a multiple of 128: the last blocks are partial
  const data = fp8Bytes(n * k, 11);
  const scaleInv = Float32Array.of(0.001, 0.002, 0.5, 0.25); // [ceil(130/128), ceil(200/128)] = [2, 2]

  it("multiplies each value by the scale_inv of its 128×128 block", () => {
    const out = dequantFp8Rows({ data, k, firstRow: 0, scaleInv });
    for (const [r, c] of [
      [0, 0],
      [5, 127],
      [5, 128],
      [127, 199],
      [128, 0],
      [129, 150],
    ] as const) {
      const s = scaleInv[Math.floor(r / 128) * 2 + Math.floor(c / 128)]!;
      expect(out[r * k + c]).toBe(Math.fround(f8e4m3ToF32(data[r * k + c]!) * s));
    }
  });

  it("dequantizes a row block at any first row like the whole tensor", () => {
    const whole = dequantFp8Rows({ data, k, firstRow: 0, scaleInv });
    const part = dequantFp8Rows({ data: data.subarray(100 * k, 130 * k), k, firstRow: 100, scaleInv });
    expect(part).toEqual(whole.subarray(100 * k, 130 * k));
  });

  it("requantizes to INT4 with the error measured against the dequantized values, on workers too", async () => {
    const deq = dequantFp8Rows({ data, k, firstRow: 0, scaleInv });
    const direct = quantizeF32Rows(deq, k, DEFAULT_SCHEME);
    const blocks = (): RowBlock[] =>
      [0, 64, 128].map((r0) => ({
        kind: "fp8-e4m3" as const,
        data: data.slice(r0 * k, Math.min(n, r0 + 64) * k),
        scaleInv,
      }));
    for (const threads of [0, 2]) {
      const t = await quantizeTensor(blocks(), { k, rows: n, threads });
      expect(t.packed).toEqual(direct.packed);
      expect(t.scales).toEqual(direct.scales);
      expect(t.summary).toEqual(direct.stats.summary());
    }
  });

  it("rejects scale tensors of the wrong shape", () => {
    expect(() => dequantFp8Rows({ data, k, firstRow: 0, scaleInv: scaleInv.subarray(0, 2) })).toThrowError(
      expect.objectContaining({ code: "layout/fp8-scale-shape", exitCode: 2 }),
    );
    checkFp8ScaleShape({ name: "w", shape: [130, 200] }, { name: "w_scale_inv", shape: [2, 2] });
    expect(() =>
      checkFp8ScaleShape({ name: "w", shape: [7168, 18432] }, { name: "w_scale_inv", shape: [56, 143] }),
    ).toThrowError(/needs \[56, 144\]/);
  });

  it("turns an FP8 NaN code into a located non-finite error", async () => {
    const bad = data.slice(0, 2 * k);
    bad[k + 3] = 0x7f;
    await expect(
      quantizeTensor([{ kind: "fp8-e4m3", data: bad, scaleInv }], { k, rows: 2, tensor: "w" }),
    ).rejects.toMatchObject({ code: "layout/quant-nonfinite", message: "tensor w has NaN at [1, 3]" });
  });
});

/** Reference MXFP4 decode, element by element (openai/gpt-oss weights.py semantics). */
function mxfp4Reference(blocks: Uint8Array, scales: Uint8Array, n: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    const byte = blocks[i >> 1]!;
    const code = i & 1 ? byte >> 4 : byte & 15;
    return Math.fround(FP4_VALUES[code]! * 2 ** (scales[i >> 5]! - 127));
  });
}

describe("MXFP4 (gpt-oss)", () => {
  it("puts element 2j in the low nibble and scales each 32-block by 2^(e − 127)", () => {
    const blocks = new Uint8Array(16);
    blocks[0] = 0x2f; // element 0: code 0xF = −6, element 1: code 0x2 = 1.0
    blocks[15] = 0x90; // element 30: 0, element 31: code 0x9 = −0.5
    const out = dequantMxfp4Rows({ blocks, scales: Uint8Array.of(128), k: 32 });
    expect([out[0], out[1], out[30], out[31]]).toEqual([-12, 2, 0, -1]);
  });

  it("matches the element-by-element reference (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (rows, kb, seed) => {
          const k = 32 * kb;
          const blocks = fp8Bytes((rows * k) / 2, seed);
          const scales = fp8Bytes((rows * k) / 32, seed + 1).map((e) => 100 + (e % 50));
          expect(Array.from(dequantMxfp4Rows({ blocks, scales, k }))).toEqual(
            mxfp4Reference(blocks, scales, rows * k),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it("reads rows and K from the checkpoint's _blocks / _scales shapes", () => {
    // openai/gpt-oss-20b: gate_up_proj_blocks [32, 5760, 90, 16], gate_up_proj_scales [32, 5760, 90]
    expect(
      mxfp4Shape({ name: "b", shape: [32, 5760, 90, 16] }, { name: "s", shape: [32, 5760, 90] }),
    ).toEqual({ rows: 32 * 5760, k: 2880 });
    expect(() => mxfp4Shape({ name: "b", shape: [4, 90, 16] }, { name: "s", shape: [4, 91] })).toThrowError(
      expect.objectContaining({ code: "layout/mxfp4-shape" }),
    );
    expect(() =>
      dequantMxfp4Rows({ blocks: new Uint8Array(16), scales: new Uint8Array(2), k: 32 }),
    ).toThrowError(/do not form rows/);
  });

  it("requantizes MXFP4 rows on workers like their dequantized values", async () => {
    const rows = 6;
    const k = 64;
    const blocks = fp8Bytes((rows * k) / 2, 5);
    const scales = Uint8Array.from({ length: (rows * k) / 32 }, (_, i) => 120 + (i % 7));
    const direct = quantizeF32Rows(dequantMxfp4Rows({ blocks, scales, k }), k, DEFAULT_SCHEME);
    const t = await quantizeTensor(
      [
        { kind: "mxfp4", blocks: blocks.slice(0, 64), scales: scales.slice(0, 4) },
        { kind: "mxfp4", blocks: blocks.slice(64), scales: scales.slice(4) },
      ],
      { k, rows, threads: 1 },
    );
    expect(t.packed).toEqual(direct.packed);
    expect(t.summary).toEqual(direct.stats.summary());
  });
});
