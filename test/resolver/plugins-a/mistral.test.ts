/**
 * The mistral plugin: v0.1 slides a 4096 window on every layer, v0.3 has no window (all causal),
 * Llama names and structure otherwise. Tiny golden check with a window (3) shorter than the
 * sequence, so the sliding mask is exercised across cached positions.
 */
import { describe, expect, it } from "vitest";
import type { AttentionOp } from "../../../src/resolver/index.js";
import { layerSummary, resolve } from "../../../src/resolver/index.js";
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

warnSkipped("Mistral-7B-v0.3 from ../shared");

const attentions = (g: ReturnType<typeof graphOf>) =>
  g.ops.filter((o): o is AttentionOp => o.kind === "attention");

describe("mistral: Mistral 7B v0.1", () => {
  for (const { where, path } of sourcesOf("mistralai__Mistral-7B-v0.1")) {
    it(`resolves from ${where}: sliding(4096) on all 32 layers, GQA 32/8, llama names`, () => {
      const r = resolve(parseFile(path));
      expect(r.plugin).toBe("mistral");
      const att = attentions(r.graph);
      expect(att).toHaveLength(32);
      for (const a of att)
        expect(a).toMatchObject({ mask: { kind: "sliding", window: 4096 }, heads: 32, kvHeads: 8 });
      expect(layerSummary(r.graph)[0]?.attention?.mask).toContain("4096");
      expect(att[0]!.keys).toEqual(expect.arrayContaining(["layer_types", "sliding_window"]));
      const l0 = layerWeights(r.graph, 0);
      expect(l0.get("model.layers.0.self_attn.v_proj.weight")?.shape).toEqual([1024, 4096]);
      expect(l0.get("model.layers.0.mlp.gate_proj.weight")?.shape).toEqual([14336, 4096]);
      expect(r.graph.weights.find((w) => w.name === "lm_head.weight")?.shape).toEqual([32000, 4096]);
    });
  }
});

describe.skipIf(!HAVE_SHARED)("mistral: Mistral 7B v0.3", () => {
  it("has no sliding window (all causal), vocab 32768, rope theta 1e6", () => {
    const g = graphOf(configPath(SHARED_CONFIGS, "mistralai__Mistral-7B-v0.3")!);
    for (const a of attentions(g)) expect(a.mask).toEqual({ kind: "causal" });
    expect(g.meta.vocabSize).toBe(32768);
    const rope = g.ops.find((o) => o.kind === "rope");
    expect(rope && "rope" in rope ? rope.rope : undefined).toEqual({ type: "default", theta: 1e6 });
  });
});

describe("mistral: tiny golden sanity", () => {
  it("decoding with the KV cache equals recomputing the prefix with a window of 3", async () => {
    const raw = exampleRaw("mistralai__Mistral-7B-v0.1");
    const g = resolve(shrink(raw, { sliding_window: 3 })).graph;
    expect(attentions(g).map((a) => a.mask)).toEqual([
      { kind: "sliding", window: 3 },
      { kind: "sliding", window: 3 },
    ]);
    await expectCacheConsistent(g, [4, 8, 15, 16, 23, 42], 4);
  });
});
