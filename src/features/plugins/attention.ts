/**
 * Attention features: score scaling, GQA/MQA, sliding windows per layer type, attention softcap
 * and sinks (KV sharing, k = v, bidirectional attention and MLA: attention-variants.ts). The
 * resolver has already put each of them in the graph; these plugins check the graph against the config, classify
 * each for the target, and rewrite a window that covers the whole context into a causal mask.
 */
import type { AttentionOp, MlaAttentionOp, ModelGraph, Op } from "../../resolver/graph/index.js";
import { rawValue } from "../keys.js";
import type { FeaturePlugin, LedgerEntry } from "../types.js";
import { cvoVerdict, graphMismatch, groupBy, ids, layerRanges, layersOf, num } from "./util.js";

type AnyAttention = AttentionOp | MlaAttentionOp;
const attentionOps = (g: ModelGraph): AnyAttention[] =>
  g.ops.filter((o): o is AnyAttention => o.kind === "attention" || o.kind === "mla_attention");

const SOFTMAX_CVO = ["EXP", "REDUCE_SUM", "SCALE"];

const SCALE_KEYS = ["query_pre_attn_scalar", "scale_attn_weights", "scale_attn_by_inverse_layer_idx"];

export const attentionScale: FeaturePlugin = {
  id: "attention-scale",
  summary:
    "Attention score scale (head_dim^-½, Gemma's query_pre_attn_scalar^-½, 1.0 after q/k norms, GPT-2's per-layer options, YaRN mscale²): one CVO SCALE.",
  keys: SCALE_KEYS,
  detect: (_p, g) => attentionOps(g).length > 0,
  apply(graph, parsed, _t, ctx) {
    const entries: LedgerEntry[] = [];
    const unknown = ctx.pathsOf("query_pre_attn_scalar").filter((p) => parsed.unknownKeys.includes(p));
    const paths = ctx.pathsOf(...SCALE_KEYS).filter((p) => !unknown.includes(p));
    const key = SCALE_KEYS.find((k) => ctx.pathsOf(k).some((p) => paths.includes(p))) ?? "";
    for (const [, ops] of groupBy(attentionOps(graph), (o) => String(o.scale))) {
      const { verdict, cvo } = cvoVerdict(
        ctx,
        ["SCALE"],
        "one CVO SCALE of the scores before the softmax (or folded into the query projection's row scales)",
        "the score scale",
      );
      entries.push(
        ctx.entry({
          key,
          paths,
          value: ops[0]!.scale,
          detail: `scores × ${num(ops[0]!.scale)} in ${layerRanges(layersOf(ops))}`,
          verdict,
          ops: ids(ops),
          cvo,
        }),
      );
    }
    for (const p of unknown)
      entries.push(
        ctx.entry({
          key: "query_pre_attn_scalar",
          paths: [p],
          value: parsed.text.attention_scale_one,
          detail: `query_pre_attn_scalar written for ${parsed.text.model_type}, whose class does not define it`,
          verdict: {
            kind: "ignored",
            reason: parsed.text.attention_scale_one
              ? `${parsed.text.model_type}'s config class does not define it and its attention scales by 1.0 (q/k norms)`
              : `${parsed.text.model_type}'s config class does not define it; the attention scale is head_dim^-0.5`,
          },
          ops: [],
        }),
      );
    return { graph, entries };
  },
};

const KV_KEYS = ["num_key_value_heads", "num_global_key_value_heads"];

