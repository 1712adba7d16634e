/**
 * The shared block builders on their own: options the llama-like plugins do not use (stacked,
 * transposed, interleaved experts; shared experts with a gate; KV sharing; k = v; sinks; softcap;
 * weightless and bias-free norms) must still produce graphs that verify, with the right views and
 * names. Also the RopeParams → RopeSpec mapping and the exit-3 errors for values the graph cannot
 * express.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ExitCode, PccxError } from "../../src/diag/index.js";
import { parseConfigObject, type RopeParams, type TextConfig } from "../../src/parser/config/index.js";
import {
  type AttentionOp,
  actFnOf,
  attentionBlock,
  type BlockCtx,
  blockCtx,
  GraphBuilder,
  type LinearOp,
  lmHead,
  type MoeExpertsOp,
  moeBlock,
  norm,
  ropeSpecOf,
  setCheckpointDtype,
  tokenEmbedding,
  type ValueId,
  verifyGraph,
  weightDtypeOfTorch,
} from "../../src/resolver/index.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/configs", import.meta.url));
const base = JSON.parse(readFileSync(`${EXAMPLES}/meta-llama__Llama-3.2-1B/config.json`, "utf8")) as Record<
  string,
  unknown
>;
const tiny = (extra: Record<string, unknown> = {}): TextConfig =>
  parseConfigObject(
    {
      ...base,
      hidden_size: 32,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      intermediate_size: 48,
      num_hidden_layers: 2,
      vocab_size: 16,
      ...extra,
    },
    "tiny.json",
  ).text;

/** Builds embedding → fn → head in a fresh builder and returns the verified graph. */
function build(cfg: TextConfig, fn: (ctx: BlockCtx, x: ValueId) => ValueId) {
  const b = new GraphBuilder({ modelType: "t", plugin: "t", numLayers: 2, hiddenSize: 32, vocabSize: 16 });
  const ctx = blockCtx(cfg, b);
  const { x, table } = tokenEmbedding(ctx);
  const y = b.inLayer(0, () => fn(ctx, x));
  lmHead(ctx, { input: y, embedding: table, tied: true });
  const g = b.finish("logits", { verify: false });
  expect(verifyGraph(g).filter((d) => d.severity === "error")).toEqual([]);
  return g;
}

describe("norm", () => {
  it("builds a bias-free LayerNorm, a weightless RMSNorm and a Gemma (1 + w) RMSNorm", () => {
    const g = build(tiny(), (ctx, x) => {
      const a = norm(ctx, x, { name: "ln", kind: "layernorm", bias: false, eps: 1e-5 });
      const b = norm(ctx, a, { name: "unused", kind: "rmsnorm", weight: false });
      return norm(ctx, b, { name: "gn", weightOffset: 1 });
    });
    const ops = g.ops.filter((o) => o.layer === 0);
    expect(ops[0]).toMatchObject({ kind: "layer_norm", eps: 1e-5, weight: { weight: "ln.weight" } });
    expect(ops[0]).not.toHaveProperty("bias");
    expect(ops[1]).toMatchObject({ kind: "rms_norm", groupSize: 32 });
    expect(ops[1]).not.toHaveProperty("weight");
    expect(ops[2]).toMatchObject({ kind: "rms_norm", weightOffset: 1, weight: { weight: "gn.weight" } });
    expect(g.weights.map((w) => w.name)).not.toContain("unused.weight");
  });
});

