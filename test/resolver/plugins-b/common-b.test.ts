/**
 * The helpers behind the Gemma / DeepSeek / gpt-oss plugins: constants rounded like transformers,
 * module-pattern matching of modules_to_not_convert, FP8 companions, wrapper detection, and the
 * user errors the plugins raise.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExitCode, isPccxError } from "../../../src/diag/index.js";
import { parseConfigObject } from "../../../src/parser/config/index.js";
import { GraphBuilder } from "../../../src/resolver/graph/index.js";
import { blockCtx } from "../../../src/resolver/plugins/common/index.js";
import {
  checkpointFormat,
  isQuantCompanion,
  isWrapped,
  linearWeight,
  moduleMatches,
  roundF16,
  roundToDtype,
  setCheckpointFormat,
} from "../../../src/resolver/plugins/common-b.js";
import { deepseekRouting } from "../../../src/resolver/plugins/deepseek-moe.js";
import { graphOf } from "./kit.js";
import { TINY } from "./tiny-configs.js";

/** Reference: the half value nearest to x by exhaustive search over the 2^15 magnitudes, ties to even. */
const nearestHalf = (x: number): number => {
  const a = Math.abs(x);
  let best = 0;
  let bestD = a;
  for (let h = 1; h < 0x7c00; h++) {
    const e = h >> 10;
    const m = h & 0x3ff;
    const v = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
    const d = Math.abs(v - a);
    if (d < bestD || (d === bestD && (h & 1) === 0)) {
      best = v;
      bestD = d;
    }
  }
  return Math.sign(x) * best;
};

describe("roundToDtype", () => {
  it("rounds Gemma's embedding scales as the bf16 checkpoints do", () => {
    expect(roundToDtype(Math.sqrt(1152), "BF16")).toBe(34);
    expect(roundToDtype(Math.sqrt(2560), "BF16")).toBe(50.5);
    expect(roundToDtype(Math.sqrt(2048), "BF16")).toBe(45.25);
    expect(roundToDtype(Math.sqrt(2304), "BF16")).toBe(48);
    expect(roundToDtype(Math.sqrt(3072), "F16")).toBe(55.4375);
    expect(roundToDtype(Math.sqrt(3072), "F32")).toBe(Math.fround(Math.sqrt(3072)));
    expect(roundToDtype(2 ** -0.5, "BF16")).toBe(0.70703125);
  });
  it("roundF16 picks the nearest half, ties to even", () => {
    expect(roundF16(1 + 2 ** -11)).toBe(1); // tie between 1 and 1+2^-10: even mantissa
    expect(roundF16(1 + 3 * 2 ** -11)).toBe(1 + 2 * 2 ** -10);
    expect(roundF16(65519)).toBe(65504);
    expect(roundF16(70000)).toBe(Number.POSITIVE_INFINITY);
    expect(roundF16(2 ** -25)).toBe(0);
    fc.assert(
      fc.property(fc.double({ min: -60000, max: 60000, noNaN: true }), (x) => {
        expect(roundF16(x)).toBe(nearestHalf(x));
      }),
      { numRuns: 40 },
    );
  });
});

describe("moduleMatches", () => {
  it("matches module prefixes with * wildcards", () => {
    expect(moduleMatches("model.layers.3.self_attn.q_proj.weight", "model.layers.*.self_attn")).toBe(true);
    expect(moduleMatches("model.layers.3.mlp.router.weight", "model.layers.*.mlp.router")).toBe(true);
    expect(moduleMatches("model.layers.3.mlp.experts.gate_up_proj", "model.layers.*.mlp.router")).toBe(false);
    expect(moduleMatches("lm_head.weight", "lm_head")).toBe(true);
    expect(moduleMatches("lm_head_extra.weight", "lm_head")).toBe(false);
  });
});

describe("checkpoint format", () => {
  it("tells wrapped from text-only checkpoints, with the family default when unknown", () => {
    const b = new GraphBuilder({
      modelType: "gemma3_text",
      plugin: "x",
      numLayers: 1,
      hiddenSize: 4,
      vocabSize: 4,
    });
    expect(checkpointFormat(b)).toEqual({});
    expect(isWrapped(b, "gemma3_text", true)).toBe(true);
    setCheckpointFormat(b, { modelType: "gemma3" });
    expect(isWrapped(b, "gemma3_text", false)).toBe(true);
    setCheckpointFormat(b, { modelType: "gemma3_text" });
    expect(isWrapped(b, "gemma3_text", true)).toBe(false);
  });
  it("declares FP8 weights with ceil-divided block scales, except excluded modules", () => {
    const parsed = parseConfigObject(TINY.deepseek_v3!(), "v3.json");
    const b = new GraphBuilder({
      modelType: "deepseek_v3",
      plugin: "x",
      numLayers: 1,
      hiddenSize: 32,
      vocabSize: 64,
    });
    setCheckpointFormat(b, {
      quantization: { ...parsed.quantization!, modules_to_not_convert: ["model.layers.*.mlp.gate"] },
    } as never);
    const ctx = blockCtx(parsed.text, b);
    linearWeight(ctx, "model.layers.0.self_attn.o_proj.weight", [300, 129], "attn_o");
    linearWeight(ctx, "model.layers.0.mlp.gate.weight", [8, 32], "router");
    const g = b.finish("tokens", { verify: false });
    expect(g.weights.map((w) => [w.name, w.dtype, w.shape])).toEqual([
      ["model.layers.0.self_attn.o_proj.weight", "F8_E4M3", [300, 129]],
      ["model.layers.0.self_attn.o_proj.weight_scale_inv", "F32", [3, 2]],
      ["model.layers.0.mlp.gate.weight", "BF16", [8, 32]],
    ]);
    expect(g.weights.map(isQuantCompanion)).toEqual([false, true, false]);
  });
});

describe("DeepSeek routing attributes", () => {
  const cfgOf = (edit: Record<string, unknown>) =>
    parseConfigObject({ ...TINY.deepseek_v2!(), ...edit }, "v2.json").text;
  it("V2 either renormalises or scales, never both (modeling_deepseek.py MoEGate)", () => {
    expect(deepseekRouting(cfgOf({ norm_topk_prob: false }), "v2")).toMatchObject({
      normalize: false,
      routedScale: 1.5,
    });
    expect(deepseekRouting(cfgOf({ norm_topk_prob: true }), "v2")).toMatchObject({
      normalize: true,
      routedScale: 1,
    });
    expect(deepseekRouting(cfgOf({ norm_topk_prob: true }), "v3")).toMatchObject({
      normalize: true,
      routedScale: 1.5,
    });
  });
  it("limits groups by their max for group_limited_greedy and not at all for greedy", () => {
    expect(deepseekRouting(cfgOf({}), "v2").groups).toEqual({ count: 4, topk: 2, score: "max" });
    expect(deepseekRouting(cfgOf({ topk_method: "greedy" }), "v2").groups).toBeUndefined();
    expect(deepseekRouting(cfgOf({}), "v2").correctionBias).toBe(false);
  });
});

describe("user errors", () => {
  it("rejects bidirectional Gemma 3 attention with exit 3", () => {
    const raw = TINY.gemma3!();
    (raw.text_config as Record<string, unknown>).use_bidirectional_attention = true;
    let err: unknown;
    try {
      graphOf(raw, "bidir.json");
    } catch (e) {
      err = e;
    }
    expect(isPccxError(err) && err.code === "resolver/bidirectional-attention").toBe(true);
    expect(isPccxError(err) && err.exitCode).toBe(ExitCode.UNSUPPORTED);
  });
});
