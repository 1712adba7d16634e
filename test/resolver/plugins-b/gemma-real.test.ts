/**
 * The Gemma plugins on the real published configs: the graph verifies, tensors carry the
 * checkpoints' HF names and shapes, the family features are visible in the ops, and parameter
 * counts match the published figures (docs/resolver.md states each source).
 */
import { describe, expect, it } from "vitest";
import { countParams, type ModelGraph, type SoftcapOp } from "../../../src/resolver/graph/index.js";
import {
  errorsOf,
  lazyRealGraph,
  opsOfLayer,
  realGraph,
  skipSource,
  sourcesOf,
  warnSkipped,
  weight,
} from "./kit.js";

warnSkipped("the Gemma real-config tests on ../shared/configs");

const shapeOf = (g: ModelGraph, name: string) => weight(g, name).shape;
const embedScale = (g: ModelGraph) => g.ops.find((o) => o.kind === "embedding")?.scale;
const attn = (g: ModelGraph, l: number) => opsOfLayer(g, l, "attention")[0]!;
const finalCap = (g: ModelGraph) =>
  g.ops.find((o): o is SoftcapOp => o.kind === "softcap" && o.layer === undefined);

for (const src of sourcesOf("google__gemma-2-2b-it")) {
  describe.skipIf(skipSource(src))(`gemma-2-2b-it (${src.label})`, () => {
    const g = lazyRealGraph(src, "google__gemma-2-2b-it");
    it("verifies and counts 2,614,341,888 parameters (google/gemma-2-2b)", () => {
      expect(errorsOf(g())).toEqual([]);
      expect(countParams(g()).total).toBe(2_614_341_888);
    });
    it("names layer 0 as the checkpoint does, with sandwich norms", () => {
      const p = "model.layers.0";
      expect(shapeOf(g(), `${p}.self_attn.q_proj.weight`)).toEqual([2048, 2304]);
      expect(shapeOf(g(), `${p}.self_attn.k_proj.weight`)).toEqual([1024, 2304]);
      expect(shapeOf(g(), `${p}.self_attn.o_proj.weight`)).toEqual([2304, 2048]);
      expect(shapeOf(g(), `${p}.mlp.gate_proj.weight`)).toEqual([9216, 2304]);
      for (const n of [
        "input_layernorm",
        "post_attention_layernorm",
        "pre_feedforward_layernorm",
        "post_feedforward_layernorm",
      ])
        expect(shapeOf(g(), `${p}.${n}.weight`)).toEqual([2304]);
      const norms = opsOfLayer(g(), 0, "rms_norm");
      expect(norms).toHaveLength(4);
      expect(norms.every((n) => n.weightOffset === 1)).toBe(true);
    });
    it("softcaps scores (50) and logits (30), alternates sliding(4096)/global, scales by 256^-½", () => {
      expect(attn(g(), 0).softcap).toBe(50);
      expect(attn(g(), 0).mask).toEqual({ kind: "sliding", window: 4096 });
      expect(attn(g(), 1).mask).toEqual({ kind: "causal" });
      expect(attn(g(), 25).mask).toEqual({ kind: "causal" });
      expect(attn(g(), 0).scale).toBe(1 / 16);
      expect(finalCap(g())?.cap).toBe(30);
      expect(embedScale(g())).toBe(48); // √2304 = 48 exactly
      expect(opsOfLayer(g(), 0, "glu")[0]!.act).toEqual({ fn: "gelu_tanh" });
      expect(g().weights.find((w) => w.role === "lm_head")?.tiedTo).toBe("model.embed_tokens.weight");
    });
  });
}