export const gqa: FeaturePlugin = {
  id: "gqa",
  summary:
    "Grouped-query / multi-query attention: each KV head's cached rows are read once per token for its group of query heads.",
  keys: KV_KEYS,
  detect: (_p, g) => g.ops.some((o) => o.kind === "attention"),
  apply(graph, _p, _t, ctx) {
    const att = ctx.opsOf(graph, "attention");
    const entries = groupBy(att, (o) => `${o.heads}/${o.kvHeads}`).map(([, ops]) => {
      const { heads, kvHeads } = ops[0]!;
      const r = heads / kvHeads;
      const kind = kvHeads === heads ? "MHA" : kvHeads === 1 ? "MQA" : "GQA";
      return ctx.entry({
        key: "num_key_value_heads",
        paths: ctx.pathsOf(...KV_KEYS),
        value: { heads, kvHeads },
        detail: `${kind} ${r}:1 (${heads} query heads, ${kvHeads} KV head${kvHeads > 1 ? "s" : ""}) in ${layerRanges(layersOf(ops))}`,
        verdict: {
          kind: "lowered",
          how:
            r === 1
              ? "one K/V head per query head"
              : `the K and V rows of each KV head are streamed once per token and serve its ${r} query heads`,
        },
        ops: ids(ops),
      });
    });
    return { graph, entries };
  },
};

const SLIDE_KEYS = [
  "sliding_window",
  "layer_types",
  "use_sliding_window",
  "max_window_layers",
  "sliding_window_pattern",
];

/** The mask the config asks for at `layer` (window null: causal). */
function expectedWindow(
  cfg: { layer_types: readonly string[]; sliding_window: number | null },
  layer: number,
): number | null {
  return cfg.layer_types[layer] === "sliding_attention" ? cfg.sliding_window : null;
}

export const slidingWindow: FeaturePlugin = {
  id: "sliding-window",
  summary:
    "Sliding-window attention per layer type (layer_types, sliding_window, Qwen's use_sliding_window/max_window_layers, Gemma 3's pattern): a KV ring of `window` slots; a window covering the whole context is rewritten to a causal mask.",
  keys: SLIDE_KEYS,
  detect: (p, g) =>
    attentionOps(g).some((o) => o.mask.kind === "sliding") || rawValue(p, "sliding_window") != null,
  apply(graph, parsed, target, ctx) {
    const cfg = parsed.text;
    const maxPos = cfg.max_position_embeddings;
    const ring = target.file.numeric.kv_cache.ring_capacity_tokens;
    const all = attentionOps(graph);
    for (const o of all) {
      const want = o.layer === undefined ? null : expectedWindow(cfg, o.layer);
      const got = o.mask.kind === "sliding" ? o.mask.window : null;
      const covered = want !== null && want >= maxPos && got === null; // already rewritten
      if (want !== got && !covered)
        throw graphMismatch(
          "sliding-window",
          `${o.id} (layer ${o.layer}) has ${got === null ? "a causal mask" : `window ${got}`}, layer_types/sliding_window ask for ${want === null ? "full attention" : `window ${want}`}`,
        );
    }
    const paths = ctx.pathsOf(...SLIDE_KEYS);
    const sliding = all.filter((o) => o.mask.kind === "sliding");
    const entries: LedgerEntry[] = [];
    let out = graph;
    const wide = sliding.filter((o) => o.mask.kind === "sliding" && o.mask.window >= maxPos);
    if (wide.length > 0) {
      const set = new Set(ids(wide));
      out = {
        ...graph,
        ops: graph.ops.map(
          (o): Op => (set.has(o.id) ? { ...(o as AnyAttention), mask: { kind: "causal" } } : o),
        ),
      };
      entries.push(
        ctx.entry({
          key: "sliding_window",
          paths,
          value: cfg.sliding_window,
          detail: `window ${cfg.sliding_window} ≥ max_position_embeddings ${maxPos} in ${layerRanges(layersOf(wide))}`,
          verdict: {
            kind: "lowered",
            how: "no position the model can reach falls outside the window, so the mask is rewritten to plain causal attention",
          },
          ops: ids(wide),
        }),
      );
    }
    const real = sliding.filter((o) => !wide.includes(o));
    for (const [, ops] of groupBy(real, (o) => String(o.mask.kind === "sliding" ? o.mask.window : 0))) {
      const w = (ops[0]!.mask as { window: number }).window;
      entries.push(
        ctx.entry({
          key: "sliding_window",
          paths,
          value: w,
          detail: `${ops.length} of ${cfg.num_hidden_layers} layers slide over ${w} tokens (${layerRanges(layersOf(ops))}); ${all.length - sliding.length} full-attention`,
          verdict: {
            kind: "lowered",
            how: `these layers attend to the last min(position+1, ${w}) cached positions: their KV ring has ${Math.min(w, ring)} slots and the K/V DMA length is relocated per token`,
          },
          ops: ids(ops),
          ...(w > ring
            ? {
                notes: [
                  `window ${w} > KV ring ${ring}: sequences are limited to ${ring} tokens (context-length), so no position ever leaves the window`,
                ],
              }
            : {}),
        }),
      );
    }
    if (sliding.length === 0 && rawValue(parsed, "sliding_window") != null)
      entries.push(
        ctx.entry({
          key: "sliding_window",
          paths,
          value: rawValue(parsed, "sliding_window"),
          detail: "sliding_window is set but no layer slides",
          verdict: {
            kind: "ignored",
            reason:
              rawValue(parsed, "use_sliding_window") === false
                ? "use_sliding_window is false"
                : "no layer is a sliding_attention layer",
          },
          ops: [],
        }),
      );
    return { graph: out, entries };
  },
};

