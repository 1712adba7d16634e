import { describe, expect, it } from "vitest";
import { countParams, GraphBuilder, layerSummary } from "../../../src/resolver/graph/index.js";
import { gemmaNGraph, gptOssGraph, moeGraph } from "./fixtures.js";

function tiny(tied: boolean) {
  const g = new GraphBuilder({ modelType: "t", plugin: "t", numLayers: 1, hiddenSize: 4, vocabSize: 8 });
  const emb = g.weight({ name: "emb", shape: [8, 4], dtype: "BF16", role: "embedding" });
  const x = g.embedding(g.tokens, emb);
  const n = g.inLayer(0, () =>
    g.rmsNorm(x, { weight: g.weight({ name: "norm", shape: [4], dtype: "BF16", role: "norm" }), eps: 1e-6 }),
  );
  const head = tied
    ? g.tie(emb, "lm_head")
    : g.weight({ name: "head", shape: [8, 4], dtype: "BF16", role: "lm_head" });
  return g.finish(g.linear(n, head));
}

describe("parameter counting", () => {
  it("counts a tied head once, under the role of its first declaration", () => {
    // embedding 8·4 = 32, norm 4: 36 with a tied head, 36 + 32 = 68 with its own.
    expect(countParams(tiny(true))).toEqual({ total: 36, tensors: 2, byRole: { embedding: 32, norm: 4 } });
    expect(countParams(tiny(false))).toEqual({
      total: 68,
      tensors: 3,
      byRole: { embedding: 32, norm: 4, lm_head: 32 },
    });
  });

  it("counts stacked expert tensors once and per-expert tensors each", () => {
    // gpt-oss fixture, per layer: gate_up [4, 16, 16] = 1024, its bias [4, 16] = 64, down [4, 8, 16] = 512,
    // its bias [4, 16] = 64, router 4·16 + 4, even though gate and up both read gate_up.
    const p = countParams(gptOssGraph());
    expect(p.byRole.expert_gate_up).toBe(2 * 1024);
    expect(p.byRole.expert_down).toBe(2 * 512);
    expect(p.byRole.router).toBe(2 * 64);
    // DeepSeek-style fixture: 8 experts × (gate 12·16 + up 12·16) in 2 layers, each tensor once.
    const m = countParams(moeGraph());
    expect(m.byRole.expert_gate).toBe(2 * 8 * 12 * 16);
    expect(m.byRole.expert_up).toBe(2 * 8 * 12 * 16);
    expect(m.byRole.expert_down).toBe(2 * 8 * 16 * 12);
    expect(Object.values(m.byRole).reduce((a, b) => a + b, 0)).toBe(m.total);
  });
});

describe("layer summary", () => {
  it("describes attention, KV sharing and MoE per layer", () => {
    const rows = layerSummary(gemmaNGraph());
    expect(rows.map((r) => r.layer)).toEqual([0, 1, 2, 3]);
    expect(rows.map((r) => `${r.attention?.mask} ${r.attention?.kv}`)).toEqual([
      "sliding(3) own",
      "causal own",
      "sliding(3) shared(L0)",
      "causal shared(L1)",
    ]);
    // Shared layers declare no k/v projections: fewer parameters than their source layers.
    expect(rows[2]!.params).toBeLessThan(rows[0]!.params);
    expect(rows[0]!.kinds.gaussian_topk).toBe(1);
    expect(rows[2]!.kinds.gaussian_topk).toBeUndefined();
    const moe = layerSummary(moeGraph());
    expect(moe.map((r) => r.moe)).toEqual([
      { experts: 8, topK: 2 },
      { experts: 8, topK: 2 },
    ]);
    const total = countParams(moeGraph()).total;
    const global = 32 * 16 * 2 + 16; // embedding, lm_head, final norm
    expect(moe.reduce((a, r) => a + r.params, 0)).toBe(total - global);
  });
});
