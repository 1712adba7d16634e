import { describe, expect, it } from "vitest";
import { loadTarget } from "../../../src/target/index.js";
import { bf16Round } from "../../../src/validate/sim/index.js";
import { cvo, dma, gemv, KV260_EXT, l2, machine, memset, messages, region, tile } from "./helpers.js";

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const f = Math.fround;
const bf = bf16Round;

/** Q·Kᵀ as a GEMV: K rows on hp2/hp3 (no scales), q = (1, 0) at word 0, scores at `dest`. */
function scores(rows: number[], dest: number, findemax: 0 | 1, tagBase: number, shape = 1) {
  const per = Math.ceil(rows.length / 2);
  const a = tile(rows.slice(0, per).map((v) => [v, 0]));
  const b = rows.length > per ? tile(rows.slice(per).map((v) => [v, 0])) : new Uint8Array(0);
  return {
    steps: [
      memset(0, shape, 1, rows.length, 2),
      memset(1, 2, 0, 0, 0),
      dma("hp2", `k${tagBase}a`, 0, a.length),
      ...(b.length ? [dma("hp3", `k${tagBase}b`, 0, b.length)] : []),
      gemv(dest, 0, shape, 2, { findemax }),
    ],
    regions: [
      region(`k${tagBase}a`, Math.max(16, a.length), "weights"),
      region(`k${tagBase}b`, Math.max(16, b.length), "weights"),
    ],
    image: { [`k${tagBase}a`]: a, [`k${tagBase}b`]: b },
  };
}

describe("softmax: findemax GEMV + EXP sub_emax + REDUCE_SUM + SCALE recip_scale", () => {
  const s = scores([1, 2, 3], 200, 1, 0);
  const steps = [
    ...s.steps,
    cvo("EXP", 200, 301, 3, { sub_emax: 1 }),
    cvo("REDUCE_SUM", 301, 300, 3),
    // SCALE reads the scalar at word 300 and the vector from the next word (301).
    cvo("SCALE", 300, 301, 3, { recip_scale: 1 }),
  ];
  const hand = (() => {
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const sum = e[0]! + e[1]! + e[2]!;
    return e.map((v) => v / sum); // 0.0900306, 0.2447285, 0.6652410
  })();

  it("exact mode matches a hand softmax to float32 precision", () => {
    const m = machine(steps, { mode: "exact", ddr: s.regions, image: s.image, l2: { 0: [1, 0] } });
    expect(messages(m)).toEqual([]);
    expect(l2(m, 200, 3)).toEqual([1, 2, 3]);
    expect(m.state.emax).toBe(3);
    const p = l2(m, 301, 3);
    p.forEach((v, i) => {
      expect(v).toBeCloseTo(hand[i]!, 6);
    });
  });

  it("hardware mode rounds every stage to BF16", () => {
    const m = machine(steps, { mode: "hardware", ddr: s.regions, image: s.image, l2: { 0: [1, 0] } });
    expect(messages(m)).toEqual([]);
    // exp in float32, stored as BF16; the sum accumulates in float32; each quotient rounds once.
    const e = [bf(f(Math.exp(-2))), bf(f(Math.exp(-1))), 1];
    const sum = bf(f(f(e[0]! + e[1]!) + e[2]!));
    expect(l2(m, 300, 1)).toEqual([sum]);
    expect(l2(m, 301, 3)).toEqual(e.map((v) => bf(f(v / sum))));
    l2(m, 301, 3).forEach((v, i) => {
      expect(Math.abs(v - hand[i]!) / hand[i]!).toBeLessThan(2 ** -6);
    });
  });

  it("chunked findemax calls share one e_max, reset by the first findemax after a sub_emax CVO", () => {
    const a = scores([1, 2], 200, 1, 0, 1);
    const b = scores([5], 210, 1, 1, 3);
    const c = scores([1], 220, 1, 2, 4);
    const m = machine(
      [
        ...a.steps,
        ...b.steps,
        cvo("EXP", 200, 230, 2, { sub_emax: 1 }), // exp(1 − 5), exp(2 − 5)
        ...c.steps, // resets e_max to 1
        cvo("EXP", 220, 240, 1, { sub_emax: 1 }), // exp(1 − 1) = 1
      ],
      {
        mode: "exact",
        ddr: [...a.regions, ...b.regions, ...c.regions],
        image: { ...a.image, ...b.image, ...c.image },
        l2: { 0: [1, 0] },
      },
    );
    expect(messages(m)).toEqual([]);
    expect(l2(m, 230, 2)).toEqual([f(Math.exp(-4)), f(Math.exp(-3))]);
    expect(l2(m, 240, 1)).toEqual([1]);
    expect(m.state.emax).toBe(1);
  });
});

