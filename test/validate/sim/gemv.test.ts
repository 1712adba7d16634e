import { describe, expect, it } from "vitest";
import type { Step } from "../../../src/codegen/program.js";
import {
  bf16Bytes,
  dma,
  gemv,
  KV260,
  loadL2,
  memset,
  program,
  region,
  run,
  storeL2,
  tile,
} from "./helpers.js";

/** x (BF16) from DDR "x" into L2 word 0; tile bytes on hp2/hp3; result at word 100 read back from "y". */
function gemvProgram(
  x: number[],
  n: number,
  k: number,
  ports: { hp2: Uint8Array; hp3?: Uint8Array },
  wshape: [number, number],
  flags: Parameters<typeof gemv>[4],
  extra: Step[] = [],
) {
  const steps: Step[] = [
    ...loadL2("x", 0, x.length, 5),
    memset(0, 1, 1, n, k),
    memset(1, 2, wshape[0], wshape[1], 0),
    dma("hp2", "w2", 0, ports.hp2.length),
    ...(ports.hp3?.length ? [dma("hp3", "w3", 0, ports.hp3.length)] : []),
    gemv(100, 0, 1, 2, flags),
    ...extra,
    ...storeL2("y", 100, n, 6),
  ];
  const p = program({ decode: steps }, [
    region("x", 16 * Math.ceil(x.length / 8)),
    region("w2", Math.max(16, ports.hp2.length), "weights"),
    region("w3", Math.max(16, ports.hp3?.length ?? 0), "weights"),
    region("y", 16 * Math.ceil(n / 8)),
  ]);
  const image = { x: bf16Bytes(x), w2: ports.hp2, w3: ports.hp3 ?? new Uint8Array(0) };
  return { p, image };
}

describe("GEMV semantics (docs/program.md §4.1, §4.3)", () => {
  it("per-row scales: y[n] = scale[n] · Σ W[n][k]·x[k], rows split over hp2/hp3", () => {
    // W = [[1, 2, −1, 0], [3, −8, 7, 1]], scales (0.5, 0.25), x = (1, 2, 3, 4):
    // y0 = 0.5·(1 + 4 − 3 + 0) = 1;  y1 = 0.25·(3 − 16 + 21 + 4) = 3.
    const { p, image } = gemvProgram(
      [1, 2, 3, 4],
      2,
      4,
      { hp2: tile([[1, 2, -1, 0]], [0.5]), hp3: tile([[3, -8, 7, 1]], [0.25]) },
      [0, 0],
      { w_scale: 1 },
    );
    for (const mode of ["hardware", "exact"] as const) {
      const r = run(p, image, ["decode"], [{ region: "y", elements: 2 }], { mode });
      expect(r.faults).toEqual([]);
      expect(Array.from(r.outputs[0]![0]!)).toEqual([1, 3]);
      // One row per port: a 16-byte beat and the scale padded to a beat.
      expect(r.stats.streamBytes).toMatchObject({ hp2: 32, hp3: 32 });
      expect(r.stats.macs).toBe(8);
    }
  });

  it("without w_scale the raw code sums are written and no scales are streamed", () => {
    // y = (1 + 4 − 3, 3 − 16 + 21 + 4) = (2, 12); each port carries one beat.
    const { p, image } = gemvProgram(
      [1, 2, 3, 4],
      2,
      4,
      { hp2: tile([[1, 2, -1, 0]]), hp3: tile([[3, -8, 7, 1]]) },
      [0, 0],
      {},
    );
    const r = run(p, image, ["decode"], [{ region: "y", elements: 2 }]);
    expect(r.faults).toEqual([]);
    expect(Array.from(r.outputs[0]![0]!)).toEqual([2, 12]);
    expect(r.stats.streamBytes).toMatchObject({ hp2: 16, hp3: 16 });
  });

  it("group scales: one scale per 32 K-elements; a 1-row tile leaves hp3 empty", () => {
    // W row: 32 × code 1 then 32 × code 2, scales (0.5, 0.25); x: 32 × 1 then 32 × 2.
    // y = 0.5·32·1 + 0.25·32·(2·2) = 16 + 32 = 48.
    const w = [...Array(32).fill(1), ...Array(32).fill(2)];
    const x = [...Array(32).fill(1), ...Array(32).fill(2)];
    const { p, image } = gemvProgram(x, 1, 64, { hp2: tile([w], [0.5, 0.25], 32) }, [0, 32], { w_scale: 1 });
    for (const mode of ["hardware", "exact"] as const) {
      const r = run(p, image, ["decode"], [{ region: "y", elements: 1 }], { mode });
      expect(r.faults).toEqual([]);
      expect(r.outputs[0]![0]![0]).toBe(48);
      // Two beats of codes + two scales padded to one beat.
      expect(r.stats.streamBytes).toMatchObject({ hp2: 48 });
      expect(r.stats.streamBytes["hp3"]).toBeUndefined();
    }
  });

  it("K-block-major tiles (order 1) give the same result as row-major ones", () => {
    // Same tile as above, K-block-major: block 0 beat, its scale beat, block 1 beat, its scale beat.
    const w = [...Array(32).fill(1), ...Array(32).fill(2)];
    const x = [...Array(32).fill(1), ...Array(32).fill(2)];
    const t1 = tile([w], [0.5, 0.25], 32, 1);
    expect(t1.length).toBe(64);
    const { p, image } = gemvProgram(x, 1, 64, { hp2: t1 }, [1, 32], { w_scale: 1 });
    const r = run(p, image, ["decode"], [{ region: "y", elements: 1 }]);
    expect(r.faults).toEqual([]);
    expect(r.outputs[0]![0]![0]).toBe(48);
  });

  it("K split: a second GEMV with accm adds its partial sum into dest", () => {
    // W = [1, 2, 3, 4 | 5, 6, 7, −8], x = 1s: first half 10, second half 10, total 20.
    const x = [1, 1, 1, 1, 1, 1, 1, 1];
    const steps: Step[] = [
      ...loadL2("x", 0, 8, 5),
      memset(0, 1, 1, 1, 4),
      memset(1, 2, 0, 0, 0),
      dma("hp2", "w2", 0, 32),
      gemv(100, 0, 1, 2),
      // The second K half starts at L2 word 0 + 4 elements: put it in its own word.
      ...loadL2("x2", 1, 4, 7, 3),
      gemv(100, 1, 1, 2, { accm: 1 }),
      ...storeL2("y", 100, 1, 6),
    ];
    const p = program({ decode: steps }, [
      region("x", 16),
      region("x2", 16),
      region("w2", 32, "weights"),
      region("y", 16),
    ]);
    const w2 = new Uint8Array([...tile([[1, 2, 3, 4]]), ...tile([[5, 6, 7, -8]])]);
    const r = run(
      p,
      { x: bf16Bytes(x), x2: bf16Bytes([1, 1, 1, 1]), w2 },
      ["decode"],
      [{ region: "y", elements: 1 }],
    );
    expect(r.faults).toEqual([]);
    expect(r.outputs[0]![0]![0]).toBe(20);
  });

  it("splits N rows into ceil(N/P) per port: N = 3 puts rows 0–1 on hp2 and row 2 on hp3", () => {
    // W = [[1,0],[0,1],[1,1]] with scales (1, 2, 4); x = (3, 5): y = (3, 10, 32).
    const { p, image } = gemvProgram(
      [3, 5],
      3,
      2,
      {
        hp2: tile(
          [
            [1, 0],
            [0, 1],
          ],
          [1, 2],
        ),
        hp3: tile([[1, 1]], [4]),
      },
      [0, 0],
      { w_scale: 1 },
    );
    const r = run(p, image, ["decode"], [{ region: "y", elements: 3 }]);
    expect(r.faults).toEqual([]);
    expect(Array.from(r.outputs[0]![0]!)).toEqual([3, 10, 32]);
    expect(r.stats.streamBytes).toMatchObject({ hp2: 48, hp3: 32 });
  });

  it("GEMM: M activation rows at a row stride of ceil(K/8) words, weights on hp0/hp1", () => {
    // x rows (1, 2) and (3, 4) at words 0 and 1; W = [[1, 1], [1, −1]] (hp0 row 0, hp1 row 1).
    // y rows: (3, −1) and (7, −1), written at words 100 and 101.
    const steps: Step[] = [
      ...loadL2("x", 0, 16, 5),
      memset(0, 1, 2, 2, 2),
      memset(1, 2, 0, 0, 0),
      dma("hp0", "w0", 0, 16),
      dma("hp1", "w1", 0, 16),
      gemv(100, 0, 1, 2, {}, { gemm: true }),
      ...storeL2("y", 100, 16, 6),
    ];
    const p = program({ prefill: steps }, [
      region("x", 32),
      region("w0", 16, "weights"),
      region("w1", 16, "weights"),
      region("y", 32),
    ]);
    const x = [1, 2, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0];
    const r = run(
      p,
      { x: bf16Bytes(x), w0: tile([[1, 1]]), w1: tile([[1, -1]]) },
      ["prefill"],
      [{ region: "y", elements: 16 }],
    );
    expect(r.faults).toEqual([]);
    const y = Array.from(r.outputs[0]![0]!);
    expect([y[0], y[1], y[8], y[9]]).toEqual([3, -1, 7, -1]);
    expect(r.stats.macs).toBe(8);
  });
});

