/**
 * Attention variants: KV sharing across layers (Gemma 3n/4), Gemma 4's k = v, bidirectional
 * attention, and DeepSeek's multi-head latent attention.
 */
import type { FeaturePlugin } from "../types.js";
import { cvoVerdict, graphMismatch, ids, layerRanges, layersOf } from "./util.js";

const SOFTMAX_CVO = ["EXP", "REDUCE_SUM", "SCALE"];

export const kvSharing: FeaturePlugin = {
  id: "kv-sharing",
  summary:
    "KV-cache sharing across layers (Gemma 3n/4 num_kv_shared_layers): shared layers read an earlier layer's ring and write none.",
  keys: ["num_kv_shared_layers"],
  detect: (_p, g) => g.ops.some((o) => o.kind === "attention" && o.kv.source === "shared"),
  apply(graph, parsed, _t, ctx) {
    const ops = ctx.opsOf(graph, "attention").filter((o) => o.kv.source === "shared");
    for (const o of ops) {
      const want = o.layer === undefined ? undefined : parsed.text.layer_kv_shared_from[o.layer];
      const got = o.kv.source === "shared" ? o.kv.layer : undefined;
      if (want !== got)
        throw graphMismatch("kv-sharing", `${o.id} reads the cache of layer ${got}, the config says ${want}`);
    }
    const sources = [...new Set(ops.map((o) => (o.kv.source === "shared" ? o.kv.layer : -1)))];
    const entry = ctx.entry({
      key: "num_kv_shared_layers",
      paths: ctx.pathsOf("num_kv_shared_layers"),
      value: ops.length,
      detail: `${layerRanges(layersOf(ops))} read the KV caches of layer${sources.length > 1 ? "s" : ""} ${sources.join(", ")}`,
      verdict: {
        kind: "lowered",
        how: "no K/V projection and no cache write in the shared layers; their Q·Kᵀ and P·V stream the source layer's ring",
      },
      ops: ids(ops),
    });
    return { graph, entries: [entry] };
  },
};

export const kEqV: FeaturePlugin = {
  id: "k-eq-v",
  summary:
    "Gemma 4's attention_k_eq_v: full-attention layers take the values from the key projection (normalised), with no v_proj.",
  keys: ["attention_k_eq_v"],
  detect: (p) => p.text.gemma4?.attention_k_eq_v === true,
  apply(graph, parsed, _t, ctx) {
    const ops = ctx
      .opsOf(graph, "attention")
      .filter((o) => o.layer !== undefined && parsed.text.layer_types[o.layer] === "full_attention");
    const entry = ctx.entry({
      key: "attention_k_eq_v",
      paths: ctx.pathsOf("attention_k_eq_v"),
      value: true,
      detail: `values = weightless RMSNorm of the key projection in ${layerRanges(layersOf(ops))}`,
      verdict: {
        kind: "lowered",
        how: "one GEMV fewer per layer: the cached V rows are the normalised K projection (its norm follows the qk-norm verdict)",
      },
      ops: ids(ops),
    });
    return { graph, entries: [entry] };
  },
};

export const bidirectional: FeaturePlugin = {
  id: "bidirectional-attention",
  summary:
    "use_bidirectional_attention: 'vision' concerns image tokens only (ignored for the text path); 'all' is not an autoregressive decoder (rejected).",
  keys: ["use_bidirectional_attention"],
  detect: (p) => p.text.use_bidirectional_attention !== null,
  apply(graph, parsed, _t, ctx) {
    const v = parsed.text.use_bidirectional_attention;
    const entry = ctx.entry({
      key: "use_bidirectional_attention",
      paths: ctx.pathsOf("use_bidirectional_attention"),
      value: v,
      detail: `use_bidirectional_attention = ${JSON.stringify(v)}`,
      verdict:
        v === "vision"
          ? {
              kind: "ignored",
              reason:
                "bidirectional attention applies among image tokens only; the text path pccxc compiles is causal",
            }
          : {
              kind: "rejected",
              reason:
                "every token attends to every other token: this is an encoder (e.g. an embedding model), not a causal decoder that can generate with a KV cache",
              fix: "compile the causal (generative) checkpoint of this model",
            },
      ops: [],
    });
    return { graph, entries: [entry] };
  },
};

const MLA_KEYS = [
  "q_lora_rank",
  "kv_lora_rank",
  "qk_nope_head_dim",
  "qk_rope_head_dim",
  "v_head_dim",
  "qk_head_dim",
];

export const mla: FeaturePlugin = {
  id: "mla",
  summary:
    "DeepSeek multi-head latent attention: a cache of the compressed latent plus the shared rope key, expanded by kv_b_proj GEMVs.",
  keys: MLA_KEYS,
  detect: (_p, g) => g.ops.some((o) => o.kind === "mla_attention"),
  apply(graph, parsed, _t, ctx) {
    const ops = ctx.opsOf(graph, "mla_attention");
    const m = parsed.text.mla;
    const o = ops[0]!;
    const { verdict, cvo } = cvoVerdict(
      ctx,
      SOFTMAX_CVO,
      `the cache holds ${o.kvRank} latent + ${o.ropeDim} rope-key values per position (vs ${2 * o.heads * o.vHeadDim} for plain attention); kv_b_proj expands keys and values per head as GEMVs (codegen may absorb it into the query and output projections instead)`,
      "the MLA softmax",
    );
    const entry = ctx.entry({
      key: "kv_lora_rank",
      paths: ctx.pathsOf(...MLA_KEYS),
      value: m,
      detail: `MLA: q ${m?.q_lora_rank ? `LoRA rank ${m.q_lora_rank}` : "full projection"}, kv rank ${o.kvRank}, heads ${o.heads} × (${o.nopeDim} nope + ${o.ropeDim} rope), v ${o.vHeadDim}`,
      verdict,
      ops: ids(ops),
      cvo,
    });
    return { graph, entries: [entry] };
  },
};
