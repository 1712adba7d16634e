/**
 * The qwen2 plugin: Qwen2.5 7B has q/k/v biases although its config has no attention_bias key, and
 * no o bias (transformers Qwen2Attention: q/k/v nn.Linear(bias=True), o_proj bias=False).
 */
import { describe, expect, it } from "vitest";
import type { AttentionOp, LinearOp } from "../../../src/resolver/index.js";
import { resolve } from "../../../src/resolver/index.js";
import { exampleRaw, expectCacheConsistent, layerWeights, parseFile, shrink, sourcesOf } from "./tiny.js";

describe("qwen2: Qwen2.5 7B", () => {
  for (const { where, path } of sourcesOf("Qwen__Qwen2.5-7B")) {
    it(`resolves from ${where} with implicit q/k/v biases and no o bias`, () => {
      expect(parseFile(path).raw).not.toHaveProperty("attention_bias");
      const r = resolve(parseFile(path));
      expect(r.plugin).toBe("qwen2");
      const l0 = layerWeights(r.graph, 0);
      expect(l0.get("model.layers.0.self_attn.q_proj.bias")).toMatchObject({ shape: [3584], role: "bias" });
      expect(l0.get("model.layers.0.self_attn.k_proj.bias")).toMatchObject({ shape: [512], role: "bias" });
      expect(l0.get("model.layers.0.self_attn.v_proj.bias")).toMatchObject({ shape: [512], role: "bias" });
      expect(l0.has("model.layers.0.self_attn.o_proj.bias")).toBe(false);
      expect(l0.size).toBe(12);
      const linears = r.graph.ops.filter((o): o is LinearOp => o.kind === "linear" && o.layer === 0);
      expect(linears.filter((o) => o.bias).map((o) => o.bias?.weight)).toEqual([
        "model.layers.0.self_attn.q_proj.bias",
        "model.layers.0.self_attn.k_proj.bias",
        "model.layers.0.self_attn.v_proj.bias",
      ]);
      const att = r.graph.ops.find((o): o is AttentionOp => o.kind === "attention")!;
      // use_sliding_window is false: every layer is causal although sliding_window is written.
      expect(att).toMatchObject({ heads: 28, kvHeads: 4, headDim: 128, mask: { kind: "causal" } });
    });
  }
  it("slides only from max_window_layers on when use_sliding_window is set", () => {
    const raw = exampleRaw("Qwen__Qwen2.5-7B");
    const g = resolve(
      shrink(raw, { use_sliding_window: true, sliding_window: 5, max_window_layers: 1 }),
    ).graph;
    const masks = g.ops.filter((o): o is AttentionOp => o.kind === "attention").map((a) => a.mask);
    expect(masks).toEqual([{ kind: "causal" }, { kind: "sliding", window: 5 }]);
  });
});

describe("qwen2: tiny golden sanity", () => {
  it("decoding with the KV cache equals recomputing the prefix (biases on q/k/v)", async () => {
    const raw = exampleRaw("Qwen__Qwen2.5-7B");
    const g = resolve(shrink(raw)).graph;
    expect(g.weights.filter((w) => w.role === "bias")).toHaveLength(6);
    await expectCacheConsistent(g, [10, 20, 30, 40, 50], 4);
  });
});