export const softcap: FeaturePlugin = {
  id: "softcap",
  summary:
    "Logit soft-capping c·tanh(x/c) of attention scores and final logits (Gemma 2/3/3n/4): SCALE, TANH, SCALE when the target has TANH, else host.",
  keys: ["attn_logit_softcapping", "final_logit_softcapping"],
  detect: (_p, g) =>
    g.ops.some((o) => o.kind === "softcap" || (o.kind === "attention" && o.softcap !== undefined)),
  apply(graph, parsed, _t, ctx) {
    const entries: LedgerEntry[] = [];
    const att = ctx.opsOf(graph, "attention").filter((o) => o.softcap !== undefined);
    const fin = ctx.opsOf(graph, "softcap");
    for (const o of att)
      if (o.softcap !== parsed.text.attn_logit_softcapping)
        throw graphMismatch(
          "softcap",
          `${o.id} caps scores at ${o.softcap}, attn_logit_softcapping is ${parsed.text.attn_logit_softcapping}`,
        );
    const add = (key: string, ops: readonly Op[], cap: number, where: string, note?: string) => {
      const { verdict, cvo } = cvoVerdict(
        ctx,
        ["SCALE", "TANH"],
        `SCALE by 1/${num(cap)}, TANH, SCALE by ${num(cap)}`,
        `soft-capping the ${where}`,
      );
      entries.push(
        ctx.entry({
          key,
          paths: ctx.pathsOf(key),
          value: cap,
          detail: `${where} capped at ${num(cap)}·tanh(x/${num(cap)})`,
          verdict,
          ops: ids(ops),
          cvo,
          ...(verdict.kind === "host" && note ? { notes: [note] } : {}),
        }),
      );
    };
    if (att.length)
      add(
        "attn_logit_softcapping",
        att,
        att[0]!.softcap!,
        "attention scores",
        "the scores of every head go to the host and back between the Q·Kᵀ GEMV and the softmax",
      );
    if (fin.length) add("final_logit_softcapping", fin, fin[0]!.cap, "final logits");
    return { graph, entries };
  },
};

export const attentionSinks: FeaturePlugin = {
  id: "attention-sinks",
  summary: "Learned per-head attention sinks (gpt-oss): the sink logit joins the softmax denominator only.",
  keys: [],
  detect: (_p, g) => g.ops.some((o) => o.kind === "attention" && o.sinks !== undefined),
  apply(graph, _p, _t, ctx) {
    const ops = ctx.opsOf(graph, "attention").filter((o) => o.sinks !== undefined);
    const { verdict, cvo } = cvoVerdict(
      ctx,
      SOFTMAX_CVO,
      "each head's sink logit is written after its scores, so EXP (sub_emax) and REDUCE_SUM include exp(sink − max) in the denominator; the P·V GEMV reads the scores only",
      "the sink term of the softmax",
    );
    const entry = ctx.entry({
      key: "",
      paths: [],
      value: true,
      detail: `per-head sink logits in ${layerRanges(layersOf(ops))}`,
      verdict,
      ops: ids(ops),
      cvo,
    });
    return { graph, entries: [entry] };
  },
};
