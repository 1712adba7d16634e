/**
 * The Gemma 4 plugin on the four published configs (E2B, E4B, 26B-A4B, 31B): names and shapes,
 * per-layer head geometry, k = v, proportional RoPE, KV sharing, double-wide MLPs, dense + routed
 * experts, and the parameter counts against the model cards (docs/resolver.md).
 */
import { describe, expect, it } from "vitest";
import { countParams, type ModelGraph } from "../../../src/resolver/graph/index.js";
import {
  errorsOf,
  hasWeight,
  lazyRealGraph,
  opsOfLayer,
  skipSource,
  sourcesOf,
  warnSkipped,
  weight,
} from "./kit.js";

warnSkipped("the Gemma 4 real-config tests on ../shared/configs");

const attn = (g: ModelGraph, l: number) => opsOfLayer(g, l, "attention")[0]!;
const M = "model.language_model";
const billions = (n: number) => Math.round(n / 1e8) / 10;

// Text-model totals. The published totals (5,123,178,051 and 7,996,156,490) add the vision and
// audio towers; the towers are the same in both except the two embedders' projections into the
// text width, so the difference of the differences is (2560 − 1536)·(768 + 1536) exactly.
const TEXT = { E2B: 4_647_449_891, E4B: 7_518_069_034 };
const PUBLISHED = { E2B: 5_123_178_051, E4B: 7_996_156_490 };

describe("gemma-4 E2B/E4B text counts against the published multimodal totals", () => {
  it("differ by towers that differ only by the embedder projections", () => {
    const towers = (k: "E2B" | "E4B") => PUBLISHED[k] - TEXT[k];
    expect(towers("E2B")).toBe(475_728_160);
    expect(towers("E4B") - towers("E2B")).toBe((2560 - 1536) * (768 + 1536));
  });
});

// Effective (model card: 2.3B, 4.5B) = text − per-layer embedding table − the unused k/v tensors
// stored for KV-shared layers.
for (const [model, total, effective, L] of [
  ["google__gemma-4-E2B-it", TEXT.E2B, 2.3, 35],
  ["google__gemma-4-E4B-it", TEXT.E4B, 4.6, 42],
] as const) {
  for (const src of sourcesOf(model)) {
    describe.skipIf(skipSource(src))(`${model} (${src.label})`, () => {
      const g = lazyRealGraph(src, model);
      it("verifies; text parameters and effective size", () => {
        expect(errorsOf(g())).toEqual([]);
        const c = countParams(g());
        expect(c.total).toBe(total);
        expect(c.byRole.per_layer_embedding).toBe(262144 * L * 256);
        const unusedKv = g()
          .weights.filter((w) => w.unused?.startsWith("KV shared"))
          .reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
        expect(billions(c.total - (c.byRole.per_layer_embedding ?? 0) - unusedKv)).toBe(effective);
        expect(g().weights.filter((w) => w.name.endsWith(".layer_scalar"))).toHaveLength(L);
      });
    });
  }
}

for (const src of sourcesOf("google__gemma-4-E2B-it")) {
  describe.skipIf(skipSource(src))(`gemma-4-E2B-it structure (${src.label})`, () => {
    const g = lazyRealGraph(src, "google__gemma-4-E2B-it");
    it("gives full layers 512-wide heads with proportional RoPE over the whole head", () => {
      expect(weight(g(), `${M}.layers.4.self_attn.q_proj.weight`).shape).toEqual([8 * 512, 1536]);
      expect(weight(g(), `${M}.layers.4.self_attn.k_proj.weight`).shape).toEqual([512, 1536]);
      expect(weight(g(), `${M}.layers.4.self_attn.v_proj.weight`).shape).toEqual([512, 1536]);
      expect(weight(g(), `${M}.layers.0.self_attn.q_norm.weight`).shape).toEqual([256]);
      const r4 = opsOfLayer(g(), 4, "rope")[0]!;
      expect([r4.headDim, r4.rotaryDim]).toEqual([512, 512]);
      expect(r4.rope).toEqual({
        type: "proportional",
        theta: 1_000_000,
        factor: 1,
        partialRotaryFactor: 0.25,
      });
      expect(opsOfLayer(g(), 0, "rope")[0]!.rope).toEqual({ type: "default", theta: 10000 });
      expect(attn(g(), 0).mask).toEqual({ kind: "sliding", window: 512 });
      expect(attn(g(), 4).mask).toEqual({ kind: "causal" });
    });
    it("shares KV from layer 15 on (k/v tensors stored, unused) and doubles those layers' MLP width", () => {
      expect(attn(g(), 14).kv.source).toBe("own");
      expect(attn(g(), 15).kv).toEqual({ source: "shared", layer: 13 });
      expect(attn(g(), 34).kv).toEqual({ source: "shared", layer: 14 });
      expect(weight(g(), `${M}.layers.34.self_attn.k_proj.weight`).unused).toMatch(/KV shared from layer 14/);
      expect(weight(g(), `${M}.layers.34.self_attn.v_proj.weight`).unused).toMatch(/KV shared from layer 14/);
      expect(weight(g(), `${M}.layers.34.self_attn.k_norm.weight`).unused).toMatch(/KV shared/);
      expect(weight(g(), `${M}.layers.34.self_attn.q_norm.weight`).unused).toBeUndefined();
      expect(weight(g(), `${M}.layers.14.mlp.gate_proj.weight`).shape).toEqual([6144, 1536]);
      expect(weight(g(), `${M}.layers.15.mlp.gate_proj.weight`).shape).toEqual([12288, 1536]);
    });
    it("adds the per-layer input tail to the residual and multiplies by layer_scalar", () => {
      expect(weight(g(), `${M}.embed_tokens_per_layer.weight`).shape).toEqual([262144, 35 * 256]);
      expect(weight(g(), `${M}.layers.0.per_layer_input_gate.weight`).shape).toEqual([256, 1536]);
      expect(weight(g(), `${M}.layers.0.layer_scalar`).shape).toEqual([1]);
      const muls = opsOfLayer(g(), 0, "mul_weight");
      expect(muls.at(-1)!.weight.weight).toBe(`${M}.layers.0.layer_scalar`);
      const scales = g().ops.filter((o) => o.kind === "scale" && o.layer === undefined);
      expect(scales.map((o) => o.kind === "scale" && o.factor)).toEqual([1536 ** -0.5, 2 ** -0.5]);
      expect(g().ops.find((o) => o.kind === "softcap")?.kind === "softcap").toBe(true);
    });
  });
}