describe("numeric modes", () => {
  it("hardware mode rounds results to BF16; exact mode keeps float32", () => {
    // codes (3), scale 1.0078125 = 1 + 2^-7 (BF16-exact), x = 1: y = 3.0234375, which needs 9
    // significant bits; it lies halfway between BF16 neighbours 3.015625 and 3.03125 and rounds to
    // the even one, 3.03125.
    const { p, image } = gemvProgram([1], 1, 1, { hp2: tile([[3]], [1.0078125]) }, [0, 0], { w_scale: 1 });
    const hw = run(p, image, ["decode"], [{ region: "y", elements: 1 }], { mode: "hardware" });
    const ex = run(p, image, ["decode"], [{ region: "y", elements: 1 }], { mode: "exact" });
    expect(hw.faults).toEqual([]);
    expect(hw.outputs[0]![0]![0]).toBe(3.03125);
    expect(ex.outputs[0]![0]![0]).toBe(3.0234375);
  });

  it("hardware mode quantizes activations to INT8 with a per-32-element block exponent", () => {
    // x = (100, 0.30078125) in one block: max 100 → e = 6, step 2^0 = 1, so q(0.30078125) = 0 and
    // q(100) = 100. W = [[0, 1]]: exact y = 0.30078125 (BF16 of 0.3), hardware y = 0.
    // With W = [[1, 0]] both give 100.
    const { p, image } = gemvProgram([100, 0.3], 1, 2, { hp2: tile([[0, 1]]) }, [0, 0], {});
    const hw = run(p, image, ["decode"], [{ region: "y", elements: 1 }], { mode: "hardware" });
    const ex = run(p, image, ["decode"], [{ region: "y", elements: 1 }], { mode: "exact" });
    expect(hw.faults).toEqual([]);
    expect(hw.outputs[0]![0]![0]).toBe(0);
    expect(ex.outputs[0]![0]![0]).toBe(0.30078125);
    expect(KV260.file.numeric.engine_activation).toMatchObject({ format: "int8", block_elements: 32 });
  });
});