describe("CVO functions as the target defines them", () => {
  const x = [0.5, 1, 2, 4];
  const run1 = (func: string, mode: "exact" | "hardware" = "hardware", intent?: string) =>
    l2(machine([cvo(func, 10, 12, 4, {}, intent ? { intent } : {})], { mode, l2: { 10: x } }), 12, 4);

  it("element-wise EXP, SQRT, RECIP, SIN, COS (hardware: float32 result rounded to BF16)", () => {
    expect(run1("EXP")).toEqual(x.map((v) => bf(f(Math.exp(v)))));
    expect(run1("SQRT")).toEqual(x.map((v) => bf(f(Math.sqrt(v)))));
    expect(run1("RECIP")).toEqual([2, 1, 0.5, 0.25]);
    expect(run1("SIN", "exact")).toEqual(x.map((v) => f(Math.sin(v))));
    expect(run1("COS", "exact")).toEqual(x.map((v) => f(Math.cos(v))));
  });

  it("GELU is x·σ(1.702x) in hardware mode and the recorded intent in exact mode", () => {
    const hwGelu = (v: number) => v * sig(1.702 * v);
    const tanhGelu = (v: number) =>
      0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    expect(run1("GELU")).toEqual(x.map((v) => bf(f(hwGelu(v)))));
    expect(run1("GELU", "exact")).toEqual(x.map((v) => f(hwGelu(v))));
    expect(run1("GELU", "exact", "gelu_tanh")).toEqual(x.map((v) => f(tanhGelu(v))));
    // The two differ by the approximation error the feature ledger reports (≈ 0.019 at x = 2).
    expect(Math.abs(hwGelu(2) - tanhGelu(2))).toBeGreaterThan(0.01);
  });

  it("REDUCE_SUM writes one element; SCALE multiplies by the scalar read first; accm adds into dst", () => {
    const m = machine(
      [cvo("REDUCE_SUM", 10, 12, 4), cvo("SCALE", 20, 22, 3), cvo("EXP", 10, 30, 4, { accm: 1 })],
      { mode: "exact", l2: { 10: x, 12: [9, 9, 9], 20: [2], 21: [1, 2, 3], 30: [1, 1, 1, 1] } },
    );
    expect(messages(m)).toEqual([]);
    expect(l2(m, 12, 3)).toEqual([7.5, 9, 9]); // the rest of the word is untouched
    expect(l2(m, 22, 3)).toEqual([2, 4, 6]);
    expect(l2(m, 30, 4)).toEqual(x.map((v) => f(1 + f(Math.exp(v)))));
  });

  it("extension functions of kv260-v002-ext: SILU, MUL/ADD/MAX (binary_dst), SQUARE, TANH, ROPE_ROTATE", () => {
    const ext = (steps: Parameters<typeof machine>[0], l2init: Record<number, number[]>) =>
      machine(steps, { target: KV260_EXT, mode: "exact", l2: l2init });
    const m = ext(
      [
        cvo("SILU", 10, 11, 4),
        cvo("MUL", 10, 12, 4),
        cvo("ADD", 10, 13, 4),
        cvo("MAX", 10, 14, 4),
        cvo("SQUARE", 10, 15, 4),
        cvo("TANH", 10, 16, 4),
        // x = (1, 2, 3, 4) at 20, cos (0, 1) at 21, sin (1, 0) at 22: pair (x0, x2) turns by 90°,
        // pair (x1, x3) by 0° → (1·0 − 3·1, 2·1 − 4·0, 3·0 + 1·1, 4·1 + 2·0) = (−3, 2, 1, 4).
        cvo("ROPE_ROTATE", 20, 23, 4),
      ],
      {
        10: x,
        12: [2, 2, 2, 2],
        13: [1, 1, 1, 1],
        14: [1, 1, 1, 1],
        20: [1, 2, 3, 4],
        21: [0, 1],
        22: [1, 0],
      },
    );
    expect(messages(m)).toEqual([]);
    expect(l2(m, 11, 4)).toEqual(x.map((v) => f(v * sig(v))));
    expect(l2(m, 12, 4)).toEqual([1, 2, 4, 8]);
    expect(l2(m, 13, 4)).toEqual([1.5, 2, 3, 5]);
    expect(l2(m, 14, 4)).toEqual([1, 1, 2, 4]);
    expect(l2(m, 15, 4)).toEqual([0.25, 1, 4, 16]);
    expect(l2(m, 16, 4)).toEqual(x.map((v) => f(Math.tanh(v))));
    expect(l2(m, 23, 4)).toEqual([-3, 2, 1, 4]);
  });

  it("an extension function on the base target is a bad instruction", () => {
    const m = machine([cvo("SILU", 10, 11, 4, {}, { label: "act" })], { l2: { 10: x } });
    expect(messages(m)).toEqual(['decode step 0 (act): CVO field cvo_func = "SILU" is not a known value']);
    expect(m.log.faults[0]!.kind).toBe("bad-instr");
  });

  it("a CVO longer than the target's SFU limit faults (kv260-v002-rtl: 2,048)", () => {
    const rtl = loadTarget("kv260-v002-rtl");
    const m = machine([cvo("EXP", 0, 1024, 4096, {}, { label: "long" })], { target: rtl });
    expect(messages(m)).toEqual([
      "decode step 0 (long): CVO EXP length = 4096 exceeds the SFU's 2048 elements",
    ]);
  });
});