for (const src of sourcesOf("google__gemma-4-26B-A4B")) {
  describe.skipIf(skipSource(src))(`gemma-4-26B-A4B (${src.label})`, () => {
    const g = lazyRealGraph(src, "google__gemma-4-26B-A4B");
    it("counts 25.2B total and 3.8B active parameters (model card)", () => {
      expect(errorsOf(g())).toEqual([]);
      const c = countParams(g());
      expect(c.total).toBe(25_233_141_790);
      expect(billions(c.total)).toBe(25.2);
      const experts = (c.byRole.expert_gate_up ?? 0) + (c.byRole.expert_down ?? 0);
      expect(billions(c.total - experts + (experts * 8) / 128)).toBe(3.8);
    });
    it("uses k = v on full layers: no v_proj, values are the v-normed k projection", () => {
      expect(hasWeight(g(), `${M}.layers.5.self_attn.v_proj.weight`)).toBe(false);
      expect(weight(g(), `${M}.layers.5.self_attn.k_proj.weight`).shape).toEqual([2 * 512, 2816]);
      expect(weight(g(), `${M}.layers.0.self_attn.v_proj.weight`).shape).toEqual([8 * 256, 2816]);
      const a = attn(g(), 5);
      expect([a.heads, a.kvHeads, a.headDim]).toEqual([16, 2, 512]);
      if (a.kv.source !== "own") throw new Error("layer 5 should own its cache");
      const vNorm = g().ops.find((o) => o.outputs[0] === (a.kv.source === "own" ? a.kv.v : ""))!;
      const kProj = g().ops.find(
        (o) => o.kind === "linear" && o.layer === 5 && o.weight.weight.endsWith("k_proj.weight"),
      )!;
      expect(
        vNorm.kind === "rms_norm" && vNorm.weight === undefined && vNorm.input === kProj.outputs[0],
      ).toBe(true);
    });
    it("runs the dense MLP and 128 routed experts side by side from the same residual", () => {
      expect(weight(g(), `${M}.layers.0.experts.gate_up_proj`).shape).toEqual([128, 2 * 704, 2816]);
      expect(weight(g(), `${M}.layers.0.experts.down_proj`).shape).toEqual([128, 2816, 704]);
      expect(weight(g(), `${M}.layers.0.router.proj.weight`).shape).toEqual([128, 2816]);
      expect(weight(g(), `${M}.layers.0.router.per_expert_scale`).shape).toEqual([128]);
      expect(weight(g(), `${M}.layers.0.mlp.gate_proj.weight`).shape).toEqual([2112, 2816]);
      const route = opsOfLayer(g(), 0, "moe_route")[0]!;
      expect([route.topK, route.scoring, route.normalize, route.perExpertScale?.weight]).toEqual([
        8,
        "softmax",
        true,
        `${M}.layers.0.router.per_expert_scale`,
      ]);
      const ex = opsOfLayer(g(), 0, "moe_experts")[0]!;
      expect(ex.gate).toEqual({
        kind: "stacked",
        weight: `${M}.layers.0.experts.gate_up_proj`,
        rows: { start: 0, count: 704 },
      });
      expect(ex.up).toEqual({
        kind: "stacked",
        weight: `${M}.layers.0.experts.gate_up_proj`,
        rows: { start: 704, count: 704 },
      });
      for (const n of [
        "post_feedforward_layernorm_1",
        "pre_feedforward_layernorm_2",
        "post_feedforward_layernorm_2",
      ])
        expect(weight(g(), `${M}.layers.0.${n}.weight`).shape).toEqual([2816]);
      expect(g().weights.some((w) => w.role === "per_layer_embedding")).toBe(false);
    });
  });
}

for (const src of sourcesOf("google__gemma-4-31B-it")) {
  describe.skipIf(skipSource(src))(`gemma-4-31B-it (${src.label})`, () => {
    const g = lazyRealGraph(src, "google__gemma-4-31B-it");
    it("counts 30.7B parameters (model card) for the dense 60-layer model", () => {
      expect(errorsOf(g())).toEqual([]);
      expect(countParams(g()).total).toBe(30_697_345_340);
      expect(billions(countParams(g()).total)).toBe(30.7);
      expect(g().ops.some((o) => o.kind === "moe_route")).toBe(false);
      const a = attn(g(), 5);
      expect([a.heads, a.kvHeads, a.headDim]).toEqual([32, 4, 512]);
      expect(attn(g(), 0).mask).toEqual({ kind: "sliding", window: 1024 });
      expect(hasWeight(g(), `${M}.layers.5.self_attn.v_proj.weight`)).toBe(false);
    });
  });
}
