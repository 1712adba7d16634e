/**
 * Small test graphs with word-aligned dimensions (head widths multiples of 8), so that codegen's
 * NPU paths (attention over the KV ring, per-head SFU work) are exercised; the graph tests'
 * fixtures (head width 4) exercise the host fallbacks.
 */
import {
  GraphBuilder,
  type ModelGraph,
  type RopeSpec,
  type ValueId,
} from "../../src/resolver/graph/index.js";

export interface LlamaOpts {
  readonly H?: number;
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly hd?: number;
  readonly inter?: number;
  readonly vocab?: number;
  readonly layers?: number;
  readonly window?: (l: number) => number | undefined;
  readonly softcap?: number;
  readonly finalSoftcap?: number;
  readonly sinks?: boolean;
  readonly bias?: boolean;
  readonly gemmaNorms?: boolean;
  readonly act?: "silu" | "gelu_tanh";
  readonly tied?: boolean;
  readonly qkNorm?: boolean;
  readonly rope?: RopeSpec;
}

const pre = (l: number) => `model.layers.${l}`;

/** Llama / Gemma 2 / gpt-oss style dense decoder with aligned dims. */
export function llamaLike(o: LlamaOpts = {}): ModelGraph {
  const H = o.H ?? 64;
  const heads = o.heads ?? 4;
  const kvHeads = o.kvHeads ?? 2;
  const hd = o.hd ?? 16;
  const inter = o.inter ?? 128;
  const V = o.vocab ?? 96;
  const layers = o.layers ?? 2;
  const rope: RopeSpec = o.rope ?? { type: "default", theta: 10000 };
  const g = new GraphBuilder({
    modelType: "llama",
    plugin: "test",
    numLayers: layers,
    hiddenSize: H,
    vocabSize: V,
  });
  const w = (name: string, shape: number[], role: Parameters<GraphBuilder["weight"]>[0]["role"]) =>
    g.weight({ name, shape, dtype: "BF16", role });
  const emb = w("model.embed_tokens.weight", [V, H], "embedding");
  const norm = (x: ValueId, name: string, size = H) =>
    g.rmsNorm(
      x,
      { weight: w(`${name}.weight`, [size], "norm"), eps: 1e-6, weightOffset: o.gemmaNorms ? 1 : 0 },
      { name: name.split(".").pop()! },
    );
  let x = g.embedding(g.tokens, emb, o.gemmaNorms ? Math.sqrt(H) : undefined, { name: "embed" });
  for (let l = 0; l < layers; l++) {
    g.inLayer(l, () => {
      const h = norm(x, `${pre(l)}.input_layernorm`);
      const proj = (n: string, out: number, role: "attn_q" | "attn_k" | "attn_v") =>
        g.linear(
          h,
          w(`${pre(l)}.self_attn.${n}.weight`, [out, H], role),
          o.bias ? w(`${pre(l)}.self_attn.${n}.bias`, [out], "bias") : undefined,
          { name: n.replace("_proj", "") },
        );
      let q = proj("q_proj", heads * hd, "attn_q");
      let k = proj("k_proj", kvHeads * hd, "attn_k");
      const v = proj("v_proj", kvHeads * hd, "attn_v");
      if (o.qkNorm) {
        q = g.rmsNorm(
          q,
          { weight: w(`${pre(l)}.self_attn.q_norm.weight`, [hd], "norm"), eps: 1e-6, groupSize: hd },
          { name: "q_norm" },
        );
        k = g.rmsNorm(
          k,
          { weight: w(`${pre(l)}.self_attn.k_norm.weight`, [hd], "norm"), eps: 1e-6, groupSize: hd },
          { name: "k_norm" },
        );
      }
      const ra = { headDim: hd, offset: 0, rotaryDim: hd, style: "half" as const, rope };
      const qr = g.rope(q, { ...ra, heads }, { name: "q_rot" });
      const kr = g.rope(k, { ...ra, heads: kvHeads }, { name: "k_rot" });
      const sinks = o.sinks ? w(`${pre(l)}.self_attn.sinks`, [heads], "sinks") : undefined;
      const attn = g.attention({
        q: qr,
        kv: { source: "own", k: kr, v },
        heads,
        kvHeads,
        headDim: hd,
        vHeadDim: hd,
        scale: hd ** -0.5,
        mask: GraphBuilder.mask(o.window?.(l)),
        ...(o.softcap ? { softcap: o.softcap } : {}),
        ...(sinks ? { sinks: { weight: sinks } } : {}),
      });
      const ao = g.linear(
        attn,
        w(`${pre(l)}.self_attn.o_proj.weight`, [H, heads * hd], "attn_o"),
        o.bias ? w(`${pre(l)}.self_attn.o_proj.bias`, [H], "bias") : undefined,
        { name: "attn_out" },
      );
      x = g.add(x, o.gemmaNorms ? norm(ao, `${pre(l)}.post_attention_layernorm`) : ao, {
        name: "resid_attn",
      });
      const h2 = norm(
        x,
        `${pre(l)}.${o.gemmaNorms ? "pre_feedforward_layernorm" : "post_attention_layernorm"}`,
      );
      const gate = g.linear(h2, w(`${pre(l)}.mlp.gate_proj.weight`, [inter, H], "mlp_gate"), undefined, {
        name: "gate",
      });
      const up = g.linear(h2, w(`${pre(l)}.mlp.up_proj.weight`, [inter, H], "mlp_up"), undefined, {
        name: "up",
      });
      const act = g.glu(gate, up, { fn: o.act ?? "silu" }, { name: "act" });
      const down = g.linear(act, w(`${pre(l)}.mlp.down_proj.weight`, [H, inter], "mlp_down"), undefined, {
        name: "mlp_out",
      });
      x = g.add(x, o.gemmaNorms ? norm(down, `${pre(l)}.post_feedforward_layernorm`) : down, {
        name: "resid_mlp",
      });
    });
  }
  const head = o.tied ? g.tie(emb, "lm_head") : w("lm_head.weight", [V, H], "lm_head");
  const logits = g.linear(norm(x, "model.norm"), head, undefined, {
    name: o.finalSoftcap ? "raw_logits" : "logits",
  });
  return g.finish(o.finalSoftcap ? g.softcap(logits, o.finalSoftcap, { name: "logits" }) : logits);
}

