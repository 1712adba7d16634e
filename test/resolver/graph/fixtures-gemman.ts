/** The Gemma 3n / Gemma 4 style test graph (AltUp, LAuReL, per-layer embeddings, KV sharing). */
import {
  GraphBuilder,
  type ModelGraph,
  type RopeSpec,
  type ValueId,
} from "../../../src/resolver/graph/index.js";
import { embed, H, meta, norm, pre, V } from "./fixture-kit.js";

/**
 * Gemma 3n style with Gemma 4 touches: 3 AltUp streams, LAuReL, per-layer embeddings, Gaussian top-k,
 * q/k/v norms, KV sharing (layers 2, 3 read layers 0, 1), k = v and proportional rope on global layers.
 */
export function gemmaNGraph(): ModelGraph {
  const L = 4;
  const N = 3;
  const P = 4;
  const [heads, kvHeads, hd] = [2, 1, 8];
  const g = new GraphBuilder(meta("gemma3n_text", L));
  const lw = (l: number, n: string, shape: number[], role: Parameters<GraphBuilder["weight"]>[0]["role"]) =>
    g.weight({ name: `${pre(l)}.${n}`, shape, dtype: "BF16", role });
  const e = embed(g, Math.sqrt(H));
  const ple = g.weight({
    name: "model.embed_tokens_per_layer.weight",
    shape: [V, L * P],
    dtype: "BF16",
    role: "per_layer_embedding",
  });
  const pleTok = g.embedding(g.tokens, ple, Math.sqrt(P), { name: "ple_tokens" });
  const pmp = g.weight({
    name: "model.per_layer_model_projection.weight",
    shape: [L * P, H],
    dtype: "BF16",
    role: "per_layer_model_proj",
  });
  const pleProj = g.scale(g.linear(e.x, pmp, undefined, { name: "ple_proj_raw" }), H ** -0.5, {
    name: "ple_proj_scaled",
  });
  const plpn = g.weight({
    name: "model.per_layer_projection_norm.weight",
    shape: [P],
    dtype: "BF16",
    role: "norm",
  });
  const pleNormed = g.rmsNorm(pleProj, { weight: plpn, eps: 1e-6, groupSize: P }, { name: "ple_proj" });
  const pleAll = g.scale(g.add(pleNormed, pleTok, { name: "ple_sum" }), 2 ** -0.5, { name: "ple" });
  let streams: ValueId[] = [e.x];
  for (let i = 1; i < N; i++) {
    const w = g.weight({
      name: `model.altup_projections.${i - 1}.weight`,
      shape: [H, H],
      dtype: "BF16",
      role: "altup",
    });
    const p = g.linear(e.x, w, undefined, { name: `altup_in${i}` });
    streams.push(
      g.emit("magnitude_match", { input: p, reference: e.x, eps: 1e-5 }, { name: `stream${i}` })[0]!,
    );
  }
  const types = ["sliding", "full", "sliding", "full"] as const;
  for (let l = 0; l < L; l++) {
    g.inLayer(l, () => {
      // predict and correct share the router norm and the modality router, as in HF.
      const rn = lw(l, "altup.router_norm.weight", [H], "norm");
      const mr = lw(l, "altup.modality_router.weight", [N, H], "altup");
      const modalities = (v: ValueId, tag: string) => {
        const n = g.scale(g.rmsNorm(v, { weight: rn, eps: 1e-6 }, { name: `${tag}_rn` }), 1 / H, {
          name: `${tag}_rs`,
        });
        return g.activation(g.linear(n, mr, undefined, { name: `${tag}_routed` }), "tanh", {
          name: `${tag}_mod`,
        });
      };
      const preds = g.emit("altup_predict", {
        streams,
        modalities: modalities(streams[0]!, "p"),
        coefs: { weight: lw(l, "altup.prediction_coefs.weight", [N * N, N], "altup") },
      });
      const active = preds[0]!;
      const h = norm(g, active, `${pre(l)}.input_layernorm`, 0, H, 1e-6);
      const ll = g.linear(h, lw(l, "laurel.linear_left.weight", [4, H], "laurel"), undefined, {
        name: "laurel_l",
      });
      const lr = g.linear(ll, lw(l, "laurel.linear_right.weight", [H, 4], "laurel"), undefined, {
        name: "laurel_r",
      });
      const laurel = g.add(h, norm(g, lr, `${pre(l)}.laurel.post_laurel_norm`, 0, H, 1e-6), {
        name: "laurel",
      });
      const global = types[l] === "full";
      const rope: RopeSpec = global
        ? { type: "proportional", theta: 1e6, factor: 1, partialRotaryFactor: 0.5 }
        : { type: "default", theta: 10000 };
      const ropeArgs = { headDim: hd, offset: 0, rotaryDim: hd, style: "half" as const, rope };
      const q = g.linear(h, lw(l, "self_attn.q_proj.weight", [heads * hd, H], "attn_q"), undefined, {
        name: "q",
      });
      const qn = g.rmsNorm(
        q,
        { weight: lw(l, "self_attn.q_norm.weight", [hd], "norm"), eps: 1e-6, groupSize: hd },
        { name: "q_norm" },
      );
      const qr = g.rope(qn, { ...ropeArgs, heads }, { name: "q_rot" });
      const shared = l >= 2;
      let kv: { source: "own"; k: ValueId; v: ValueId } | { source: "shared"; layer: number };
      if (shared) kv = { source: "shared", layer: l - 2 };
      else {
        const k = g.linear(h, lw(l, "self_attn.k_proj.weight", [kvHeads * hd, H], "attn_k"), undefined, {
          name: "k",
        });
        // k = v on global layers (Gemma 4 attention_k_eq_v): v is the raw k projection, v-normed.
        const vRaw = global
          ? k
          : g.linear(h, lw(l, "self_attn.v_proj.weight", [kvHeads * hd, H], "attn_v"), undefined, {
              name: "v",
            });
        const kn = g.rmsNorm(
          k,
          { weight: lw(l, "self_attn.k_norm.weight", [hd], "norm"), eps: 1e-6, groupSize: hd },
          { name: "k_norm" },
        );
        const v = g.rmsNorm(vRaw, { eps: 1e-6, groupSize: hd }, { name: "v_norm" });
        kv = { source: "own", k: g.rope(kn, { ...ropeArgs, heads: kvHeads }, { name: "k_rot" }), v };
      }
      const attn = g.attention({
        q: qr,
        kv,
        heads,
        kvHeads,
        headDim: hd,
        vHeadDim: hd,
        scale: 1,
        mask: GraphBuilder.mask(global ? null : 3),
      });
      const o = g.linear(attn, lw(l, "self_attn.o_proj.weight", [H, heads * hd], "attn_o"), undefined, {
        name: "attn_out",
      });
      const gated = g.add(active, norm(g, o, `${pre(l)}.post_attention_layernorm`, 0, H, 1e-6), {
        name: "attn_gated",
      });
      const attnLaurel = g.scale(g.add(gated, laurel, { name: "attn_laurel_sum" }), Math.SQRT1_2, {
        name: "attn_laurel",
      });
      const hn = norm(g, attnLaurel, `${pre(l)}.pre_feedforward_layernorm`, 0, H, 1e-6);
      const gate = g.linear(hn, lw(l, "mlp.gate_proj.weight", [24, H], "mlp_gate"), undefined, {
        name: "gate",
      });
      const sparse =
        l < 2 ? g.emit("gaussian_topk", { input: gate, sparsity: 0.95 }, { name: "gate_sparse" })[0]! : gate;
      const up = g.linear(hn, lw(l, "mlp.up_proj.weight", [24, H], "mlp_up"), undefined, { name: "up" });
      const m = g.linear(
        g.glu(sparse, up, { fn: "gelu_tanh" }, { name: "act" }),
        lw(l, "mlp.down_proj.weight", [H, 24], "mlp_down"),
        undefined,
        { name: "mlp_out" },
      );
      const activated = g.add(attnLaurel, norm(g, m, `${pre(l)}.post_feedforward_layernorm`, 0, H, 1e-6), {
        name: "activated",
      });
      const corrected = g.emit("altup_correct", {
        predictions: preds,
        activated,
        modalities: modalities(activated, "c"),
        coefs: { weight: lw(l, "altup.correction_coefs.weight", [N, N], "altup") },
        coefClip: 0.05,
        activeIndex: 0,
      });
      const first = g.mulWeight(corrected[0]!, lw(l, "altup.correct_output_scale", [H], "altup"), {
        name: "first",
      });
      const gateP = g.activation(
        g.linear(first, lw(l, "per_layer_input_gate.weight", [P, H], "per_layer_gate"), undefined, {
          name: "ple_gate_raw",
        }),
        "gelu_tanh",
        { name: "ple_gate" },
      );
      const pl = g.mul(gateP, g.slice(pleAll, l * P, P, { name: "ple_slice" }), { name: "ple_mix" });
      const back = norm(
        g,
        g.linear(pl, lw(l, "per_layer_projection.weight", [H, P], "per_layer_proj"), undefined, {
          name: "ple_back",
        }),
        `${pre(l)}.post_per_layer_input_norm`,
        0,
        H,
        1e-6,
      );
      streams = corrected.map((c, j) => (j === 0 ? c : g.add(c, back, { name: `stream${j}` })));
    });
  }
  const outs = streams.map((s, i) => {
    if (i === 0) return s;
    const w = g.weight({
      name: `model.altup_unembed_projections.${i - 1}.weight`,
      shape: [H, H],
      dtype: "BF16",
      role: "altup",
    });
    const p = g.linear(s, w, undefined, { name: `altup_out${i}` });
    return g.emit(
      "magnitude_match",
      { input: p, reference: streams[0]!, eps: 1e-5 },
      { name: `unstream${i}` },
    )[0]!;
  });
  const [merged] = g.emit("mean", { inputs: outs }, { name: "merged" });
  const head = g.tie(e.table, "lm_head");
  const logits = g.linear(norm(g, merged!, "model.norm", 0, H, 1e-6), head, undefined, {
    name: "raw_logits",
  });
  return g.finish(g.softcap(logits, 30, { name: "logits" }));
}
