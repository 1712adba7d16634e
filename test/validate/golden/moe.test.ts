import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../../src/resolver/graph/index.js";
import { GoldenModel, MemoryWeights, route, topIndices } from "../../../src/validate/golden/index.js";

const logit = (p: number) => Math.log(p / (1 - p));

describe("expert selection", () => {
  it("breaks ties toward the lower expert index", () => {
    expect(topIndices([1, 3, 3, 2], 2)).toEqual([1, 2]);
    expect(topIndices([5, 5, 5], 3)).toEqual([0, 1, 2]);
  });

  it("softmax top-k with normalisation (Mixtral, Qwen3-MoE norm_topk_prob, gpt-oss)", () => {
    // logits ln [1, 2, 3, 4] → softmax [0.1, 0.2, 0.3, 0.4]; top-2 = experts 3, 2 with [0.4, 0.3];
    // normalised: [4/7, 3/7].
    const logits = [1, 2, 3, 4].map(Math.log);
    const base = { numExperts: 4, topK: 2, scoring: "softmax" as const, routedScale: 1 };
    const r = route(logits, { ...base, normalize: true });
    expect(r.indices).toEqual([3, 2]);
    expect(r.weights[0]).toBeCloseTo(4 / 7, 15);
    expect(r.weights[1]).toBeCloseTo(3 / 7, 15);
    const raw = route(logits, { ...base, normalize: false, routedScale: 2 });
    expect(raw.weights[0]).toBeCloseTo(0.8, 15);
    expect(raw.weights[1]).toBeCloseTo(0.6, 15);
    // Gemma 4: per-expert scales after normalising: [4/7·2, 3/7·0.5].
    const g4 = route(logits, { ...base, normalize: true, perExpertScale: [1, 1, 0.5, 2] });
    expect(g4.weights[0]).toBeCloseTo(8 / 7, 15);
    expect(g4.weights[1]).toBeCloseTo(1.5 / 7, 15);
  });

  it("DeepSeek-V3: sigmoid scores, bias for selection only, top-2-sum groups, normalise, scale", () => {
    // scores s (from logits ln(s/(1−s))) and choice = s + bias, bias 0.45 on expert 4:
    //   group 0: e0 0.95, e1 0.01 → 0.96      group 1: e2 0.6, e3 0.5 → 1.1
    //   group 2: e4 0.3+0.45 = 0.75, e5 0.4 → 1.15   group 3: e6 0.2, e7 0.1 → 0.3
    // keep the 2 best groups {2, 1}: e0 (0.95, the best expert) is excluded with its group.
    // top-2 by choice among e2 0.6, e3 0.5, e4 0.75, e5 0.4: e4, e2 (e4 wins only thanks to its bias).
    // weights use the unbiased scores [0.3, 0.6] → /0.9 → [1/3, 2/3] → ·2.5 → [0.8333, 1.6667].
    const s = [0.95, 0.01, 0.6, 0.5, 0.3, 0.4, 0.2, 0.1];
    const r = route(s.map(logit), {
      numExperts: 8,
      topK: 2,
      scoring: "sigmoid",
      normalize: true,
      routedScale: 2.5,
      groups: { count: 4, topk: 2, score: "top2_sum" },
      correctionBias: [0, 0, 0, 0, 0.45, 0, 0, 0],
    });
    expect(r.indices).toEqual([4, 2]);
    expect(r.weights[0]).toBeCloseTo(2.5 / 3, 14);
    expect(r.weights[1]).toBeCloseTo(5 / 3, 14);
  });

  it("DeepSeek-V2 group_limited_greedy: groups scored by their best expert", () => {
    // softmax [0.1, 0.4, 0.3, 0.2], groups {0,1} max 0.4 and {2,3} max 0.3; keep 1 group →
    // experts 1, 0 with [0.4, 0.1] (no normalisation). Without groups it would be 1, 2.
    const logits = [1, 4, 3, 2].map(Math.log);
    const base = { numExperts: 4, topK: 2, scoring: "softmax" as const, normalize: false, routedScale: 1 };
    const r = route(logits, { ...base, groups: { count: 2, topk: 1, score: "max" } });
    expect(r.indices).toEqual([1, 0]);
    expect(r.weights[0]).toBeCloseTo(0.4, 15);
    expect(r.weights[1]).toBeCloseTo(0.1, 15);
    expect(route(logits, base).indices).toEqual([1, 2]);
  });
});

