/**
 * Building blocks of the test graphs: sizes, a seeded PRNG, synthetic weights, and Llama-style
 * pieces (norm, attention, gated MLP, embedding, head) with real HF tensor names.
 */
import {
  GraphBuilder,
  type ModelGraph,
  type RopeSpec,
  type ValueId,
} from "../../../src/resolver/graph/index.js";
import { mulberry32 as rng } from "../../../src/util/random.js";
import { MemoryWeights, type WeightTensor } from "../../../src/validate/golden/index.js";

export const V = 32;
export const H = 16;

/** mulberry32: a small deterministic PRNG in [0, 1). */
export { rng };

/** Synthetic weights for every stored tensor: matrices ~U(±1/√in), norms ~1, biases and others small. */
export function randomWeights(g: ModelGraph, seed = 1): MemoryWeights {
  const r = rng(seed);
  const out: [string, WeightTensor][] = [];
  for (const w of g.weights) {
    if (w.tiedTo !== undefined) continue;
    const n = w.shape.reduce((a, b) => a * b, 1);
    const fanIn = w.shape[w.shape.length - 1]!;
    const gen = (): number => {
      const u = 2 * r() - 1;
      if (w.role === "norm") return 1 + 0.2 * u;
      if (w.role === "bias" || w.role === "sinks" || w.role === "scale") return 0.3 * u;
      if (w.role === "embedding" || w.role === "per_layer_embedding" || w.role === "position_embedding")
        return u;
      return u / Math.sqrt(fanIn);
    };
    out.push([w.name, { shape: w.shape, data: Float64Array.from({ length: n }, gen) }]);
  }
  return new MemoryWeights(out);
}

export const meta = (modelType: string, numLayers: number) => ({
  modelType,
  plugin: `test-${modelType}`,
  numLayers,
  hiddenSize: H,
  vocabSize: V,
});
export const pre = (l: number) => `model.layers.${l}`;

/** Gated MLP with separate gate/up/down projections (Llama naming). */
export function mlp(
  g: GraphBuilder,
  x: ValueId,
  l: number,
  inter: number,
  fn: "silu" | "gelu_tanh",
  prefix = "mlp",
): ValueId {
  const w = (n: string, shape: number[], role: "mlp_gate" | "mlp_up" | "mlp_down") =>
    g.weight({
      name: `${pre(l)}.${prefix}.${n}.weight`,
      shape,
      dtype: "BF16",
      role,
      keys: ["intermediate_size"],
    });
  const gate = g.linear(x, w("gate_proj", [inter, H], "mlp_gate"), undefined, { name: "gate" });
  const up = g.linear(x, w("up_proj", [inter, H], "mlp_up"), undefined, { name: "up" });
  const h = g.glu(gate, up, { fn }, { name: "act" });
  return g.linear(h, w("down_proj", [H, inter], "mlp_down"), undefined, { name: "mlp_out" });
}

export function norm(
  g: GraphBuilder,
  x: ValueId,
  name: string,
  offset: 0 | 1 = 0,
  size = H,
  eps = 1e-5,
): ValueId {
  const w = g.weight({
    name: `${name}.weight`,
    shape: [size],
    dtype: "BF16",
    role: "norm",
    keys: ["rms_norm_eps"],
  });
  return g.rmsNorm(x, { weight: w, eps, weightOffset: offset }, { name: name.split(".").pop()! });
}

/** q/k/v projections, rope, GQA attention and o_proj of a Llama-style layer. */
export function llamaAttention(
  g: GraphBuilder,
  x: ValueId,
  l: number,
  a: {
    heads: number;
    kvHeads: number;
    headDim: number;
    rope: RopeSpec;
    window?: number;
    scale?: number;
    softcap?: number;
    bias?: boolean;
    sinks?: boolean;
  },
): ValueId {
  const { heads, kvHeads, headDim } = a;
  const proj = (n: string, out: number, role: "attn_q" | "attn_k" | "attn_v", input = H) => {
    const w = g.weight({ name: `${pre(l)}.self_attn.${n}.weight`, shape: [out, input], dtype: "BF16", role });
    const b = a.bias
      ? g.weight({ name: `${pre(l)}.self_attn.${n}.bias`, shape: [out], dtype: "BF16", role: "bias" })
      : undefined;
    return g.linear(x, w, b, { name: n.replace("_proj", "") });
  };
  const q = proj("q_proj", heads * headDim, "attn_q");
  const k = proj("k_proj", kvHeads * headDim, "attn_k");
  const v = proj("v_proj", kvHeads * headDim, "attn_v");
  const ropeArgs = { headDim, offset: 0, rotaryDim: headDim, style: "half" as const, rope: a.rope };
  const qr = g.rope(q, { ...ropeArgs, heads }, { name: "q_rot", keys: ["rope_theta"] });
  const kr = g.rope(k, { ...ropeArgs, heads: kvHeads }, { name: "k_rot", keys: ["rope_theta"] });
  const sinks = a.sinks
    ? g.weight({ name: `${pre(l)}.self_attn.sinks`, shape: [heads], dtype: "BF16", role: "sinks" })
    : undefined;
  const attn = g.attention({
    q: qr,
    kv: { source: "own", k: kr, v },
    heads,
    kvHeads,
    headDim,
    vHeadDim: headDim,
    scale: a.scale ?? 1 / Math.sqrt(headDim),
    mask: GraphBuilder.mask(a.window),
    ...(a.softcap ? { softcap: a.softcap } : {}),
    ...(sinks ? { sinks: { weight: sinks } } : {}),
  });
  const o = g.weight({
    name: `${pre(l)}.self_attn.o_proj.weight`,
    shape: [H, heads * headDim],
    dtype: "BF16",
    role: "attn_o",
  });
  const ob = a.bias
    ? g.weight({ name: `${pre(l)}.self_attn.o_proj.bias`, shape: [H], dtype: "BF16", role: "bias" })
    : undefined;
  return g.linear(attn, o, ob, { name: "attn_out" });
}

export function embed(g: GraphBuilder, scale?: number): { x: ValueId; table: string } {
  const table = g.weight({
    name: "model.embed_tokens.weight",
    shape: [V, H],
    dtype: "BF16",
    role: "embedding",
    keys: ["vocab_size", "hidden_size"],
  });
  return { x: g.embedding(g.tokens, table, scale, { name: "embed" }), table };
}

export function untiedHead(g: GraphBuilder, x: ValueId): ValueId {
  const w = g.weight({ name: "lm_head.weight", shape: [V, H], dtype: "BF16", role: "lm_head" });
  return g.linear(x, w, undefined, { name: "logits" });
}

export const LLAMA3_ROPE: RopeSpec = {
  type: "llama3",
  theta: 500000,
  factor: 8,
  lowFreqFactor: 1,
  highFreqFactor: 4,
  originalMaxPositionEmbeddings: 8192,
};
