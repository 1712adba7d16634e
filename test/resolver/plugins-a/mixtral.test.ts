/**
 * The mixtral plugin: every layer's MLP is the sparse MoE block — router
 * `block_sparse_moe.gate.weight` [8, 4096], softmax, top-2, renormalised, experts
 * `block_sparse_moe.experts.N.w1|w3|w2.weight` (w1 gate, w3 up, w2 down; HF MixtralBlockSparseTop2MLP:
 * w2(act(w1(x)) * w3(x))). Names as in published Mixtral tensor lists (find_string
 * "block_sparse_moe.experts.0.w1").
 */
import { describe, expect, it } from "vitest";
import type { MoeExpertsOp, MoeRouteOp } from "../../../src/resolver/index.js";
import { layerSummary, resolve } from "../../../src/resolver/index.js";
import { exampleRaw, expectCacheConsistent, layerWeights, parseFile, shrink, sourcesOf } from "./tiny.js";

describe("mixtral: Mixtral 8x7B", () => {
  for (const { where, path } of sourcesOf("mistralai__Mixtral-8x7B-v0.1")) {
    it(`resolves from ${where}: MoE on all 32 layers, softmax top-2 normalised, w1/w3/w2 experts`, () => {
      const r = resolve(parseFile(path));
      const g = r.graph;
      expect(r.plugin).toBe("mixtral");
      const routes = g.ops.filter((o): o is MoeRouteOp => o.kind === "moe_route");
      expect(routes).toHaveLength(32);
      expect(routes[0]).toMatchObject({
        numExperts: 8,
        topK: 2,
        scoring: "softmax",
        normalize: true,
        routedScale: 1,
      });
      const ex = g.ops.find((o): o is MoeExpertsOp => o.kind === "moe_experts")!;
      expect(ex).toMatchObject({ numExperts: 8, intermediate: 14336, act: { fn: "silu" } });
      expect(ex.gate).toEqual({
        kind: "per_expert",
        weights: Array.from(
          { length: 8 },
          (_, e) => `model.layers.0.block_sparse_moe.experts.${e}.w1.weight`,
        ),
      });
      expect(ex.up.kind === "per_expert" && ex.up.weights[3]).toBe(
        "model.layers.0.block_sparse_moe.experts.3.w3.weight",
      );
      expect(ex.down.kind === "per_expert" && ex.down.weights[7]).toBe(
        "model.layers.0.block_sparse_moe.experts.7.w2.weight",
      );
      const l0 = layerWeights(g, 0);
      expect(l0.get("model.layers.0.block_sparse_moe.gate.weight")).toMatchObject({
        shape: [8, 4096],
        role: "router",
      });
      expect(l0.get("model.layers.0.block_sparse_moe.experts.0.w1.weight")).toMatchObject({
        shape: [14336, 4096],
        role: "expert_gate",
      });
      expect(l0.get("model.layers.0.block_sparse_moe.experts.0.w2.weight")).toMatchObject({
        shape: [4096, 14336],
        role: "expert_down",
      });
      // No dense MLP tensors, and 9 + 24 tensors per layer besides attention/norms.
      expect([...l0.keys()].some((n) => n.includes(".mlp."))).toBe(false);
      expect(l0.size).toBe(4 + 2 + 1 + 24);
      expect(layerSummary(g)[5]?.moe).toEqual({ experts: 8, topK: 2 });
      // Mixtral has no sliding window (sliding_window null).
      expect(g.ops.find((o) => o.kind === "attention")).toMatchObject({ mask: { kind: "causal" } });
    });
  }
});

describe("mixtral: tiny golden sanity", () => {
  it("decoding with the KV cache equals recomputing the prefix (4 experts, top-2)", async () => {
    const raw = exampleRaw("mistralai__Mixtral-8x7B-v0.1");
    const g = resolve(shrink(raw, { num_local_experts: 4, num_experts_per_tok: 2 })).graph;
    expect(g.ops.find((o) => o.kind === "moe_experts")).toMatchObject({ numExperts: 4, intermediate: 96 });
    await expectCacheConsistent(g, [3, 1, 4, 1, 5, 9], 4);
  });
});
