/**
 * The DeepSeek plugins on DeepSeek-V2-Lite and DeepSeek-V3: MLA dims and tensor names, dense first
 * layers, routing attributes (greedy softmax vs sigmoid + bias + top-2-sum groups), the yarn score
 * scale, V3's FP8 weight_scale_inv companions and unused MTP layer, and the parameter counts.
 */
import { describe, expect, it } from "vitest";
import { countParams, yarnGetMscale } from "../../../src/resolver/graph/index.js";
import { isQuantCompanion } from "../../../src/resolver/plugins/index-b.js";
import {
  errorsOf,
  hasWeight,
  lazyRealGraph,
  opsOfLayer,
  realGraph,
  skipSource,
  sourcesOf,
  warnSkipped,
  weight,
} from "./kit.js";

warnSkipped("the DeepSeek real-config tests on ../shared/configs");

/** rope_scaling.mscale and mscale_all_dim of DeepSeek-V2-Lite (not 1/√2). */
const V2_MSCALE = 707 / 1000;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

for (const src of sourcesOf("deepseek-ai__DeepSeek-V2-Lite")) {
  describe.skipIf(skipSource(src))(`DeepSeek-V2-Lite (${src.label})`, () => {
    const g = lazyRealGraph(src, "deepseek-ai__DeepSeek-V2-Lite");
    it("verifies and counts 15,706,484,224 parameters (15.7B)", () => {
      expect(errorsOf(g())).toEqual([]);
      expect(countParams(g()).total).toBe(15_706_484_224);
      // Model card: 2.4B activated (6 of 64 routed experts; the input embedding is a lookup).
      const c = countParams(g());
      const routed = (c.byRole.expert_gate ?? 0) + (c.byRole.expert_up ?? 0) + (c.byRole.expert_down ?? 0);
      const active = c.total - routed + (routed * 6) / 64 - (c.byRole.embedding ?? 0);
      expect(Math.round(active / 1e7) / 100).toBe(2.45); // the card truncates to 2.4B
    });
    it("projects q without LoRA and compresses kv into a 512 latent plus a 64-wide rope key", () => {
      const a = "model.layers.0.self_attn";
      expect(weight(g(), `${a}.q_proj.weight`).shape).toEqual([16 * 192, 2048]);
      expect(hasWeight(g(), `${a}.q_a_proj.weight`)).toBe(false);
      expect(weight(g(), `${a}.kv_a_proj_with_mqa.weight`).shape).toEqual([576, 2048]);
      expect(weight(g(), `${a}.kv_a_layernorm.weight`).shape).toEqual([512]);
      expect(weight(g(), `${a}.kv_b_proj.weight`).shape).toEqual([16 * 256, 512]);
      expect(weight(g(), `${a}.o_proj.weight`).shape).toEqual([2048, 16 * 128]);
      const mla = opsOfLayer(g(), 0, "mla_attention")[0]!;
      expect([mla.heads, mla.kvRank, mla.nopeDim, mla.ropeDim, mla.vHeadDim]).toEqual([
        16, 512, 128, 64, 128,
      ]);
      const m = yarnGetMscale(40, V2_MSCALE);
      expect(mla.scale).toBeCloseTo(192 ** -0.5 * m * m, 15);
      const [qr, kr] = opsOfLayer(g(), 0, "rope");
      expect([qr!.offset, qr!.rotaryDim, qr!.style, kr!.heads]).toEqual([128, 64, "interleaved", 1]);
      expect(qr!.rope).toMatchObject({
        type: "yarn",
        factor: 40,
        mscale: V2_MSCALE,
        mscaleAllDim: V2_MSCALE,
      });
    });
    it("keeps layer 0 dense and routes layers 1… greedily over 64 experts plus 2 shared", () => {
      expect(weight(g(), "model.layers.0.mlp.gate_proj.weight").shape).toEqual([10944, 2048]);
      expect(opsOfLayer(g(), 0, "moe_route")).toHaveLength(0);
      expect(weight(g(), "model.layers.1.mlp.gate.weight").shape).toEqual([64, 2048]);
      expect(weight(g(), "model.layers.1.mlp.experts.63.down_proj.weight").shape).toEqual([2048, 1408]);
      expect(weight(g(), "model.layers.26.mlp.shared_experts.gate_proj.weight").shape).toEqual([2816, 2048]);
      const r = opsOfLayer(g(), 1, "moe_route")[0]!;
      expect([r.numExperts, r.topK, r.scoring, r.normalize, r.routedScale, r.groups]).toEqual([
        64,
        6,
        "softmax",
        false,
        1,
        undefined,
      ]);
      expect(g().weights.some(isQuantCompanion)).toBe(false);
      expect(g().weights.find((w) => w.role === "lm_head")?.name).toBe("lm_head.weight");
    });
  });
}