describe("attentionBlock options", () => {
  it("separate q/k/v with q/k norms, weightless v norm, softcap, sinks and k = v", () => {
    const g = build(tiny(), (ctx, x) =>
      attentionBlock(ctx, {
        layer: 0,
        prefix: "L0.attn",
        input: x,
        qkv: { kind: "separate", valueFromKey: true },
        qNorm: { module: "q_norm" },
        kNorm: { module: "k_norm", weightOffset: 1 },
        vNorm: { module: "v_norm", weight: false },
        softcap: 50,
        sinks: "sinks",
        scale: 1,
      }),
    );
    expect(g.weights.map((w) => w.name)).not.toContain("L0.attn.v_proj.weight");
    const att = g.ops.find((o): o is AttentionOp => o.kind === "attention")!;
    expect(att).toMatchObject({
      softcap: 50,
      scale: 1,
      sinks: { weight: "L0.attn.sinks" },
      heads: 4,
      kvHeads: 2,
    });
    // v = weightless norm of the raw k projection (before the k norm and rope).
    const kLinear = g.ops.find(
      (o): o is LinearOp => o.kind === "linear" && o.weight.weight === "L0.attn.k_proj.weight",
    )!;
    const vNorm = g.ops.find((o) => att.kv.source === "own" && o.outputs[0] === att.kv.v)!;
    expect(vNorm).toMatchObject({ kind: "rms_norm", groupSize: 8, input: kLinear.outputs[0] });
    expect(vNorm).not.toHaveProperty("weight");
  });
  it("normalizes q and k over all heads with span: all (weights of heads·head_dim)", () => {
    const g = build(tiny(), (ctx, x) =>
      attentionBlock(ctx, {
        layer: 0,
        prefix: "a",
        input: x,
        qNorm: { module: "q_norm", span: "all" },
        kNorm: { module: "k_norm", span: "all" },
      }),
    );
    expect(g.weights.find((w) => w.name === "a.q_norm.weight")?.shape).toEqual([32]);
    expect(g.weights.find((w) => w.name === "a.k_norm.weight")?.shape).toEqual([16]);
    expect(
      g.ops.filter((o) => o.kind === "rms_norm" && o.layer === 0).map((o) => "groupSize" in o && o.groupSize),
    ).toEqual([32, 16]);
  });
  it("reads another layer's cache when KV is shared and declares its k/v tensors unused", () => {
    const b = new GraphBuilder({ modelType: "t", plugin: "t", numLayers: 2, hiddenSize: 32, vocabSize: 16 });
    const ctx = blockCtx(tiny(), b);
    const { x, table } = tokenEmbedding(ctx);
    const y0 = b.inLayer(0, () =>
      attentionBlock(ctx, { layer: 0, prefix: "l0", input: x, kNorm: { module: "k_norm" } }),
    );
    const y1 = b.inLayer(1, () =>
      attentionBlock(ctx, {
        layer: 1,
        prefix: "l1",
        input: y0,
        kvSharedFrom: 0,
        kNorm: { module: "k_norm" },
      }),
    );
    lmHead(ctx, { input: y1, embedding: table, tied: true });
    const g = b.finish("logits");
    const att1 = g.ops.find((o): o is AttentionOp => o.kind === "attention" && o.layer === 1)!;
    expect(att1.kv).toEqual({ source: "shared", layer: 0 });
    for (const n of ["l1.k_proj.weight", "l1.v_proj.weight", "l1.k_norm.weight"])
      expect(g.weights.find((w) => w.name === n)?.unused).toBe(
        "KV shared from layer 0: the projection is not used",
      );
  });
  it("fused transposed qkv with bias slices every part of the bias", () => {
    const g = build(tiny(), (ctx, x) =>
      attentionBlock(ctx, {
        layer: 0,
        prefix: "h.0.attn",
        input: x,
        qkv: { kind: "fused", qkv: "c_attn" },
        transposed: true,
        qkvBias: true,
        rope: null,
      }),
    );
    expect(g.weights.find((w) => w.name === "h.0.attn.c_attn.weight")).toMatchObject({
      shape: [32, 64],
      transposed: true,
    });
    const parts = g.ops.filter(
      (o): o is LinearOp => o.kind === "linear" && o.weight.weight === "h.0.attn.c_attn.weight",
    );
    expect(parts.map((p) => [p.weight.rows, p.bias?.slice])).toEqual([
      [
        { start: 0, count: 32 },
        { start: 0, count: 32 },
      ],
      [
        { start: 32, count: 16 },
        { start: 32, count: 16 },
      ],
      [
        { start: 48, count: 16 },
        { start: 48, count: 16 },
      ],
    ]);
  });
});

