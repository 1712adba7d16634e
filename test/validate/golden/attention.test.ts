import { describe, expect, it } from "vitest";
import type { AttentionOp } from "../../../src/resolver/graph/index.js";
import { attendHead, isVisible, kvHeadOf, runAttention } from "../../../src/validate/golden/index.js";

function op(a: Partial<AttentionOp>): AttentionOp {
  return {
    id: "op0",
    kind: "attention",
    layer: 0,
    keys: [],
    outputs: ["out"],
    q: "q",
    kv: { source: "own", k: "k", v: "v" },
    heads: 1,
    kvHeads: 1,
    headDim: 2,
    vHeadDim: 2,
    scale: 1,
    mask: { kind: "causal" },
    ...a,
  };
}

describe("GQA head mapping", () => {
  it("maps each KV head to heads/kvHeads consecutive query heads (HF repeat_kv)", () => {
    expect([0, 1, 2, 3].map((h) => kvHeadOf(h, 4, 2))).toEqual([0, 0, 1, 1]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((h) => kvHeadOf(h, 8, 2))).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect([0, 1, 2].map((h) => kvHeadOf(h, 3, 1))).toEqual([0, 0, 0]); // MQA
    expect([0, 1, 2].map((h) => kvHeadOf(h, 3, 3))).toEqual([0, 1, 2]); // MHA
  });

  it("query heads read the values of their KV head", () => {
    // One cached position, so every softmax is [1]: output head h = value of kvHeadOf(h).
    // 4 query heads, 2 KV heads of width 2: v = [kv0: (1, 1), kv1: (2, 2)].
    const a = op({ heads: 4, kvHeads: 2 });
    const q = { rows: 1, cols: 8, data: new Float64Array(8) };
    const out = runAttention(a, q, { k: [new Float64Array(4)], v: [Float64Array.from([1, 1, 2, 2])] }, 0);
    expect(Array.from(out.data)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });
});

describe("masks", () => {
  it("causal: j ≤ i", () => {
    expect([0, 1, 2, 3, 4, 5, 6].filter((j) => isVisible({ kind: "causal" }, 5, j))).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
  });

  it("sliding window w: visible when i − j < w (HF sliding_window_overlay: kv_idx > q_idx − w)", () => {
    // huggingface/transformers src/transformers/masking_utils.py: causal_mask_function is
    // kv_idx <= q_idx, sliding_window_overlay is kv_idx > q_idx - sliding_window.
    // At i = 5 with w = 3: j = 3, 4, 5 (5 − 3 = 2 < 3); j = 2 has 5 − 2 = 3, not < 3.
    expect([0, 1, 2, 3, 4, 5, 6].filter((j) => isVisible({ kind: "sliding", window: 3 }, 5, j))).toEqual([
      3, 4, 5,
    ]);
    // w = 1 sees only itself; at i = 1 with w = 4 everything earlier is visible.
    expect([0, 1, 2].filter((j) => isVisible({ kind: "sliding", window: 1 }, 2, j))).toEqual([2]);
    expect([0, 1, 2].filter((j) => isVisible({ kind: "sliding", window: 4 }, 1, j))).toEqual([0, 1]);
  });

  it("attention averages exactly the visible values when scores are equal", () => {
    // q = 0 → all logits 0 → uniform weights over the visible positions. v_j = one-hot-ish (j, 10j).
    const k = Array.from({ length: 6 }, () => new Float64Array(2));
    const v = Array.from({ length: 6 }, (_, j) => Float64Array.from([j, 10 * j]));
    const q = { rows: 1, cols: 2, data: new Float64Array(2) };
    // Position 5, window 2: positions 4 and 5 → mean (4.5, 45).
    const sliding = runAttention(op({ mask: { kind: "sliding", window: 2 } }), q, { k, v }, 5);
    expect(Array.from(sliding.data)).toEqual([4.5, 45]);
    // Causal at position 3 (a prefill row with later keys already cached): positions 0..3 → (1.5, 15).
    const causal = runAttention(op({}), q, { k, v }, 3);
    expect(Array.from(causal.data)).toEqual([1.5, 15]);
  });
});

describe("scores", () => {
  const key = (j: number) =>
    [
      [1, 0],
      [0, 1],
    ][j]!;
  const value = (j: number) =>
    [
      [1, 0],
      [0, 1],
    ][j]!;

  it("scale, softcap and sinks enter the softmax as documented", () => {
    // q = (ln 3, 0): logits (ln 3, 0) → weights (3/4, 1/4).
    const plain = attendHead([Math.log(3), 0], 1, 2, key, value, 2, { scale: 1, mask: { kind: "causal" } });
    expect(plain[0]).toBeCloseTo(0.75, 15);
    expect(plain[1]).toBeCloseTo(0.25, 15);
    // scale 2: logits (2 ln 3, 0) → (9/10, 1/10).
    const scaled = attendHead([Math.log(3), 0], 1, 2, key, value, 2, { scale: 2, mask: { kind: "causal" } });
    expect(scaled[0]).toBeCloseTo(0.9, 15);
    // sink ln 2 with logits (ln 3, 0): exp → 3, 1 and 2 → (3/6, 1/6).
    const sink = attendHead([Math.log(3), 0], 1, 2, key, value, 2, {
      scale: 1,
      mask: { kind: "causal" },
      sink: Math.log(2),
    });
    expect(sink[0]).toBeCloseTo(0.5, 15);
    expect(sink[1]).toBeCloseTo(1 / 6, 15);
    // softcap 1 caps logit 100 to tanh(100) ≈ 1 → weights (e/(e + 1), 1/(e + 1)).
    const capped = attendHead([100, 0], 1, 2, key, value, 2, {
      scale: 1,
      mask: { kind: "causal" },
      softcap: 1,
    });
    expect(capped[0]).toBeCloseTo(Math.E / (Math.E + 1), 12);
  });
});
