/**
 * The qwen3 plugin: per-head RMSNorm on q and k (`self_attn.q_norm.weight`, `k_norm.weight` of
 * head_dim) after the projection and before RoPE, explicit head_dim 128 (≠ hidden/heads for
 * Qwen3-0.6B: 1024 / 16 = 64), tied head on 0.6B.
 */
import { describe, expect, it } from "vitest";
import type { RmsNormOp, RopeOp } from "../../../src/resolver/index.js";
import { resolve } from "../../../src/resolver/index.js";
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

warnSkipped("Qwen3-8B from ../shared");

describe("qwen3: Qwen3 0.6B", () => {
  for (const { where, path } of sourcesOf("Qwen__Qwen3-0.6B")) {
    it(`resolves from ${where}: q/k norms per head before rope, head_dim 128, GQA 16/8, tied`, () => {
      const r = resolve(parseFile(path));
      const g = r.graph;
      expect(r.plugin).toBe("qwen3");
      const l0 = layerWeights(g, 0);
      expect(l0.get("model.layers.0.self_attn.q_norm.weight")).toMatchObject({ shape: [128], role: "norm" });
      expect(l0.get("model.layers.0.self_attn.k_norm.weight")).toMatchObject({ shape: [128], role: "norm" });
      expect(l0.get("model.layers.0.self_attn.q_proj.weight")?.shape).toEqual([2048, 1024]);
      expect(l0.get("model.layers.0.self_attn.o_proj.weight")?.shape).toEqual([1024, 2048]);
      expect([...l0.keys()].some((n) => n.endsWith(".bias"))).toBe(false);
      const ops = g.ops.filter((o) => o.layer === 0);
      expect(ops.slice(0, 8).map((o) => o.kind)).toEqual([
        "rms_norm",
        "linear",
        "rms_norm", // q_norm
        "rope",
        "linear",
        "rms_norm", // k_norm
        "rope",
        "linear",
      ]);
      const qn = ops[2] as RmsNormOp;
      expect(qn).toMatchObject({
        groupSize: 128,
        weightOffset: 0,
        weight: { weight: "model.layers.0.self_attn.q_norm.weight" },
      });
      expect((ops[3] as RopeOp).input).toBe(qn.outputs[0]);
      expect(g.weights.find((w) => w.role === "lm_head")?.tiedTo).toBe("model.embed_tokens.weight");
    });
  }
});

describe.skipIf(!HAVE_SHARED)("qwen3: Qwen3 8B", () => {
  it("is untied with 36 layers and GQA 32/8", () => {
    const g = graphOf(configPath(SHARED_CONFIGS, "Qwen__Qwen3-8B")!);
    expect(g.meta.numLayers).toBe(36);
    expect(g.weights.find((w) => w.name === "lm_head.weight")?.shape).toEqual([151936, 4096]);
    expect(g.ops.find((o) => o.kind === "attention")).toMatchObject({ heads: 32, kvHeads: 8, headDim: 128 });
  });
});

describe("qwen3: tiny golden sanity", () => {
  it("decoding with the KV cache equals recomputing the prefix (q/k norms)", async () => {
    const raw = exampleRaw("Qwen__Qwen3-0.6B");
    const g = resolve(shrink(raw)).graph;
    expect(g.weights.find((w) => w.name === "model.layers.1.self_attn.k_norm.weight")?.shape).toEqual([16]);
    await expectCacheConsistent(g, [1, 2, 3, 4, 5, 6, 7], 3);
  });
});