describe("moeBlock layouts", () => {
  const cfg = tiny();
  it("stacked, transposed, interleaved gate/up with biases (gpt-oss style)", () => {
    const g = build(cfg, (ctx, x) =>
      moeBlock(ctx, {
        layer: 0,
        input: x,
        router: "m.router.weight",
        routerBias: "m.router.bias",
        numExperts: 4,
        topK: 2,
        intermediate: 6,
        normalize: true,
        experts: {
          kind: "stacked",
          gateUp: "m.experts.gate_up_proj",
          gateUpBias: "m.experts.gate_up_proj_bias",
          down: "m.experts.down_proj",
          downBias: "m.experts.down_proj_bias",
          transposed: true,
          interleaved: true,
        },
        act: { fn: "clamped_swiglu", alpha: 1.702, limit: 7 },
      }),
    );
    const ex = g.ops.find((o): o is MoeExpertsOp => o.kind === "moe_experts")!;
    expect(ex.gate).toEqual({
      kind: "stacked",
      weight: "m.experts.gate_up_proj",
      rows: { start: 0, count: 6, step: 2 },
    });
    expect(ex.up).toEqual({
      kind: "stacked",
      weight: "m.experts.gate_up_proj",
      rows: { start: 1, count: 6, step: 2 },
    });
    expect(ex.upBias).toEqual({
      kind: "stacked",
      weight: "m.experts.gate_up_proj_bias",
      slice: { start: 1, count: 6, step: 2 },
    });
    expect(g.weights.find((w) => w.name === "m.experts.gate_up_proj")).toMatchObject({
      shape: [4, 32, 12],
      transposed: true,
    });
    expect(g.weights.find((w) => w.name === "m.experts.down_proj")).toMatchObject({ shape: [4, 6, 32] });
  });
  it("per-expert experts plus a sigmoid-gated shared expert, summed", () => {
    const g = build(cfg, (ctx, x) =>
      moeBlock(ctx, {
        layer: 0,
        input: x,
        router: "m.gate.weight",
        numExperts: 3,
        topK: 1,
        intermediate: 8,
        scoring: "sigmoid",
        routedScale: 2.5,
        correctionBias: "m.gate.e_score_correction_bias",
        groups: { count: 3, topk: 1, score: "max" },
        experts: {
          kind: "per_expert",
          prefix: "m.experts",
          gate: "gate_proj",
          up: "up_proj",
          down: "down_proj",
        },
        shared: { prefix: "m.shared_experts", intermediate: 16, gate: "m.shared_expert_gate.weight" },
      }),
    );
    expect(g.ops.find((o) => o.kind === "moe_route")).toMatchObject({
      scoring: "sigmoid",
      routedScale: 2.5,
      correctionBias: { weight: "m.gate.e_score_correction_bias" },
    });
    expect(g.weights.find((w) => w.name === "m.shared_experts.gate_proj.weight")).toMatchObject({
      shape: [16, 32],
      role: "shared_expert_gate",
    });
    const kinds = g.ops.filter((o) => o.layer === 0).map((o) => o.kind);
    expect(kinds.slice(-4)).toEqual(["linear", "activation", "mul", "add"]);
  });
});

describe("ropeSpecOf", () => {
  const cfg = tiny();
  const p = (x: Partial<RopeParams>): RopeParams => ({
    rope_type: "default",
    rope_theta: 1e4,
    partial_rotary_factor: 1,
    rotary_dim: 8,
    ...x,
  });
  it("maps every supported type onto the graph's RopeSpec", () => {
    expect(ropeSpecOf(p({ rope_type: "linear", factor: 2 }), cfg)).toEqual({
      type: "linear",
      theta: 1e4,
      factor: 2,
    });
    expect(ropeSpecOf(p({ rope_type: "dynamic", factor: 2 }), cfg)).toEqual({
      type: "dynamic",
      theta: 1e4,
      factor: 2,
      maxPositionEmbeddings: cfg.max_position_embeddings,
    });
    expect(
      ropeSpecOf(p({ rope_type: "yarn", factor: 4, original_max_position_embeddings: 4096 }), cfg),
    ).toEqual({
      type: "yarn",
      theta: 1e4,
      factor: 4,
      originalMaxPositionEmbeddings: 4096,
      betaFast: 32,
      betaSlow: 1,
      truncate: true,
    });
    expect(ropeSpecOf(p({ rope_type: "proportional", partial_rotary_factor: 0.25 }), cfg)).toEqual({
      type: "proportional",
      theta: 1e4,
      factor: 1,
      partialRotaryFactor: 0.25,
    });
  });
  it("rejects a rope type the graph cannot express with exit 3", () => {
    const e = (() => {
      try {
        ropeSpecOf(p({ rope_type: "mrope" }), cfg);
      } catch (x) {
        return x as PccxError;
      }
    })();
    expect(e).toBeInstanceOf(PccxError);
    expect(e?.exitCode).toBe(ExitCode.UNSUPPORTED);
    expect(e?.message).toContain("mrope");
  });
});

describe("small helpers", () => {
  it("maps torch dtypes and rejects quick_gelu with exit 3", () => {
    expect(["bfloat16", "float16", "torch.float32", "int8", null].map(weightDtypeOfTorch)).toEqual([
      "BF16",
      "F16",
      "F32",
      undefined,
      undefined,
    ]);
    expect(() => actFnOf("quick_gelu")).toThrow(/quick_gelu/);
    expect(actFnOf("gelu_tanh")).toBe("gelu_tanh");
  });
  it("a registered checkpoint dtype reaches every declared weight", () => {
    const b = new GraphBuilder({ modelType: "t", plugin: "t", numLayers: 2, hiddenSize: 32, vocabSize: 16 });
    setCheckpointDtype(b, "F16");
    const ctx = blockCtx(tiny(), b, { defaultDtype: "F32" });
    expect(ctx.dtype).toBe("F16");
    expect(
      blockCtx(
        tiny(),
        new GraphBuilder({ modelType: "t", plugin: "t", numLayers: 1, hiddenSize: 1, vocabSize: 1 }),
        { defaultDtype: "F32" },
      ).dtype,
    ).toBe("F32");
  });
});