for (const src of sourcesOf("google__gemma-3-1b-it")) {
  describe.skipIf(skipSource(src))(`gemma-3-1b-it (${src.label})`, () => {
    const g = lazyRealGraph(src, "google__gemma-3-1b-it");
    it("verifies and counts 999,885,952 parameters (google/gemma-3-1b-it)", () => {
      expect(errorsOf(g())).toEqual([]);
      expect(countParams(g()).total).toBe(999_885_952);
    });
    it("uses text-only names, (1+w) q/k norms and local/global RoPE bases", () => {
      expect(shapeOf(g(), "model.layers.0.self_attn.q_norm.weight")).toEqual([256]);
      expect(shapeOf(g(), "model.embed_tokens.weight")).toEqual([262144, 1152]);
      const qn = opsOfLayer(g(), 0, "rms_norm").find((n) => n.weight?.weight.endsWith("q_norm.weight"))!;
      expect([qn.groupSize, qn.weightOffset]).toEqual([256, 1]);
      const ropes = (l: number) => opsOfLayer(g(), l, "rope").map((r) => r.rope);
      expect(ropes(0)).toEqual([
        { type: "default", theta: 10000 },
        { type: "default", theta: 10000 },
      ]);
      expect(ropes(5)[0]).toEqual({ type: "default", theta: 1_000_000 });
      expect(attn(g(), 0).mask).toEqual({ kind: "sliding", window: 512 });
      expect(attn(g(), 5).mask).toEqual({ kind: "causal" });
      expect(attn(g(), 0).softcap).toBeUndefined();
      expect(embedScale(g())).toBe(34); // √1152 = 33.94 → 34 in bf16
      expect(finalCap(g())).toBeUndefined();
    });
  });
}

/** SigLIP (vision_config of gemma-3-4b) and the multimodal projector, from their configs. */
function gemma3VisionParams(): number {
  const [h, layers, inter, patch, image, textH] = [1152, 27, 4304, 14, 896, 2560];
  const perLayer = 4 * (h * h + h) + (h * inter + inter) + (inter * h + h) + 4 * h;
  const embeddings = 3 * patch * patch * h + h + (image / patch) ** 2 * h;
  const projector = h * textH + h; // mm_input_projection_weight + mm_soft_emb_norm
  return embeddings + layers * perLayer + 2 * h + projector;
}

for (const src of sourcesOf("google__gemma-3-4b-it")) {
  describe.skipIf(skipSource(src))(`gemma-3-4b-it (${src.label})`, () => {
    const g = lazyRealGraph(src, "google__gemma-3-4b-it");
    it("counts the language model: published 4,300,079,472 minus SigLIP and projector", () => {
      expect(errorsOf(g())).toEqual([]);
      expect(gemma3VisionParams()).toBe(419_816_304);
      expect(countParams(g()).total).toBe(4_300_079_472 - gemma3VisionParams());
    });
    it("names the wrapper's tensors language_model.model.* and ties the head", () => {
      expect(shapeOf(g(), "language_model.model.embed_tokens.weight")).toEqual([262208, 2560]);
      expect(shapeOf(g(), "language_model.model.layers.0.self_attn.q_proj.weight")).toEqual([2048, 2560]);
      expect(shapeOf(g(), "language_model.model.layers.5.self_attn.k_norm.weight")).toEqual([256]);
      expect(g().weights.some((w) => w.name.startsWith("model."))).toBe(false);
      expect(g().weights.find((w) => w.role === "lm_head")?.tiedTo).toBe(
        "language_model.model.embed_tokens.weight",
      );
    });
    it("scales global layers' RoPE linearly by 8 and keeps 1e4 on sliding ones", () => {
      expect(opsOfLayer(g(), 5, "rope")[0]!.rope).toEqual({ type: "linear", theta: 1_000_000, factor: 8 });
      expect(opsOfLayer(g(), 4, "rope")[0]!.rope).toEqual({ type: "default", theta: 10000 });
      expect(attn(g(), 4).mask).toEqual({ kind: "sliding", window: 1024 });
      expect(embedScale(g())).toBe(50.5); // √2560 = 50.596 → 50.5 in bf16
    });
    it("uses model.layers.* names when the format says text-only, and without any format", () => {
      const noFormat = realGraph(src, "google__gemma-3-4b-it", { format: false }).graph;
      expect(noFormat.weights.some((w) => w.name === "model.layers.0.self_attn.q_proj.weight")).toBe(true);
    });
  });
}

