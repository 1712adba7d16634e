/**
 * The qwen3_moe plugin: Qwen3 attention (q/k norms) and, on the layers the config makes sparse,
 * router `mlp.gate.weight` → softmax top-k, renormalised iff norm_topk_prob → experts
 * `mlp.experts.N.{gate,up,down}_proj.weight` (names as in published Qwen3-MoE tensor lists, found
 * with find_string "mlp.experts.0.gate_proj"). Dense layers (mlp_only_layers, decoder_sparse_step)
 * keep `mlp.gate_proj/up_proj/down_proj` of intermediate_size.
 */
import { describe, expect, it } from "vitest";
import type { MoeExpertsOp, MoeRouteOp } from "../../../src/resolver/index.js";
import { resolve } from "../../../src/resolver/index.js";
import { exampleRaw, expectCacheConsistent, layerWeights, parseFile, shrink, sourcesOf } from "./tiny.js";

const TINY_MOE = { num_experts: 4, num_experts_per_tok: 2, moe_intermediate_size: 32 };

describe("qwen3_moe: Qwen3 30B-A3B", () => {
  for (const { where, path } of sourcesOf("Qwen__Qwen3-30B-A3B")) {
    it(`resolves from ${where}: 48 MoE layers, 128 experts, top-8, norm_topk_prob`, () => {
      const r = resolve(parseFile(path));
      const g = r.graph;
      expect(r.plugin).toBe("qwen3_moe");
      const routes = g.ops.filter((o): o is MoeRouteOp => o.kind === "moe_route");
      expect(routes).toHaveLength(48);
      expect(routes[0]).toMatchObject({ numExperts: 128, topK: 8, scoring: "softmax", normalize: true });
      const ex = g.ops.find((o): o is MoeExpertsOp => o.kind === "moe_experts")!;
      expect(ex.intermediate).toBe(768);
      expect(ex.gate.kind === "per_expert" && ex.gate.weights[127]).toBe(
        "model.layers.0.mlp.experts.127.gate_proj.weight",
      );
      const l0 = layerWeights(g, 0);
      expect(l0.get("model.layers.0.mlp.gate.weight")).toMatchObject({ shape: [128, 2048], role: "router" });
      expect(l0.get("model.layers.0.mlp.experts.5.up_proj.weight")).toMatchObject({
        shape: [768, 2048],
        role: "expert_up",
      });
      expect(l0.get("model.layers.0.mlp.experts.5.down_proj.weight")).toMatchObject({ shape: [2048, 768] });
      expect(l0.get("model.layers.0.self_attn.q_norm.weight")?.shape).toEqual([128]);
      expect(l0.has("model.layers.0.mlp.gate_proj.weight")).toBe(false);
    });
  }
});

describe("qwen3_moe: layer placement and routing keys", () => {
  const raw = exampleRaw("Qwen__Qwen3-30B-A3B");
  const kinds = (g: ReturnType<typeof resolve>["graph"], l: number) =>
    g.ops.filter((o) => o.layer === l && (o.kind === "moe_experts" || o.kind === "glu")).map((o) => o.kind);
  it("mlp_only_layers makes a layer dense (gate_proj of intermediate_size)", () => {
    const g = resolve(shrink(raw, { ...TINY_MOE, num_hidden_layers: 3, mlp_only_layers: [1] })).graph;
    expect([kinds(g, 0), kinds(g, 1), kinds(g, 2)]).toEqual([["moe_experts"], ["glu"], ["moe_experts"]]);
    expect(layerWeights(g, 1).get("model.layers.1.mlp.gate_proj.weight")).toMatchObject({
      shape: [96, 64],
      role: "mlp_gate",
    });
  });
  it("decoder_sparse_step 2 makes only odd layers sparse ((i+1) % 2 == 0)", () => {
    const g = resolve(shrink(raw, { ...TINY_MOE, num_hidden_layers: 4, decoder_sparse_step: 2 })).graph;
    expect([0, 1, 2, 3].map((l) => kinds(g, l))).toEqual([
      ["glu"],
      ["moe_experts"],
      ["glu"],
      ["moe_experts"],
    ]);
  });
  it("norm_topk_prob false leaves the top-k softmax weights unnormalised", () => {
    const g = resolve(shrink(raw, { ...TINY_MOE, norm_topk_prob: false })).graph;
    expect(g.ops.find((o) => o.kind === "moe_route")).toMatchObject({ normalize: false, topK: 2 });
  });
});

describe("qwen3_moe: tiny golden sanity", () => {
  it("decoding with the KV cache equals recomputing the prefix (one dense, one sparse layer)", async () => {
    const g = resolve(
      shrink(exampleRaw("Qwen__Qwen3-30B-A3B"), {
        ...TINY_MOE,
        mlp_only_layers: [0],
      }),
    ).graph;
    expect(g.ops.filter((o) => o.kind === "moe_experts")).toHaveLength(1);
    await expectCacheConsistent(g, [9, 8, 7, 6, 5], 4);
  });
});
