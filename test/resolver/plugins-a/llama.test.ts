/**
 * The llama plugin on Llama 3.2 1B / 3.1 8B (llama3 RoPE scaling), TinyLlama (untied, 4 KV heads)
 * and SmolLM2 (tied, 9 heads / 3 KV heads), and a tiny shrunk Llama through the golden reference.
 * HF names: model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm,
 * mlp.{gate,up,down}_proj}.weight, model.embed_tokens.weight, model.norm.weight, lm_head.weight
 * (transformers LlamaForCausalLM state dict; e.g. the Qwen3 tensor list found with find_string
 * "model.layers.0.self_attn.q_proj.weight" uses the same llama names).
 */
import { describe, expect, it } from "vitest";
import type { AttentionOp, LinearOp, RopeOp } from "../../../src/resolver/index.js";
import { resolve } from "../../../src/resolver/index.js";
import {
  configPath,
  EXAMPLE_CONFIGS,
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

const LLAMA_LAYER0 = [
  "model.layers.0.input_layernorm.weight",
  "model.layers.0.self_attn.q_proj.weight",
  "model.layers.0.self_attn.k_proj.weight",
  "model.layers.0.self_attn.v_proj.weight",
  "model.layers.0.self_attn.o_proj.weight",
  "model.layers.0.post_attention_layernorm.weight",
  "model.layers.0.mlp.gate_proj.weight",
  "model.layers.0.mlp.up_proj.weight",
  "model.layers.0.mlp.down_proj.weight",
];

/** Op kinds of layer 0 in order: transformers' LlamaDecoderLayer.forward. */
const LLAMA_LAYER_ORDER = [
  "rms_norm", // input_layernorm
  "linear", // q_proj
  "rope",
  "linear", // k_proj
  "rope",
  "linear", // v_proj
  "attention",
  "linear", // o_proj
  "add", // residual
  "rms_norm", // post_attention_layernorm
  "linear", // gate_proj
  "linear", // up_proj
  "glu", // silu(gate) * up
  "linear", // down_proj
  "add", // residual
];

warnSkipped("llama configs from ../shared (Llama-3.1-8B, Llama-3.2-3B, TinyLlama, SmolLM2)");

describe("llama: Llama 3.2 1B", () => {
  for (const { where, path } of sourcesOf("meta-llama__Llama-3.2-1B")) {
    it(`resolves from ${where} with HF names, shapes, dtype and llama3 rope`, () => {
      const r = resolve(parseFile(path));
      const g = r.graph;
      expect(r.plugin).toBe("llama");
      expect(g.meta).toMatchObject({
        modelType: "llama",
        numLayers: 16,
        hiddenSize: 2048,
        vocabSize: 128256,
      });
      const l0 = layerWeights(g, 0);
      expect([...l0.keys()].sort()).toEqual([...LLAMA_LAYER0].sort());
      expect(l0.get("model.layers.0.self_attn.q_proj.weight")).toMatchObject({
        shape: [2048, 2048],
        dtype: "BF16",
        role: "attn_q",
      });
      expect(l0.get("model.layers.0.self_attn.k_proj.weight")).toMatchObject({
        shape: [512, 2048],
        role: "attn_k",
      });
      expect(l0.get("model.layers.0.mlp.down_proj.weight")).toMatchObject({
        shape: [2048, 8192],
        role: "mlp_down",
      });
      // Tied head: no lm_head tensor, a tie to the embedding.
      const head = g.weights.find((w) => w.role === "lm_head");
      expect(head).toMatchObject({ name: "model.embed_tokens.weight", tiedTo: "model.embed_tokens.weight" });
      expect(g.weights.some((w) => w.name === "lm_head.weight")).toBe(false);
      const att = g.ops.find((o) => o.kind === "attention" && o.layer === 0) as AttentionOp;
      expect(att).toMatchObject({ heads: 32, kvHeads: 8, headDim: 64, mask: { kind: "causal" } });
      expect(att.scale).toBeCloseTo(1 / 8, 15);
      const rope = g.ops.find((o) => o.kind === "rope") as RopeOp;
      expect(rope).toMatchObject({ rotaryDim: 64, style: "half", offset: 0 });
      expect(rope.rope).toEqual({
        type: "llama3",
        theta: 500000,
        factor: 32,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 8192,
      });
      expect(g.ops.filter((o) => o.layer === 0).map((o) => o.kind)).toEqual(LLAMA_LAYER_ORDER);
      // Provenance: every op of a layer names its layer and at least one config key.
      for (const op of g.ops) expect(op.keys.length).toBeGreaterThan(0);
    });
  }
  it("reads the residual from before the norm (pre-norm) and adds the o projection", () => {
    const g = graphOf(configPath(EXAMPLE_CONFIGS, "meta-llama__Llama-3.2-1B")!);
    const ops = g.ops.filter((o) => o.layer === 1);
    const norm = ops[0]!;
    const add = ops[8]!;
    const o = ops[7] as LinearOp;
    expect(norm.kind).toBe("rms_norm");
    expect(add).toMatchObject({ kind: "add", b: o.outputs[0] });
    // The residual input of layer 1 is the output of layer 0, which also feeds the norm.
    expect((add as { a: string }).a).toBe((norm as { input: string }).input);
    expect(o.weight.weight).toBe("model.layers.1.self_attn.o_proj.weight");
  });
});

describe.skipIf(!HAVE_SHARED)("llama: other published configs", () => {
  it("Llama 3.1 8B: 32 layers, GQA 32/8, untied lm_head [128256, 4096]", () => {
    const g = graphOf(configPath(SHARED_CONFIGS, "meta-llama__Llama-3.1-8B")!);
    expect(g.meta.numLayers).toBe(32);
    expect(g.weights.find((w) => w.name === "lm_head.weight")).toMatchObject({
      shape: [128256, 4096],
      role: "lm_head",
    });
    const att = g.ops.find((o) => o.kind === "attention") as AttentionOp;
    expect(att.heads / att.kvHeads).toBe(4);
  });
  it("TinyLlama: 22 layers, GQA 32/4 (k_proj [256, 2048]), default rope theta 10000", () => {
    const g = graphOf(configPath(SHARED_CONFIGS, "TinyLlama__TinyLlama-1.1B-Chat-v1.0")!);
    expect(g.meta.numLayers).toBe(22);
    expect(layerWeights(g, 0).get("model.layers.0.self_attn.k_proj.weight")?.shape).toEqual([256, 2048]);
    const att = g.ops.find((o) => o.kind === "attention") as AttentionOp;
    expect([att.heads, att.kvHeads]).toEqual([32, 4]);
    expect((g.ops.find((o) => o.kind === "rope") as RopeOp).rope).toEqual({ type: "default", theta: 10000 });
  });
  it("SmolLM2-135M: tied embeddings, 9 heads over 3 KV heads of 64", () => {
    const g = graphOf(configPath(SHARED_CONFIGS, "HuggingFaceTB__SmolLM2-135M-Instruct")!);
    expect(g.weights.find((w) => w.role === "lm_head")?.tiedTo).toBe("model.embed_tokens.weight");
    const att = g.ops.find((o) => o.kind === "attention") as AttentionOp;
    expect([att.heads, att.kvHeads, att.headDim]).toEqual([9, 3, 64]);
  });
});

describe("llama: tiny golden sanity", () => {
  it("decoding with the KV cache equals recomputing the prefix (llama3 rope, GQA 4/2, tied)", async () => {
    const raw = exampleRaw("meta-llama__Llama-3.2-1B");
    const g = resolve(shrink(raw)).graph;
    expect(g.weights.find((w) => w.role === "attn_k")?.shape).toEqual([32, 64]);
    const r = await expectCacheConsistent(g, [1, 5, 9, 2, 77, 3], 4);
    expect(r.compared).toBe(4 * 128);
  });
});