for (const [model, total, effective, ple] of [
  ["google__gemma-3n-E2B-it", 4_456_156_768, 1.91, 262144 * 30 * 256],
  ["google__gemma-3n-E4B-it", 6_866_696_688, 3.98, 262144 * 35 * 256],
] as const) {
  for (const src of sourcesOf(model)) {
    describe.skipIf(skipSource(src))(`${model} (${src.label})`, () => {
      const g = lazyRealGraph(src, model);
      it(`verifies; effective parameters round to the published ${effective}B`, () => {
        expect(errorsOf(g())).toEqual([]);
        const c = countParams(g());
        expect(c.total).toBe(total);
        expect(c.byRole.per_layer_embedding).toBe(ple);
        // google/gemma3n-slicing-configs: effective = text params − embed_tokens − per-layer table.
        const eff = c.total - (c.byRole.per_layer_embedding ?? 0) - (c.byRole.embedding ?? 0);
        expect(Math.round(eff / 1e7) / 100).toBe(effective);
      });
    });
  }
}

for (const src of sourcesOf("google__gemma-3n-E2B-it")) {
  describe.skipIf(skipSource(src))(`gemma-3n-E2B-it structure (${src.label})`, () => {
    const g = lazyRealGraph(src, "google__gemma-3n-E2B-it");
    const m = "model.language_model";
    it("declares AltUp, LAuReL and per-layer-embedding tensors with the released names", () => {
      expect(shapeOf(g(), `${m}.layers.0.altup.prediction_coefs.weight`)).toEqual([16, 4]);
      expect(shapeOf(g(), `${m}.layers.0.altup.correction_coefs.weight`)).toEqual([4, 4]);
      expect(shapeOf(g(), `${m}.layers.0.altup.modality_router.weight`)).toEqual([4, 2048]);
      expect(shapeOf(g(), `${m}.layers.0.altup.correct_output_scale`)).toEqual([2048]);
      expect(shapeOf(g(), `${m}.layers.0.laurel.linear_left.weight`)).toEqual([64, 2048]);
      expect(shapeOf(g(), `${m}.layers.0.laurel.linear_right.weight`)).toEqual([2048, 64]);
      expect(shapeOf(g(), `${m}.layers.0.per_layer_input_gate.weight`)).toEqual([256, 2048]);
      expect(shapeOf(g(), `${m}.layers.0.per_layer_projection.weight`)).toEqual([2048, 256]);
      expect(shapeOf(g(), `${m}.embed_tokens_per_layer.weight`)).toEqual([262144, 7680]);
      expect(shapeOf(g(), `${m}.per_layer_model_projection.weight`)).toEqual([7680, 2048]);
      expect(shapeOf(g(), `${m}.per_layer_projection_norm.weight`)).toEqual([256]);
      expect(shapeOf(g(), `${m}.altup_projections.2.weight`)).toEqual([2048, 2048]);
      expect(shapeOf(g(), `${m}.altup_unembed_projections.0.weight`)).toEqual([2048, 2048]);
    });
    it("shares KV on the last 10 layers with the last non-shared layer of the same type", () => {
      expect(attn(g(), 19).kv.source).toBe("own");
      expect(attn(g(), 20).kv).toEqual({ source: "shared", layer: 18 });
      expect(attn(g(), 29).kv).toEqual({ source: "shared", layer: 19 });
      expect(weight(g(), `${m}.layers.29.self_attn.k_proj.weight`).unused).toMatch(/KV shared from layer 19/);
      expect(attn(g(), 0).scale).toBe(1);
      expect(attn(g(), 0).softcap).toBeUndefined();
    });
    it("sparsifies the first 10 gate projections and clips correction coefficients at 120", () => {
      const sparse = g().ops.filter((o) => o.kind === "gaussian_topk");
      expect(sparse.map((o) => o.layer)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(sparse.every((o) => o.kind === "gaussian_topk" && o.sparsity === 0.95)).toBe(true);
      const corr = opsOfLayer(g(), 3, "altup_correct")[0]!;
      expect([corr.coefClip, corr.activeIndex, corr.predictions.length]).toEqual([120, 0, 4]);
      expect(g().ops.filter((o) => o.kind === "magnitude_match")).toHaveLength(6);
      expect(finalCap(g())?.cap).toBe(30);
      expect(embedScale(g())).toBe(45.25); // √2048 = 45.25 in bf16
    });
  });
}
