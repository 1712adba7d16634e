/**
 * The phi3 plugin: fused `self_attn.qkv_proj` [q | k | v] and `mlp.gate_up_proj` [gate | up] split
 * with row views (names as in published Phi-3 tensor lists, find_string
 * "model.layers.0.mlp.gate_up_proj.weight"), the sliding window of the config, LongRoPE ("su") with
 * short/long factors, partial rotary. Phi-4 uses the same plugin (model_type phi3).
 */
import { describe, expect, it } from "vitest";
import type { AttentionOp, LinearOp, RopeOp } from "../../../src/resolver/index.js";
import { resolve, ropeAttentionFactor } from "../../../src/resolver/index.js";
import {
  configPath,
  exampleRaw,
  expectCacheConsistent,
  graphOf,
  HAVE_SHARED,
  layerWeights,
  parseFile,
  SHARED_CONFIGS,
  shrink,
  sourcesOf,
  warnSkipped,
} from "./tiny.js";

warnSkipped("phi-4 from ../shared");

const linears = (g: ReturnType<typeof graphOf>, l: number) =>
  g.ops.filter((o): o is LinearOp => o.kind === "linear" && o.layer === l);

describe("phi3: Phi-3-mini-4k", () => {
  for (const { where, path } of sourcesOf("microsoft__Phi-3-mini-4k-instruct")) {
    it(`resolves from ${where}: qkv_proj and gate_up_proj as row views`, () => {
      const r = resolve(parseFile(path));
      const g = r.graph;
      expect(r.plugin).toBe("phi3");
      const l0 = layerWeights(g, 0);
      expect([...l0.keys()].sort()).toEqual(
        [
          "model.layers.0.input_layernorm.weight",
          "model.layers.0.self_attn.qkv_proj.weight",
          "model.layers.0.self_attn.o_proj.weight",
          "model.layers.0.post_attention_layernorm.weight",
          "model.layers.0.mlp.gate_up_proj.weight",
          "model.layers.0.mlp.down_proj.weight",
        ].sort(),
      );
      expect(l0.get("model.layers.0.self_attn.qkv_proj.weight")).toMatchObject({
        shape: [9216, 3072],
        role: "attn_qkv",
      });
      expect(l0.get("model.layers.0.mlp.gate_up_proj.weight")).toMatchObject({
        shape: [16384, 3072],
        role: "mlp_gate_up",
      });
      const [q, k, v, o, gate, up, down] = linears(g, 0);
      expect([q, k, v].map((x) => x!.weight)).toEqual([
        { weight: "model.layers.0.self_attn.qkv_proj.weight", rows: { start: 0, count: 3072 } },
        { weight: "model.layers.0.self_attn.qkv_proj.weight", rows: { start: 3072, count: 3072 } },
        { weight: "model.layers.0.self_attn.qkv_proj.weight", rows: { start: 6144, count: 3072 } },
      ]);
      expect(o!.weight).toEqual({ weight: "model.layers.0.self_attn.o_proj.weight" });
      // Phi3MLP: gate, up = gate_up.chunk(2): gate is the first half.
      expect(gate!.weight.rows).toEqual({ start: 0, count: 8192 });
      expect(up!.weight.rows).toEqual({ start: 8192, count: 8192 });
      expect(down!.weight).toEqual({ weight: "model.layers.0.mlp.down_proj.weight" });
      const att = g.ops.find((x): x is AttentionOp => x.kind === "attention")!;
      expect(att).toMatchObject({
        heads: 32,
        kvHeads: 32,
        headDim: 96,
        mask: { kind: "sliding", window: 2047 },
      });
      expect((g.ops.find((x) => x.kind === "rope") as RopeOp).rope).toEqual({
        type: "default",
        theta: 10000,
      });
    });
  }
  it("expresses LongRoPE (su) with short/long factors and its attention factor (128k-style config)", () => {
    const raw = exampleRaw("microsoft__Phi-3-mini-4k-instruct");
    const short = Array.from({ length: 48 }, (_, i) => 1 + i / 100);
    const long = Array.from({ length: 48 }, (_, i) => 2 + i / 10);
    const parsed = shrink(raw, {
      hidden_size: 384,
      num_attention_heads: 4,
      num_key_value_heads: 4,
      max_position_embeddings: 131072,
      original_max_position_embeddings: 4096,
      rope_scaling: { type: "su", short_factor: short, long_factor: long },
    });
    const rope = resolve(parsed).graph.ops.find((x): x is RopeOp => x.kind === "rope")!;
    expect(rope.rotaryDim).toBe(96);
    expect(rope.rope).toEqual({
      type: "longrope",
      theta: 10000,
      shortFactor: short,
      longFactor: long,
      originalMaxPositionEmbeddings: 4096,
      factor: 32,
    });
    // HF: sqrt(1 + ln(32) / ln(4096)) = sqrt(1 + 5/12).
    expect(ropeAttentionFactor(rope.rope)).toBeCloseTo(Math.sqrt(17 / 12), 14);
  });
  it("rotates only ⌊head_dim · partial_rotary_factor⌋ features when the config says so", () => {
    const raw = exampleRaw("microsoft__Phi-3-mini-4k-instruct");
    const g = resolve(shrink(raw, { partial_rotary_factor: 0.5 })).graph;
    const ropes = g.ops.filter((x): x is RopeOp => x.kind === "rope");
    expect(ropes.map((r) => [r.headDim, r.rotaryDim, r.offset])).toEqual([
      [16, 8, 0],
      [16, 8, 0],
      [16, 8, 0],
      [16, 8, 0],
    ]);
  });
});

describe.skipIf(!HAVE_SHARED)("phi3: phi-4", () => {
  it("uses the phi3 plugin with GQA 40/10 and fused tensors of 5120", () => {
    const g = graphOf(configPath(SHARED_CONFIGS, "microsoft__phi-4")!);
    expect(g.meta.plugin).toBe("phi3");
    expect(layerWeights(g, 0).get("model.layers.0.self_attn.qkv_proj.weight")?.shape).toEqual([7680, 5120]);
    expect(g.ops.find((o) => o.kind === "attention")).toMatchObject({ heads: 40, kvHeads: 10, headDim: 128 });
  });
});

describe("phi3: tiny golden sanity", () => {
  it("decoding with the KV cache equals recomputing the prefix (fused views, window 4, partial rotary)", async () => {
    const raw = exampleRaw("microsoft__Phi-3-mini-4k-instruct");
    const g = resolve(shrink(raw, { sliding_window: 4, partial_rotary_factor: 0.5 })).graph;
    await expectCacheConsistent(g, [5, 4, 3, 2, 1, 0], 4);
  });
});
