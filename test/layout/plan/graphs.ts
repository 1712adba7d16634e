/**
 * Graphs for the layout tests, built by hand with GraphBuilder at any size (real configs' numbers),
 * with the real HF tensor names: Llama-style dense decoders (optionally sliding windows, biases,
 * tied head), GPT-2 style Conv1D ([in, out] storage), and a stacked-expert MoE.
 */
import {
  GraphBuilder,
  type ModelGraph,
  type ValueId,
  type WeightDType,
  type WeightRole,
} from "../../../src/resolver/graph/index.js";

export interface LlamaDims {
  readonly hidden: number;
  readonly inter: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocab: number;
  readonly tied?: boolean;
  /** Sliding window on even layers (Mistral/Gemma-style alternation). */
  readonly window?: number;
  readonly bias?: boolean;
  readonly dtype?: WeightDType;
  readonly normOffset?: 0 | 1;
  /** Layers ≥ this read the cache of layer (l − shareFrom) … (Gemma 3n KV sharing). */
  readonly shareFrom?: number;
}

export const LLAMA_31_8B: LlamaDims = {
  hidden: 4096,
  inter: 14336,
  layers: 32,
  heads: 32,
  kvHeads: 8,
  headDim: 128,
  vocab: 128256,
};

export const LLAMA_32_1B: LlamaDims = {
  hidden: 2048,
  inter: 8192,
  layers: 16,
  heads: 32,
  kvHeads: 8,
  headDim: 64,
  vocab: 128256,
  tied: true,
};

export function llamaGraph(d: LlamaDims): ModelGraph {
  const dtype = d.dtype ?? "BF16";
  const H = d.hidden;
  const g = new GraphBuilder({
    modelType: "llama",
    plugin: "test-llama",
    numLayers: d.layers,
    hiddenSize: H,
    vocabSize: d.vocab,
  });
  const w = (name: string, shape: number[], role: WeightRole) => g.weight({ name, shape, dtype, role });
  const norm = (x: ValueId, name: string) =>
    g.rmsNorm(
      x,
      { weight: w(`${name}.weight`, [H], "norm"), eps: 1e-5, weightOffset: d.normOffset ?? 0 },
      {
        name: name.split(".").pop()!,
      },
    );
  const table = w("model.embed_tokens.weight", [d.vocab, H], "embedding");
  let x = g.embedding(g.tokens, table, undefined, { name: "embed" });
  for (let l = 0; l < d.layers; l++) {
    const p = `model.layers.${l}`;
    g.inLayer(l, () => {
      const h = norm(x, `${p}.input_layernorm`);
      const proj = (n: string, out: number, inp: number, role: WeightRole, input: ValueId) =>
        g.linear(
          input,
          w(`${p}.${n}.weight`, [out, inp], role),
          d.bias && n.includes("attn") && !n.includes("o_proj")
            ? w(`${p}.${n}.bias`, [out], "bias")
            : undefined,
          { name: n.split(".").pop()! },
        );
      const q = proj("self_attn.q_proj", d.heads * d.headDim, H, "attn_q", h);
      const shared = d.shareFrom !== undefined && l >= d.shareFrom;
      const sliding = d.window !== undefined && l % 2 === 0;
      const attn = g.attention({
        q,
        kv: shared
          ? { source: "shared", layer: l - d.shareFrom! }
          : {
              source: "own",
              k: proj("self_attn.k_proj", d.kvHeads * d.headDim, H, "attn_k", h),
              v: proj("self_attn.v_proj", d.kvHeads * d.headDim, H, "attn_v", h),
            },
        heads: d.heads,
        kvHeads: d.kvHeads,
        headDim: d.headDim,
        vHeadDim: d.headDim,
        scale: d.headDim ** -0.5,
        mask: GraphBuilder.mask(sliding ? d.window : undefined),
      });
      x = g.add(x, proj("self_attn.o_proj", H, d.heads * d.headDim, "attn_o", attn), { name: "resid_attn" });
      const h2 = norm(x, `${p}.post_attention_layernorm`);
      const gate = proj("mlp.gate_proj", d.inter, H, "mlp_gate", h2);
      const up = proj("mlp.up_proj", d.inter, H, "mlp_up", h2);
      const act = g.glu(gate, up, { fn: "silu" }, { name: "act" });
      x = g.add(x, proj("mlp.down_proj", H, d.inter, "mlp_down", act), { name: "resid_mlp" });
    });
  }
  const head = d.tied ? g.tie(table, "lm_head") : w("lm_head.weight", [d.vocab, H], "lm_head");
  return g.finish(g.linear(norm(x, "model.norm"), head, undefined, { name: "logits" }));
}