/** DeepSeek-style MoE (per-expert tensors, sigmoid + groups + shared expert) with aligned dims. */
export function moeLike(opts: { stacked?: boolean } = {}): ModelGraph {
  const [H, V, E, I, k] = [64, 96, 8, 32, 2];
  const g = new GraphBuilder({ modelType: "moe", plugin: "test", numLayers: 1, hiddenSize: H, vocabSize: V });
  const w = (
    name: string,
    shape: number[],
    role: Parameters<GraphBuilder["weight"]>[0]["role"],
    transposed = false,
  ) => g.weight({ name, shape, dtype: "BF16", role, ...(transposed ? { transposed } : {}) });
  let x = g.embedding(g.tokens, w("model.embed_tokens.weight", [V, H], "embedding"), undefined, {
    name: "embed",
  });
  g.inLayer(0, () => {
    const h = g.rmsNorm(
      x,
      { weight: w(`${pre(0)}.post_attention_layernorm.weight`, [H], "norm"), eps: 1e-6 },
      { name: "ln" },
    );
    const logits = g.linear(
      h,
      w(`${pre(0)}.mlp.gate.weight`, [E, H], "router"),
      opts.stacked ? w(`${pre(0)}.mlp.router.bias`, [E], "bias") : undefined,
      { name: "router_logits" },
    );
    const bias = opts.stacked ? undefined : w(`${pre(0)}.mlp.gate.e_score_correction_bias`, [E], "bias");
    const [idx, wts] = g.emit("moe_route", {
      logits,
      numExperts: E,
      topK: k,
      scoring: opts.stacked ? "softmax" : "sigmoid",
      normalize: true,
      routedScale: opts.stacked ? 1 : 2.5,
      ...(bias
        ? { groups: { count: 4, topk: 2, score: "top2_sum" as const }, correctionBias: { weight: bias } }
        : {}),
    });
    let moe: ValueId;
    if (opts.stacked) {
      const gu = w(`${pre(0)}.mlp.experts.gate_up_proj`, [E, H, 2 * I], "expert_gate_up", true);
      const gub = w(`${pre(0)}.mlp.experts.gate_up_proj_bias`, [E, 2 * I], "bias");
      const dn = w(`${pre(0)}.mlp.experts.down_proj`, [E, I, H], "expert_down", true);
      const dnb = w(`${pre(0)}.mlp.experts.down_proj_bias`, [E, H], "bias");
      const even = { start: 0, count: I, step: 2 };
      const odd = { start: 1, count: I, step: 2 };
      [moe] = g.emit("moe_experts", {
        input: h,
        indices: idx!,
        weights: wts!,
        numExperts: E,
        intermediate: I,
        gate: { kind: "stacked", weight: gu, rows: even },
        up: { kind: "stacked", weight: gu, rows: odd },
        down: { kind: "stacked", weight: dn },
        gateBias: { kind: "stacked", weight: gub, slice: even },
        upBias: { kind: "stacked", weight: gub, slice: odd },
        downBias: { kind: "stacked", weight: dnb },
        act: { fn: "clamped_swiglu", alpha: 1.702, limit: 7 },
      }) as [ValueId];
    } else {
      const list = (n: string, shape: number[], role: "expert_gate" | "expert_up" | "expert_down") =>
        Array.from({ length: E }, (_, e) => w(`${pre(0)}.mlp.experts.${e}.${n}.weight`, shape, role));
      [moe] = g.emit("moe_experts", {
        input: h,
        indices: idx!,
        weights: wts!,
        numExperts: E,
        intermediate: I,
        gate: { kind: "per_expert", weights: list("gate_proj", [I, H], "expert_gate") },
        up: { kind: "per_expert", weights: list("up_proj", [I, H], "expert_up") },
        down: { kind: "per_expert", weights: list("down_proj", [H, I], "expert_down") },
        act: { fn: "silu" },
      }) as [ValueId];
      const sg = g.linear(
        h,
        w(`${pre(0)}.mlp.shared_experts.gate_proj.weight`, [I, H], "shared_expert_gate"),
        undefined,
        { name: "sgate" },
      );
      const su = g.linear(
        h,
        w(`${pre(0)}.mlp.shared_experts.up_proj.weight`, [I, H], "shared_expert_up"),
        undefined,
        { name: "sup" },
      );
      const sd = g.linear(
        g.glu(sg, su, { fn: "silu" }),
        w(`${pre(0)}.mlp.shared_experts.down_proj.weight`, [H, I], "shared_expert_down"),
        undefined,
        { name: "sdown" },
      );
      moe = g.add(moe, sd, { name: "moe_out" });
    }
    x = g.add(x, moe, { name: "resid_mlp" });
  });
  return g.finish(g.linear(x, w("lm_head.weight", [V, H], "lm_head"), undefined, { name: "logits" }));
}

