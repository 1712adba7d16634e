/**
 * The gpt2 plugin. HF GPT-2 safetensors name tensors without the `transformer.` prefix (`wte.weight`,
 * `h.0.attn.c_attn.weight`, `ln_f.weight`: onnxruntime/mobius PR #113 "HF safetensors for GPT-2 …
 * store layer weights without the outer transformer. prefix"); Conv1D weights are stored [in, out]
 * (c_attn [768, 2304]); the `h.N.attn.bias` mask buffers are not parameters and are not declared.
 */
import { describe, expect, it } from "vitest";
import { parseConfigObject } from "../../../src/parser/config/index.js";
import type { AttentionOp, LinearOp } from "../../../src/resolver/index.js";
import { countParams, resolve } from "../../../src/resolver/index.js";
import { exampleRaw, expectCacheConsistent, layerWeights, parseFile, sourcesOf } from "./tiny.js";

const parseTiny = (raw: Record<string, unknown>) => parseConfigObject(raw, "tiny-gpt2.json");

const GPT2_LAYER0 = [
  "h.0.ln_1.weight",
  "h.0.ln_1.bias",
  "h.0.attn.c_attn.weight",
  "h.0.attn.c_attn.bias",
  "h.0.attn.c_proj.weight",
  "h.0.attn.c_proj.bias",
  "h.0.ln_2.weight",
  "h.0.ln_2.bias",
  "h.0.mlp.c_fc.weight",
  "h.0.mlp.c_fc.bias",
  "h.0.mlp.c_proj.weight",
  "h.0.mlp.c_proj.bias",
];

describe("gpt2: GPT-2 (124M)", () => {
  for (const { where, path } of sourcesOf("openai-community__gpt2")) {
    it(`resolves from ${where} with HF names, transposed Conv1D, learned positions, tied head`, () => {
      const r = resolve(parseFile(path));
      const g = r.graph;
      expect(r.plugin).toBe("gpt2");
      const l0 = layerWeights(g, 0);
      expect([...l0.keys()].sort()).toEqual([...GPT2_LAYER0].sort());
      expect(l0.get("h.0.attn.c_attn.weight")).toMatchObject({
        shape: [768, 2304],
        transposed: true,
        role: "attn_qkv",
        dtype: "F32",
      });
      expect(l0.get("h.0.mlp.c_fc.weight")).toMatchObject({ shape: [768, 3072], transposed: true });
      expect(l0.get("h.0.mlp.c_proj.weight")).toMatchObject({ shape: [3072, 768], transposed: true });
      expect(g.weights.some((w) => w.name.startsWith("transformer."))).toBe(false);
      expect(g.weights.some((w) => /^h\.\d+\.attn\.bias$/.test(w.name))).toBe(false);
      expect(g.weights.find((w) => w.name === "wpe.weight")).toMatchObject({
        shape: [1024, 768],
        role: "position_embedding",
      });
      expect(g.weights.find((w) => w.role === "lm_head")).toMatchObject({
        name: "wte.weight",
        tiedTo: "wte.weight",
      });
      expect(r.diagnostics.map((d) => d.code)).toContain("resolver/dtype-default");
      // Prologue: embedding, learned positions; layer: ln_1, c_attn split, attention, c_proj, add, ln_2, mlp, add.
      expect(g.ops.slice(0, 2).map((o) => o.kind)).toEqual(["embedding", "position_embedding"]);
      expect(g.ops.filter((o) => o.layer === 0).map((o) => o.kind)).toEqual([
        "layer_norm",
        "linear",
        "linear",
        "linear",
        "attention",
        "linear",
        "add",
        "layer_norm",
        "linear",
        "activation",
        "linear",
        "add",
      ]);
      const [q, k, v] = g.ops.filter((o): o is LinearOp => o.kind === "linear" && o.layer === 0);
      expect([q, k, v].map((x) => [x!.weight.rows, x!.bias?.slice])).toEqual([
        [
          { start: 0, count: 768 },
          { start: 0, count: 768 },
        ],
        [
          { start: 768, count: 768 },
          { start: 768, count: 768 },
        ],
        [
          { start: 1536, count: 768 },
          { start: 1536, count: 768 },
        ],
      ]);
      expect(g.ops.find((o) => o.kind === "activation")).toMatchObject({ fn: "gelu_tanh" });
      const att = g.ops.find((o): o is AttentionOp => o.kind === "attention")!;
      expect(att).toMatchObject({
        heads: 12,
        kvHeads: 12,
        headDim: 64,
        mask: { kind: "causal" },
        scale: 0.125,
      });
      expect(g.ops.some((o) => o.kind === "rope")).toBe(false);
      expect(g.ops.find((o) => o.kind === "layer_norm")).toMatchObject({
        eps: 1e-5,
        weight: { weight: "h.0.ln_1.weight" },
        bias: { weight: "h.0.ln_1.bias" },
      });
      expect(countParams(g).total).toBe(124_439_808);
    });
  }
  it("applies scale_attn_by_inverse_layer_idx as 1/(layer+1) on top of 1/sqrt(head_dim)", () => {
    const raw = exampleRaw("openai-community__gpt2");
    const g = resolve(parseTiny({ ...raw, n_layer: 3, scale_attn_by_inverse_layer_idx: true })).graph;
    const scales = g.ops.filter((o): o is AttentionOp => o.kind === "attention").map((a) => a.scale);
    expect(scales).toEqual([0.125, 0.125 / 2, 0.125 / 3]);
  });
});

describe("gpt2: tiny golden sanity", () => {
  it("decoding with the KV cache equals recomputing the prefix", async () => {
    const raw = exampleRaw("openai-community__gpt2");
    const tiny = { ...raw, n_embd: 64, n_head: 4, n_layer: 2, vocab_size: 128, n_positions: 32, n_ctx: 32 };
    const g = resolve(parseTiny(tiny)).graph;
    expect(g.weights.find((w) => w.name === "h.1.attn.c_attn.weight")?.shape).toEqual([64, 192]);
    await expectCacheConsistent(g, [11, 22, 33, 44, 55], 4);
  });
});