/** GPT-2 style: learned positions, LayerNorm with bias, Conv1D weights stored [in, out], tied head. */
export function gpt2Graph(d: {
  hidden: number;
  layers: number;
  vocab: number;
  positions: number;
}): ModelGraph {
  const H = d.hidden;
  const g = new GraphBuilder({
    modelType: "gpt2",
    plugin: "test-gpt2",
    numLayers: d.layers,
    hiddenSize: H,
    vocabSize: d.vocab,
  });
  const w = (name: string, shape: number[], role: WeightRole, transposed = false) =>
    g.weight({ name, shape, dtype: "F32", role, ...(transposed ? { transposed } : {}) });
  const wte = w("transformer.wte.weight", [d.vocab, H], "embedding");
  const wpe = w("transformer.wpe.weight", [d.positions, H], "position_embedding");
  let x = g.emit(
    "position_embedding",
    { input: g.embedding(g.tokens, wte, undefined, { name: "tok" }), table: wpe },
    { name: "embed" },
  )[0]!;
  const ln = (name: string, input: ValueId) =>
    g.layerNorm(input, w(`${name}.weight`, [H], "norm"), w(`${name}.bias`, [H], "bias"), 1e-5, {
      name: name.split(".").pop()!,
    });
  for (let l = 0; l < d.layers; l++) {
    const p = `transformer.h.${l}`;
    g.inLayer(l, () => {
      const h = ln(`${p}.ln_1`, x);
      const ca = w(`${p}.attn.c_attn.weight`, [H, 3 * H], "attn_qkv", true);
      const cab = w(`${p}.attn.c_attn.bias`, [3 * H], "bias");
      const part = (i: number, name: string) =>
        g.linear(
          h,
          { weight: ca, rows: { start: i * H, count: H } },
          { weight: cab, slice: { start: i * H, count: H } },
          { name },
        );
      const attn = g.attention({
        q: part(0, "q"),
        kv: { source: "own", k: part(1, "k"), v: part(2, "v") },
        heads: 2,
        kvHeads: 2,
        headDim: H / 2,
        vHeadDim: H / 2,
        scale: (H / 2) ** -0.5,
        mask: { kind: "causal" },
      });
      const cp = w(`${p}.attn.c_proj.weight`, [H, H], "attn_o", true);
      x = g.add(x, g.linear(attn, cp, w(`${p}.attn.c_proj.bias`, [H], "bias"), { name: "attn_out" }), {
        name: "r1",
      });
      const h2 = ln(`${p}.ln_2`, x);
      const fc = g.linear(
        h2,
        w(`${p}.mlp.c_fc.weight`, [H, 4 * H], "mlp_up", true),
        w(`${p}.mlp.c_fc.bias`, [4 * H], "bias"),
        { name: "fc" },
      );
      const act = g.activation(fc, "gelu_tanh", { name: "gelu" });
      const pr = g.linear(
        act,
        w(`${p}.mlp.c_proj.weight`, [4 * H, H], "mlp_down", true),
        w(`${p}.mlp.c_proj.bias`, [H], "bias"),
        { name: "proj" },
      );
      x = g.add(x, pr, { name: "r2" });
    });
  }
  const head = g.tie(wte, "lm_head");
  return g.finish(g.linear(ln("transformer.ln_f", x), head, undefined, { name: "logits" }));
}

/** One MoE layer with stacked [E, out, in] experts (gate, up, down) and a router. */
export function moeGraph(d: {
  hidden: number;
  inter: number;
  experts: number;
  topK: number;
  vocab: number;
}): ModelGraph {
  const H = d.hidden;
  const g = new GraphBuilder({
    modelType: "moe",
    plugin: "test-moe",
    numLayers: 1,
    hiddenSize: H,
    vocabSize: d.vocab,
  });
  const w = (name: string, shape: number[], role: WeightRole) =>
    g.weight({ name, shape, dtype: "BF16", role });
  const table = w("model.embed_tokens.weight", [d.vocab, H], "embedding");
  const x = g.embedding(g.tokens, table, undefined, { name: "embed" });
  const out = g.inLayer(0, () => {
    const p = "model.layers.0.mlp";
    const h = g.rmsNorm(
      x,
      { weight: w("model.layers.0.post_attention_layernorm.weight", [H], "norm"), eps: 1e-5 },
      { name: "n" },
    );
    const logits = g.linear(h, w(`${p}.router.weight`, [d.experts, H], "router"), undefined, {
      name: "router",
    });
    const [indices, weights] = g.emit(
      "moe_route",
      { logits, numExperts: d.experts, topK: d.topK, scoring: "softmax", normalize: true, routedScale: 1 },
      { name: "route" },
    );
    const y = g.emit(
      "moe_experts",
      {
        input: h,
        indices: indices!,
        weights: weights!,
        numExperts: d.experts,
        intermediate: d.inter,
        gate: {
          kind: "stacked",
          weight: w(`${p}.experts.gate_proj`, [d.experts, d.inter, H], "expert_gate"),
        },
        up: { kind: "stacked", weight: w(`${p}.experts.up_proj`, [d.experts, d.inter, H], "expert_up") },
        down: {
          kind: "stacked",
          weight: w(`${p}.experts.down_proj`, [d.experts, H, d.inter], "expert_down"),
        },
        act: { fn: "silu" },
      },
      { name: "experts" },
    )[0]!;
    return g.add(x, y, { name: "resid" });
  });
  const head = w("lm_head.weight", [d.vocab, H], "lm_head");
  return g.finish(g.linear(out, head, undefined, { name: "logits" }));
}
