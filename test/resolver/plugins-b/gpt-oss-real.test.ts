/**
 * The gpt-oss plugin on gpt-oss-20b: sinks, sliding(128)/full alternation, YaRN, biases, the
 * top-4 router with bias, stacked transposed experts with interleaved gate/up and the clamped
 * SwiGLU, the MXFP4 blocks/scales as stored, and the 20.9B (21B) parameter count.
 */
import { describe, expect, it } from "vitest";
import { countParams, ropeAttentionFactor } from "../../../src/resolver/graph/index.js";
import { isQuantCompanion, logicalParamCount } from "../../../src/resolver/plugins/index-b.js";
import { errorsOf, lazyRealGraph, opsOfLayer, skipSource, sourcesOf, warnSkipped, weight } from "./kit.js";

warnSkipped("the gpt-oss real-config tests on ../shared/configs");

for (const src of sourcesOf("openai__gpt-oss-20b")) {
  describe.skipIf(skipSource(src))(`gpt-oss-20b (${src.label})`, () => {
    const g = lazyRealGraph(src, "openai__gpt-oss-20b");
    const p = "model.layers.0";
    it("verifies and counts 20,914,757,184 logical parameters (21B)", () => {
      expect(errorsOf(g())).toEqual([]);
      expect(logicalParamCount(g())).toBe(20_914_757_184);
      // The MXFP4 companions are stored bytes, not parameters: 17/32 byte per expert weight.
      const experts = 24 * 32 * (2880 * 5760 + 2880 * 2880);
      expect(countParams(g()).total - logicalParamCount(g())).toBe((experts * 17) / 32);
      // Model card: 3.61B active (4 of 32 experts with their biases; the embedding is a lookup).
      const expertBias = 24 * 32 * (5760 + 2880);
      const active = logicalParamCount(g()) - ((experts + expertBias) * 28) / 32 - 201088 * 2880;
      expect(Math.round(active / 1e7) / 100).toBe(3.61);
    });
    it("declares biased projections, sinks and the router with its bias", () => {
      expect(weight(g(), `${p}.self_attn.q_proj.weight`).shape).toEqual([4096, 2880]);
      expect(weight(g(), `${p}.self_attn.q_proj.bias`).shape).toEqual([4096]);
      expect(weight(g(), `${p}.self_attn.k_proj.bias`).shape).toEqual([512]);
      expect(weight(g(), `${p}.self_attn.o_proj.bias`).shape).toEqual([2880]);
      expect(weight(g(), `${p}.self_attn.sinks`)).toMatchObject({ shape: [64], role: "sinks" });
      expect(weight(g(), `${p}.mlp.router.weight`).shape).toEqual([32, 2880]);
      expect(weight(g(), `${p}.mlp.router.bias`).shape).toEqual([32]);
      expect(weight(g(), "lm_head.weight").shape).toEqual([201088, 2880]);
    });
    it("alternates sliding(128)/full with sinks, YaRN (truncate false) and head_dim^-½", () => {
      const a0 = opsOfLayer(g(), 0, "attention")[0]!;
      const a1 = opsOfLayer(g(), 1, "attention")[0]!;
      expect(a0.mask).toEqual({ kind: "sliding", window: 128 });
      expect(a1.mask).toEqual({ kind: "causal" });
      expect(a0.sinks?.weight).toBe(`${p}.self_attn.sinks`);
      expect([a0.heads, a0.kvHeads, a0.headDim, a0.scale]).toEqual([64, 8, 64, 1 / 8]);
      const rope = opsOfLayer(g(), 0, "rope")[0]!;
      expect(rope.style).toBe("half");
      expect(rope.rope).toMatchObject({ type: "yarn", theta: 150000, factor: 32, truncate: false });
      expect(ropeAttentionFactor(rope.rope)).toBeCloseTo(0.1 * Math.log(32) + 1, 12);
    });
    it("routes top-4 (softmax of the selected logits) into clamped-SwiGLU stacked experts", () => {
      const r = opsOfLayer(g(), 0, "moe_route")[0]!;
      expect([r.numExperts, r.topK, r.scoring, r.normalize, r.routedScale]).toEqual([
        32,
        4,
        "softmax",
        true,
        1,
      ]);
      const ex = opsOfLayer(g(), 0, "moe_experts")[0]!;
      expect(ex.act).toEqual({ fn: "clamped_swiglu", alpha: 1.702, limit: 7 });
      const gu = `${p}.mlp.experts.gate_up_proj`;
      expect(ex.gate).toEqual({ kind: "stacked", weight: gu, rows: { start: 0, count: 2880, step: 2 } });
      expect(ex.up).toEqual({ kind: "stacked", weight: gu, rows: { start: 1, count: 2880, step: 2 } });
      expect(ex.gateBias).toEqual({
        kind: "stacked",
        weight: `${gu}_bias`,
        slice: { start: 0, count: 2880, step: 2 },
      });
      expect(weight(g(), gu)).toMatchObject({ shape: [32, 2880, 5760], transposed: true });
      expect(weight(g(), `${p}.mlp.experts.down_proj`)).toMatchObject({
        shape: [32, 2880, 2880],
        transposed: true,
      });
    });
    it("declares the MXFP4 blocks and scales with their stored shapes and U8 dtype", () => {
      const e = `${p}.mlp.experts`;
      expect(weight(g(), `${e}.gate_up_proj_blocks`)).toMatchObject({
        dtype: "U8",
        shape: [32, 5760, 90, 16],
      });
      expect(weight(g(), `${e}.gate_up_proj_scales`)).toMatchObject({ dtype: "U8", shape: [32, 5760, 90] });
      expect(weight(g(), `${e}.down_proj_blocks`)).toMatchObject({ dtype: "U8", shape: [32, 2880, 90, 16] });
      expect(weight(g(), `${e}.down_proj_scales`)).toMatchObject({ dtype: "U8", shape: [32, 2880, 90] });
      const companions = g().weights.filter(isQuantCompanion);
      expect(companions).toHaveLength(24 * 4);
      expect(companions.every((w) => w.unused?.includes("MXFP4") && w.name.startsWith("model.layers."))).toBe(
        true,
      );
      // Attention, router, embeddings and head are in modules_to_not_convert.
      expect(g().weights.some((w) => isQuantCompanion(w) && w.name.includes("self_attn"))).toBe(false);
    });
  });
}
