/** Dense test graphs: Llama 3, Gemma 2 and GPT-2 styles. */
import { GraphBuilder, type ModelGraph, type ValueId } from "../../../src/resolver/graph/index.js";
import { embed, H, LLAMA3_ROPE, llamaAttention, meta, mlp, norm, pre, untiedHead, V } from "./fixture-kit.js";

/** Llama 3 style: RMSNorm, GQA with llama3 rope, SwiGLU MLP, untied head. */
export function llamaGraph(): ModelGraph {
  const g = new GraphBuilder(meta("llama", 2));
  let { x } = embed(g);
  for (let l = 0; l < 2; l++) {
    g.inLayer(l, () => {
      const h = norm(g, x, `${pre(l)}.input_layernorm`);
      x = g.add(x, llamaAttention(g, h, l, { heads: 4, kvHeads: 2, headDim: 4, rope: LLAMA3_ROPE }), {
        name: "resid_attn",
      });
      const h2 = norm(g, x, `${pre(l)}.post_attention_layernorm`);
      x = g.add(x, mlp(g, h2, l, 24, "silu"), { name: "resid_mlp" });
    });
  }
  return g.finish(untiedHead(g, norm(g, x, "model.norm")));
}

/** Gemma 2 style: √H embedding scale, (1+w) norms around both blocks, softcaps, sliding + global, tied head. */
export function gemma2Graph(): ModelGraph {
  const g = new GraphBuilder(meta("gemma2", 2));
  const e = embed(g, Math.sqrt(H));
  let x = e.x;
  for (let l = 0; l < 2; l++) {
    g.inLayer(l, () => {
      const h = norm(g, x, `${pre(l)}.input_layernorm`, 1, H, 1e-6);
      const attn = llamaAttention(g, h, l, {
        heads: 4,
        kvHeads: 2,
        headDim: 8,
        rope: { type: "default", theta: 10000 },
        scale: 8 ** -0.5,
        softcap: 50,
        ...(l === 0 ? { window: 3 } : {}),
      });
      x = g.add(x, norm(g, attn, `${pre(l)}.post_attention_layernorm`, 1, H, 1e-6), { name: "resid_attn" });
      const h2 = norm(g, x, `${pre(l)}.pre_feedforward_layernorm`, 1, H, 1e-6);
      const m = mlp(g, h2, l, 24, "gelu_tanh");
      x = g.add(x, norm(g, m, `${pre(l)}.post_feedforward_layernorm`, 1, H, 1e-6), { name: "resid_mlp" });
    });
  }
  const head = g.tie(e.table, "lm_head", ["tie_word_embeddings"]);
  const logits = g.linear(norm(g, x, "model.norm", 1, H, 1e-6), head, undefined, { name: "raw_logits" });
  return g.finish(g.softcap(logits, 30, { name: "logits", keys: ["final_logit_softcapping"] }));
}

/** GPT-2 style: learned positions, LayerNorm with bias, fused Conv1D c_attn split three ways, gelu_new. */
export function gpt2Graph(): ModelGraph {
  const g = new GraphBuilder(meta("gpt2", 1));
  const wte = g.weight({ name: "transformer.wte.weight", shape: [V, H], dtype: "F32", role: "embedding" });
  const wpe = g.weight({
    name: "transformer.wpe.weight",
    shape: [16, H],
    dtype: "F32",
    role: "position_embedding",
  });
  let x = g.emit(
    "position_embedding",
    { input: g.embedding(g.tokens, wte, undefined, { name: "tok" }), table: wpe },
    { name: "embed" },
  )[0]!;
  const ln = (name: string, input: ValueId) => {
    const w = g.weight({ name: `${name}.weight`, shape: [H], dtype: "F32", role: "norm" });
    const b = g.weight({ name: `${name}.bias`, shape: [H], dtype: "F32", role: "bias" });
    return g.layerNorm(input, w, b, 1e-5, { name: name.split(".").pop()! });
  };
  g.inLayer(0, () => {
    const h = ln("transformer.h.0.ln_1", x);
    const ca = g.weight({
      name: "transformer.h.0.attn.c_attn.weight",
      shape: [H, 3 * H],
      dtype: "F32",
      role: "attn_qkv",
      transposed: true,
    });
    const cab = g.weight({
      name: "transformer.h.0.attn.c_attn.bias",
      shape: [3 * H],
      dtype: "F32",
      role: "bias",
    });
    const part = (i: number, name: string) =>
      g.linear(
        h,
        { weight: ca, rows: { start: i * H, count: H } },
        { weight: cab, slice: { start: i * H, count: H } },
        { name },
      );
    const [q, k, v] = [part(0, "q"), part(1, "k"), part(2, "v")];
    const attn = g.attention({
      q,
      kv: { source: "own", k, v },
      heads: 4,
      kvHeads: 4,
      headDim: 4,
      vHeadDim: 4,
      scale: 0.5,
      mask: { kind: "causal" },
    });
    const cp = g.weight({
      name: "transformer.h.0.attn.c_proj.weight",
      shape: [H, H],
      dtype: "F32",
      role: "attn_o",
      transposed: true,
    });
    const cpb = g.weight({
      name: "transformer.h.0.attn.c_proj.bias",
      shape: [H],
      dtype: "F32",
      role: "bias",
    });
    x = g.add(x, g.linear(attn, cp, cpb, { name: "attn_out" }), { name: "resid_attn" });
    const h2 = ln("transformer.h.0.ln_2", x);
    const fc = g.weight({
      name: "transformer.h.0.mlp.c_fc.weight",
      shape: [H, 4 * H],
      dtype: "F32",
      role: "mlp_up",
      transposed: true,
    });
    const fcb = g.weight({
      name: "transformer.h.0.mlp.c_fc.bias",
      shape: [4 * H],
      dtype: "F32",
      role: "bias",
    });
    const pr = g.weight({
      name: "transformer.h.0.mlp.c_proj.weight",
      shape: [4 * H, H],
      dtype: "F32",
      role: "mlp_down",
      transposed: true,
    });
    const prb = g.weight({ name: "transformer.h.0.mlp.c_proj.bias", shape: [H], dtype: "F32", role: "bias" });
    const a = g.activation(g.linear(h2, fc, fcb, { name: "fc" }), "gelu_tanh", { name: "act" });
    x = g.add(x, g.linear(a, pr, prb, { name: "mlp_out" }), { name: "resid_mlp" });
  });
  const head = g.tie(wte, "lm_head", ["tie_word_embeddings"]);
  return g.finish(g.linear(ln("transformer.ln_f", x), head, undefined, { name: "logits" }));
}