for (const src of sourcesOf("deepseek-ai__DeepSeek-V3")) {
  describe.skipIf(skipSource(src))(`DeepSeek-V3 (${src.label})`, () => {
    const g = lazyRealGraph(src, "deepseek-ai__DeepSeek-V3");
    it("declares the 91,991 tensors / 684,531,386,000 elements of the checkpoint; 671B main model", () => {
      expect(errorsOf(g())).toEqual([]);
      const c = countParams(g());
      // DeepSeek-V3 / R1 safetensors: 163 files, 91,991 tensors, 684,531,386,000 parameters
      // (MTP module and FP8 scale tensors included).
      expect(c.tensors).toBe(91_991);
      expect(c.total).toBe(684_531_386_000);
      const mtp = g().weights.filter((w) => w.layer === 61);
      const main = g().weights.filter((w) => w.layer !== 61 && !isQuantCompanion(w));
      const mainParams = main.reduce((a, w) => a + size(w.shape), 0);
      expect(mainParams).toBe(671_026_419_200); // README: 671B main model
      // README_WEIGHTS.md: 36.6B activated (8 of 256 routed experts, output head included).
      const routed = main.filter((w) => w.role.startsWith("expert_")).reduce((a, w) => a + size(w.shape), 0);
      const embed = size(weight(g(), "model.embed_tokens.weight").shape);
      expect(Math.round((mainParams - routed + routed / 32 - embed) / 1e8) / 10).toBe(36.6);
      expect(mtp.length).toBeGreaterThan(256 * 3);
      expect(mtp.every((w) => w.unused?.includes("multi-token-prediction"))).toBe(true);
      expect(mtp.filter((w) => !isQuantCompanion(w)).every((w) => w.unused?.startsWith("multi-token"))).toBe(
        true,
      );
      const mtpParams = mtp.filter((w) => !isQuantCompanion(w)).reduce((a, w) => a + size(w.shape), 0);
      expect(mtpParams).toBe(13_463_426_304); // 685B on the hub − 671B, with the scales
      const copies = mtp.filter((w) => /embed_tokens|shared_head\.head/.test(w.name));
      expect(copies.map((w) => w.name).sort()).toEqual([
        "model.layers.61.embed_tokens.weight",
        "model.layers.61.shared_head.head.weight",
      ]);
    });
    it("stores linear weights as F8_E4M3 with ragged 128×128 weight_scale_inv companions", () => {
      const a = "model.layers.0.self_attn";
      expect(weight(g(), `${a}.q_a_proj.weight`)).toMatchObject({ dtype: "F8_E4M3", shape: [1536, 7168] });
      expect(weight(g(), `${a}.kv_a_proj_with_mqa.weight_scale_inv`)).toMatchObject({
        dtype: "F32",
        shape: [5, 56],
        role: "other",
      });
      expect(weight(g(), `${a}.q_a_layernorm.weight`).dtype).toBe("BF16");
      expect(weight(g(), "model.layers.3.mlp.gate.weight").dtype).toBe("BF16");
      expect(weight(g(), "model.layers.3.mlp.gate.e_score_correction_bias")).toMatchObject({
        dtype: "F32",
        shape: [256],
      });
      expect(weight(g(), "model.layers.3.mlp.experts.255.down_proj.weight_scale_inv").shape).toEqual([
        56, 16,
      ]);
      expect(weight(g(), "model.embed_tokens.weight").dtype).toBe("BF16");
      expect(weight(g(), "model.layers.61.eh_proj.weight")).toMatchObject({
        dtype: "BF16",
        shape: [7168, 14336],
      });
    });
    it("routes with sigmoid, the selection bias, top-2-sum groups (4 of 8), renormalise and ×2.5", () => {
      const r = opsOfLayer(g(), 3, "moe_route")[0]!;
      expect([r.scoring, r.normalize, r.routedScale, r.topK]).toEqual(["sigmoid", true, 2.5, 8]);
      expect(r.groups).toEqual({ count: 8, topk: 4, score: "top2_sum" });
      expect(r.correctionBias?.weight).toBe("model.layers.3.mlp.gate.e_score_correction_bias");
      expect(opsOfLayer(g(), 2, "moe_route")).toHaveLength(0);
      const mla = opsOfLayer(g(), 3, "mla_attention")[0]!;
      const m = yarnGetMscale(40, 1);
      expect(mla.scale).toBeCloseTo(192 ** -0.5 * m * m, 15);
      expect(weight(g(), "model.layers.3.self_attn.q_b_proj.weight").shape).toEqual([128 * 192, 1536]);
      expect(g().ops.some((o) => o.layer === 61)).toBe(false);
    });
    it("declares plain BF16 weights when no quantization format is registered", () => {
      const plain = realGraph(src, "deepseek-ai__DeepSeek-V3", { format: false }).graph;
      expect(plain.weights.some(isQuantCompanion)).toBe(false);
      expect(weight(plain, "model.layers.0.self_attn.q_a_proj.weight").dtype).toBe("BF16");
    });
  });
}
