import { describe, expect, it } from "vitest";
import type { HostOperand } from "../../../src/codegen/program.js";
import { dma, gemv, host, l2, machine, memset, messages, region } from "./helpers.js";

const f32Bytes = (v: readonly number[]) => new Uint8Array(Float32Array.from(v).buffer);

// One KV head, headDim = vHeadDim = 8, ring of 4 slots in one region, as codegen lays it out: the
// K part from 0 (4 rows of one beat, then 4 scale beats: 8 groups of 1 element per row), the V part
// from vBase = 128, one 32-slot block per GEMV port: port j carries 4 features (4 beats and their
// scales padded to a beat = 80 bytes), at vPortOffsets (0, 80).
const K0 = [0.3, 1, 2, 3, 4, 5, 6, -0.7];
const K1 = [1.1, 0, 0, 0, 0, 0, 0, 2];
const V0 = [1, 2, 3, 4, 5, 6, 7, 8];
const V1 = [2, 2, 2, 2, -2, -2, -2, -2];
const kvAttrs = {
  layer: 0,
  capacity: 4,
  kvHeads: 1,
  headDim: 8,
  vHeadDim: 8,
  kScale: 1,
  format: "int4_tiles",
  chunk: 512,
  ports: 2,
  kHeadBytes: 128,
  kScaleOffset: 64,
  vBase: 128,
  vParts: [4, 4],
  vPortOffsets: [0, 80],
  vHeadBytes: 160,
};
const rows2 = (name: string): HostOperand => ({
  region: name,
  offset: 0,
  elements: 16,
  dtype: "f32",
  rows: 2,
  blocks: [8],
});
const ring: HostOperand[] = [
  { region: "kv", offset: 0, elements: 256, dtype: "int4" },
  { region: "kv", offset: 128, elements: 320, dtype: "int4" },
];

function attentionSteps() {
  return [
    host("kv_write", [rows2("k"), rows2("v")], ring, { ...kvAttrs, row: 0 }),
    host("kv_write", [rows2("k"), rows2("v")], ring, { ...kvAttrs, row: 1 }),
    // Q·Kᵀ: N = 2 slots, K = 8, row-major, group 1 (one scale per element); rows 0 / 1 on hp2 / hp3.
    memset(0, 1, 1, 2, 8),
    memset(1, 2, 0, 1, 0),
    dma("hp2", "kv", 0, 16),
    dma("hp2", "kv", 64, 16),
    dma("hp3", "kv", 16, 16),
    dma("hp3", "kv", 80, 16),
    gemv(10, 0, 1, 2, { w_scale: 1 }),
    // P·V: N = 8 features, K = 2 slots, K-block-major with its scale beat; features 0–3 / 4–7.
    memset(0, 3, 1, 8, 2),
    memset(1, 4, 1, 32, 0),
    dma("hp2", "kv", 128, 80),
    dma("hp3", "kv", 208, 80),
    gemv(20, 1, 3, 4, { w_scale: 1 }),
  ];
}

function run(mode: "exact" | "hardware") {
  return machine(attentionSteps(), {
    mode,
    ddr: [region("k", 64), region("v", 64), region("kv", 288, "kv")],
    image: { k: f32Bytes([...K0, ...K1]), v: f32Bytes([...V0, ...V1]) },
    // q = (1, 0, …, 0, 1) at word 0; p = (0.25, 0.75) at word 1.
    l2: { 0: [1, 0, 0, 0, 0, 0, 0, 1], 1: [0.25, 0.75] },
    variables: { pos: 0 },
  });
}

describe("KV tiles written by kv_write (int4_tiles) and read by the attention GEMVs", () => {
  const scores = [K0[0]! + K0[7]!, K1[0]! + K1[7]!]; // (−0.4, 3.1)
  const pv = V0.map((a, d) => 0.25 * a + 0.75 * V1[d]!);

  it("exact mode: the engines see the unquantized K and V", () => {
    const m = run("exact");
    expect(messages(m)).toEqual([]);
    l2(m, 10, 2).forEach((s, i) => {
      expect(s).toBeCloseTo(scores[i]!, 6);
    });
    l2(m, 20, 8).forEach((s, i) => {
      expect(s).toBeCloseTo(pv[i]!, 5);
    });
    expect(["kv_slot[0]", "kv_len[0]", "kv_blocks[0]"].map((n) => m.state.variables.get(n))).toEqual([
      1, 2, 1,
    ]);
  });

  it("hardware mode: K and V are INT4 with BF16 scales, V requantized per block", () => {
    const m = run("hardware");
    expect(messages(m)).toEqual([]);
    const got = l2(m, 10, 2);
    got.forEach((s, i) => {
      expect(Math.abs(s - scores[i]!)).toBeLessThan(0.02);
    });
    expect(got).not.toEqual(run("exact").state.l2.data.subarray(80, 82));
    // Feature 0: lanes (1, 2) → s' = bf16(2/7) = 0.28515625; codes rne(1/s') = 4 and 7 → byte 0x74.
    const kv = m.state.ddr.region("kv")!.bytes;
    expect(kv[128]).toBe(0x74);
    expect(new DataView(kv.buffer, kv.byteOffset).getUint16(128 + 64, true)).toBe(0x3e92); // BF16 0.28515625
    // P·V within the INT4 error: |Δ| ≤ 0.25·s/2 + 0.75·s/2 per feature.
    l2(m, 20, 8).forEach((s, i) => {
      expect(Math.abs(s - pv[i]!)).toBeLessThan(0.6);
    });
  });
});
