/** MoE and MLA test graphs: DeepSeek / Mixtral routing, gpt-oss experts, DeepSeek MLA. */
import {
  GraphBuilder,
  type ModelGraph,
  type RopeSpec,
  type ValueId,
} from "../../../src/resolver/graph/index.js";
import { embed, H, llamaAttention, meta, mlp, norm, pre, untiedHead } from "./fixture-kit.js";

/** Routed experts with one tensor per expert (Mixtral / Qwen3-MoE / DeepSeek naming). */
function perExpertMoe(g: GraphBuilder, x: ValueId, l: number, route: { sigmoid: boolean }): ValueId {
  const E = 8;
  const I = 12;
  const router = g.weight({
    name: `${pre(l)}.mlp.gate.weight`,
    shape: [E, H],
    dtype: "BF16",
    role: "router",
  });
  const logits = g.linear(x, router, undefined, { name: "router_logits" });
  const bias = route.sigmoid
    ? g.weight({ name: `${pre(l)}.mlp.gate.e_score_correction_bias`, shape: [E], dtype: "F32", role: "bias" })
    : undefined;
  const [idx, wts] = g.emit("moe_route", {
    logits,
    numExperts: E,
    topK: 2,
    scoring: route.sigmoid ? "sigmoid" : "softmax",
    normalize: true,
    routedScale: route.sigmoid ? 2.5 : 1,
    ...(route.sigmoid
      ? { groups: { count: 4, topk: 2, score: "top2_sum" as const }, correctionBias: { weight: bias! } }
      : {}),
  });
  const list = (n: string, shape: number[], role: "expert_gate" | "expert_up" | "expert_down") =>
    Array.from({ length: E }, (_, e) =>
      g.weight({ name: `${pre(l)}.mlp.experts.${e}.${n}.weight`, shape, dtype: "BF16", role }),
    );
  const [routed] = g.emit("moe_experts", {
    input: x,
    indices: idx!,
    weights: wts!,
    numExperts: E,
    intermediate: I,
    gate: { kind: "per_expert", weights: list("gate_proj", [I, H], "expert_gate") },
    up: { kind: "per_expert", weights: list("up_proj", [I, H], "expert_up") },
    down: { kind: "per_expert", weights: list("down_proj", [H, I], "expert_down") },
    act: { fn: "silu" },
  });
  if (!route.sigmoid) return routed!;
  return g.add(routed!, mlp(g, x, l, 12, "silu", "mlp.shared_experts"), { name: "moe_out" });
}

/** Two MoE layers: DeepSeek-V3 routing (sigmoid, bias, groups, scale, shared expert) then Mixtral routing. */
export function moeGraph(): ModelGraph {
  const g = new GraphBuilder(meta("deepseek_v3_moe", 2));
  let { x } = embed(g);
  for (let l = 0; l < 2; l++) {
    g.inLayer(l, () => {
      const h = norm(g, x, `${pre(l)}.input_layernorm`);
      x = g.add(
        x,
        llamaAttention(g, h, l, {
          heads: 4,
          kvHeads: 1,
          headDim: 4,
          rope: { type: "default", theta: 10000 },
        }),
        { name: "resid_attn" },
      );
      const h2 = norm(g, x, `${pre(l)}.post_attention_layernorm`);
      x = g.add(x, perExpertMoe(g, h2, l, { sigmoid: l === 0 }), { name: "resid_mlp" });
    });
  }
  return g.finish(untiedHead(g, norm(g, x, "model.norm")));
}

