/**
 * Example architecture plugin, in plain JavaScript (loads under any Node, no build step): the
 * Llama decoder written against the GraphBuilder only. It builds the same graph as the built-in
 * `llama` plugin for plain Llama configs (no biases; default or llama3 RoPE), so a test can check
 * that both give the same logits. Loaded with `--plugin examples/plugins/llama-arch.mjs`, it is
 * tried before the built-ins and takes over the "llama" family. docs/plugins.md walks through it.
 *
 * `build(cfg, b)` receives the normalised TextConfig (docs/parser-config.md) and a GraphBuilder
 * (docs/graph.md section 5); the graph must end in a value named "logits".
 */

/** TextConfig RoPE parameters → the graph's RopeSpec (docs/graph.md section 3). */
function ropeSpec(p, cfg) {
  if (p.rope_type === "default") return { type: "default", theta: p.rope_theta };
  if (p.rope_type === "llama3")
    return {
      type: "llama3",
      theta: p.rope_theta,
      factor: p.factor,
      lowFreqFactor: p.low_freq_factor,
      highFreqFactor: p.high_freq_factor,
      originalMaxPositionEmbeddings: p.original_max_position_embeddings ?? cfg.max_position_embeddings,
    };
  throw new Error(`example-llama handles default and llama3 RoPE, not "${p.rope_type}"`);
}

/** @type {import("../../src/resolver/plugin.js").ArchitecturePlugin} */
export const exampleLlama = {
  id: "example-llama",
  families: ["llama"],
  summary: "Example: the Llama decoder (RMSNorm, GQA, RoPE, SwiGLU) written with the GraphBuilder alone",
  reads: [
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "intermediate_size",
    "vocab_size",
    "norm_eps",
    "tie_word_embeddings",
    "layer_types",
    "sliding_window",
    "rope",
  ],
  build(cfg, b) {
    const H = cfg.hidden_size;
    const hd = cfg.head_dim;
    const w = (name, shape, role) => b.weight({ name, shape, dtype: "BF16", role });
    const table = w("model.embed_tokens.weight", [cfg.vocab_size, H], "embedding");
    let x = b.embedding(b.tokens, table, undefined, { name: "embed" });
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      b.inLayer(l, () => {
        const p = `model.layers.${l}`;
        const kvh = cfg.layer_num_key_value_heads[l];
        const rope = cfg.rope[cfg.layer_types[l]];
        const norm = (name, input) =>
          b.rmsNorm(input, { weight: w(`${p}.${name}.weight`, [H], "norm"), eps: cfg.norm_eps }, { name });
        const h = norm("input_layernorm", x);
        const proj = (name, out, input, inDim, role) =>
          b.linear(input, w(`${p}.${name}.weight`, [out, inDim], role), undefined, {
            name: name.split(".").pop(),
          });
        const rot = (input, heads, name) =>
          b.rope(
            input,
            {
              heads,
              headDim: hd,
              offset: 0,
              rotaryDim: rope.rotary_dim,
              style: "half",
              rope: ropeSpec(rope, cfg),
            },
            { name },
          );
        const q = rot(
          proj("self_attn.q_proj", cfg.num_attention_heads * hd, h, H, "attn_q"),
          cfg.num_attention_heads,
          "q_rot",
        );
        const k = rot(proj("self_attn.k_proj", kvh * hd, h, H, "attn_k"), kvh, "k_rot");
        const v = proj("self_attn.v_proj", kvh * hd, h, H, "attn_v");
        const sliding = cfg.layer_types[l] === "sliding_attention";
        const attn = b.attention({
          q,
          kv: { source: "own", k, v },
          heads: cfg.num_attention_heads,
          kvHeads: kvh,
          headDim: hd,
          vHeadDim: hd,
          scale: hd ** -0.5,
          mask: sliding ? { kind: "sliding", window: cfg.sliding_window } : { kind: "causal" },
        });
        x = b.add(x, proj("self_attn.o_proj", H, attn, cfg.num_attention_heads * hd, "attn_o"), {
          name: "resid_attn",
        });
        const h2 = norm("post_attention_layernorm", x);
        const I = cfg.intermediate_size[l];
        const gate = proj("mlp.gate_proj", I, h2, H, "mlp_gate");
        const up = proj("mlp.up_proj", I, h2, H, "mlp_up");
        const act = b.glu(gate, up, { fn: "silu" }, { name: "act" });
        x = b.add(x, proj("mlp.down_proj", H, act, I, "mlp_down"), { name: "resid_mlp" });
      });
    }
    const final = b.rmsNorm(
      x,
      { weight: w("model.norm.weight", [H], "norm"), eps: cfg.norm_eps },
      { name: "norm" },
    );
    const head = cfg.tie_word_embeddings
      ? b.tie(table, "lm_head")
      : w("lm_head.weight", [cfg.vocab_size, H], "lm_head");
    b.linear(final, head, undefined, { name: "logits" });
  },
};

export default { architectures: [exampleLlama] };