/** DeepSeek MLA with aligned dims. */
export function mlaLike(): ModelGraph {
  const [H, V, heads, qRank, kvRank, nope, rope, vDim] = [64, 96, 2, 32, 32, 16, 16, 16];
  const g = new GraphBuilder({
    modelType: "deepseek_v3",
    plugin: "test",
    numLayers: 1,
    hiddenSize: H,
    vocabSize: V,
  });
  const w = (name: string, shape: number[], role: Parameters<GraphBuilder["weight"]>[0]["role"]) =>
    g.weight({ name, shape, dtype: "BF16", role });
  const yarn: RopeSpec = { type: "default", theta: 10000 };
  let x = g.embedding(g.tokens, w("model.embed_tokens.weight", [V, H], "embedding"), undefined, {
    name: "embed",
  });
  g.inLayer(0, () => {
    const nrm = (v: ValueId, n: string, size: number) =>
      g.rmsNorm(
        v,
        { weight: w(`${pre(0)}.${n}.weight`, [size], "norm"), eps: 1e-6 },
        { name: n.split(".").pop()! },
      );
    const h = nrm(x, "input_layernorm", H);
    const qa = g.linear(h, w(`${pre(0)}.self_attn.q_a_proj.weight`, [qRank, H], "attn_q_a"), undefined, {
      name: "q_a",
    });
    const qb = g.linear(
      nrm(qa, "self_attn.q_a_layernorm", qRank),
      w(`${pre(0)}.self_attn.q_b_proj.weight`, [heads * (nope + rope), qRank], "attn_q_b"),
      undefined,
      { name: "q" },
    );
    const q = g.rope(
      qb,
      { heads, headDim: nope + rope, offset: nope, rotaryDim: rope, style: "interleaved", rope: yarn },
      { name: "q_rot" },
    );
    const kva = g.linear(
      h,
      w(`${pre(0)}.self_attn.kv_a_proj_with_mqa.weight`, [kvRank + rope, H], "attn_kv_a"),
      undefined,
      { name: "kv_a" },
    );
    const latent = nrm(g.slice(kva, 0, kvRank, { name: "latent_raw" }), "self_attn.kv_a_layernorm", kvRank);
    const kRope = g.rope(
      g.slice(kva, kvRank, rope, { name: "k_pe" }),
      { heads: 1, headDim: rope, offset: 0, rotaryDim: rope, style: "interleaved", rope: yarn },
      { name: "k_rot" },
    );
    const [attn] = g.emit("mla_attention", {
      q,
      latent,
      kRope,
      kvB: {
        weight: w(`${pre(0)}.self_attn.kv_b_proj.weight`, [heads * (nope + vDim), kvRank], "attn_kv_b"),
      },
      heads,
      kvRank,
      nopeDim: nope,
      ropeDim: rope,
      vHeadDim: vDim,
      scale: (nope + rope) ** -0.5,
      mask: { kind: "causal" },
    });
    x = g.add(
      x,
      g.linear(attn!, w(`${pre(0)}.self_attn.o_proj.weight`, [H, heads * vDim], "attn_o"), undefined, {
        name: "attn_out",
      }),
      { name: "resid_attn" },
    );
  });
  return g.finish(g.linear(x, w("lm_head.weight", [V, H], "lm_head"), undefined, { name: "logits" }));
}