describe("experts stored as gpt-oss stores them", () => {
  it("reads stacked [E, in, out] tensors with interleaved gate/up columns and biases", async () => {
    // One token with embedding x = (1, 2); the router picks expert 0 with weight 1.
    // gate_up_proj[0] stored [in, out] = [[a, b], [c, d]] = [[0.5, 1], [0.25, 0.5]]:
    //   gate = column 0 (even) → 0.5·1 + 0.25·2 = 1;  up = column 1 (odd) → 1·1 + 0.5·2 = 2.
    // biases gate 0.5, up −0.5 → gate 1.5, up 1.5 → h = (1.5 + 1)·1.5·σ(1.702·1.5) = 3.75·σ(2.553).
    // down_proj[0] stored [in = 1, out = 2] = [[1, −2]], bias (0.1, 0) → (h + 0.1, −2h).
    const g = new GraphBuilder({ modelType: "t", plugin: "t", numLayers: 1, hiddenSize: 2, vocabSize: 2 });
    const emb = g.weight({ name: "emb", shape: [2, 2], dtype: "F32", role: "embedding" });
    const x = g.embedding(g.tokens, emb);
    const logits = g.linear(x, g.weight({ name: "router", shape: [2, 2], dtype: "F32", role: "router" }));
    const [idx, wts] = g.emit("moe_route", {
      logits,
      numExperts: 2,
      topK: 1,
      scoring: "softmax",
      normalize: true,
      routedScale: 1,
    });
    const gu = g.weight({
      name: "gate_up",
      shape: [2, 2, 2],
      dtype: "F32",
      role: "expert_gate_up",
      transposed: true,
    });
    const gub = g.weight({ name: "gate_up_bias", shape: [2, 2], dtype: "F32", role: "bias" });
    const dn = g.weight({
      name: "down",
      shape: [2, 1, 2],
      dtype: "F32",
      role: "expert_down",
      transposed: true,
    });
    const dnb = g.weight({ name: "down_bias", shape: [2, 2], dtype: "F32", role: "bias" });
    const even = { start: 0, count: 1, step: 2 };
    const odd = { start: 1, count: 1, step: 2 };
    const [y] = g.emit("moe_experts", {
      input: x,
      indices: idx!,
      weights: wts!,
      numExperts: 2,
      intermediate: 1,
      gate: { kind: "stacked", weight: gu, rows: even },
      up: { kind: "stacked", weight: gu, rows: odd },
      down: { kind: "stacked", weight: dn },
      gateBias: { kind: "stacked", weight: gub, slice: even },
      upBias: { kind: "stacked", weight: gub, slice: odd },
      downBias: { kind: "stacked", weight: dnb },
      act: { fn: "clamped_swiglu", alpha: 1.702, limit: 7 },
    });
    const head = g.linear(y!, g.weight({ name: "head", shape: [2, 2], dtype: "F32", role: "lm_head" }));
    const graph = g.finish(head);
    const t = (shape: number[], data: number[]) => ({ shape, data: Float64Array.from(data) });
    const weights = new MemoryWeights({
      emb: t([2, 2], [1, 2, 0, 0]),
      router: t([2, 2], [1, 0, 0, 0]), // logits (1, 0): expert 0
      gate_up: t([2, 2, 2], [0.5, 1, 0.25, 0.5, 9, 9, 9, 9]),
      gate_up_bias: t([2, 2], [0.5, -0.5, 9, 9]),
      down: t([2, 1, 2], [1, -2, 9, 9]),
      down_bias: t([2, 2], [0.1, 0, 9, 9]),
      head: t([2, 2], [1, 0, 0, 1]),
    });
    const model = await GoldenModel.load(graph, weights);
    const out = model.session().forward([0]);
    const h = 3.75 / (1 + Math.exp(-1.702 * 1.5));
    expect(out.data[0]).toBeCloseTo(h + 0.1, 14);
    expect(out.data[1]).toBeCloseTo(-2 * h, 14);
    // The materialised views: logical gate row of expert 0 is stored column 0.
    expect(Array.from(model.weights.matrix({ weight: "gate_up", expert: 0, rows: even }).data)).toEqual([
      0.5, 0.25,
    ]);
    expect(Array.from(model.weights.matrix({ weight: "down", expert: 1 }).data)).toEqual([9, 9]);
  });
});