/** gpt-oss style: biased projections, sinks, sliding/full, yarn, stacked transposed interleaved experts. */
export function gptOssGraph(): ModelGraph {
  const g = new GraphBuilder(meta("gpt_oss", 2));
  const E = 4;
  const I = 8;
  const yarn: RopeSpec = {
    type: "yarn",
    theta: 150000,
    factor: 32,
    originalMaxPositionEmbeddings: 4096,
    betaFast: 32,
    betaSlow: 1,
    truncate: false,
  };
  let { x } = embed(g);
  for (let l = 0; l < 2; l++) {
    g.inLayer(l, () => {
      const h = norm(g, x, `${pre(l)}.input_layernorm`);
      const attn = llamaAttention(g, h, l, {
        heads: 4,
        kvHeads: 2,
        headDim: 8,
        rope: yarn,
        bias: true,
        sinks: true,
        ...(l === 0 ? { window: 3 } : {}),
      });
      x = g.add(x, attn, { name: "resid_attn" });
      const h2 = norm(g, x, `${pre(l)}.post_attention_layernorm`);
      const rw = g.weight({
        name: `${pre(l)}.mlp.router.weight`,
        shape: [E, H],
        dtype: "BF16",
        role: "router",
      });
      const rb = g.weight({ name: `${pre(l)}.mlp.router.bias`, shape: [E], dtype: "BF16", role: "bias" });
      const logits = g.linear(h2, rw, rb, { name: "router_logits" });
      const [idx, wts] = g.emit("moe_route", {
        logits,
        numExperts: E,
        topK: 2,
        scoring: "softmax",
        normalize: true,
        routedScale: 1,
      });
      const gu = g.weight({
        name: `${pre(l)}.mlp.experts.gate_up_proj`,
        shape: [E, H, 2 * I],
        dtype: "BF16",
        role: "expert_gate_up",
        transposed: true,
      });
      const gub = g.weight({
        name: `${pre(l)}.mlp.experts.gate_up_proj_bias`,
        shape: [E, 2 * I],
        dtype: "BF16",
        role: "bias",
      });
      const dn = g.weight({
        name: `${pre(l)}.mlp.experts.down_proj`,
        shape: [E, I, H],
        dtype: "BF16",
        role: "expert_down",
        transposed: true,
      });
      const dnb = g.weight({
        name: `${pre(l)}.mlp.experts.down_proj_bias`,
        shape: [E, H],
        dtype: "BF16",
        role: "bias",
      });
      const even = { start: 0, count: I, step: 2 };
      const odd = { start: 1, count: I, step: 2 };
      const [moe] = g.emit("moe_experts", {
        input: h2,
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
      });
      x = g.add(x, moe!, { name: "resid_mlp" });
    });
  }
  return g.finish(untiedHead(g, norm(g, x, "model.norm")));
}

/** DeepSeek V3 style MLA: q low-rank with norm, kv latent with norm, decoupled interleaved rope, yarn. */
export function mlaGraph(): ModelGraph {
  const g = new GraphBuilder(meta("deepseek_v3", 2));
  const [heads, qRank, kvRank, nope, rope, vDim] = [2, 8, 6, 4, 4, 6];
  const yarn: RopeSpec = {
    type: "yarn",
    theta: 10000,
    factor: 40,
    originalMaxPositionEmbeddings: 4096,
    betaFast: 32,
    betaSlow: 1,
    truncate: true,
    mscale: 1,
    mscaleAllDim: 1,
  };
  const mscale = 0.1 * Math.log(40) + 1;
  let { x } = embed(g);
  for (let l = 0; l < 2; l++) {
    g.inLayer(l, () => {
      const w = (
        n: string,
        shape: number[],
        role: "attn_q_a" | "attn_q_b" | "attn_kv_a" | "attn_kv_b" | "attn_o",
      ) =>
        g.weight({
          name: `${pre(l)}.self_attn.${n}.weight`,
          shape,
          dtype: "BF16",
          role,
          keys: ["q_lora_rank", "kv_lora_rank"],
        });
      const h = norm(g, x, `${pre(l)}.input_layernorm`);
      const qa = g.linear(h, w("q_a_proj", [qRank, H], "attn_q_a"), undefined, { name: "q_a" });
      const qb = g.linear(
        norm(g, qa, `${pre(l)}.self_attn.q_a_layernorm`, 0, qRank, 1e-6),
        w("q_b_proj", [heads * (nope + rope), qRank], "attn_q_b"),
        undefined,
        { name: "q" },
      );
      const q = g.rope(
        qb,
        { heads, headDim: nope + rope, offset: nope, rotaryDim: rope, style: "interleaved", rope: yarn },
        { name: "q_rot" },
      );
      const kva = g.linear(h, w("kv_a_proj_with_mqa", [kvRank + rope, H], "attn_kv_a"), undefined, {
        name: "kv_a",
      });
      const latent = norm(
        g,
        g.slice(kva, 0, kvRank, { name: "latent_raw" }),
        `${pre(l)}.self_attn.kv_a_layernorm`,
        0,
        kvRank,
        1e-6,
      );
      const kRope = g.rope(
        g.slice(kva, kvRank, rope, { name: "k_pe" }),
        { heads: 1, headDim: rope, offset: 0, rotaryDim: rope, style: "interleaved", rope: yarn },
        { name: "k_rot" },
      );
      const [attn] = g.emit("mla_attention", {
        q,
        latent,
        kRope,
        kvB: { weight: w("kv_b_proj", [heads * (nope + vDim), kvRank], "attn_kv_b") },
        heads,
        kvRank,
        nopeDim: nope,
        ropeDim: rope,
        vHeadDim: vDim,
        scale: (nope + rope) ** -0.5 * mscale * mscale,
        mask: { kind: "causal" },
      });
      x = g.add(
        x,
        g.linear(attn!, w("o_proj", [H, heads * vDim], "attn_o"), undefined, { name: "attn_out" }),
        { name: "resid_attn" },
      );
      x = g.add(x, mlp(g, norm(g, x, `${pre(l)}.post_attention_layernorm`), l, 20, "silu"), {
        name: "resid_mlp",
      });
    });
  }
  return g.finish(untiedHead(g, norm(g, x, "model.norm")));
}
