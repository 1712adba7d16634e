/**
 * Normalisation and bias features: the norm flavour (RMSNorm x̂·w or x̂·(1+w), LayerNorm, weightless),
 * per-head q/k(/v) norms, and projection biases.
 */
import type { ModelGraph, Op, RmsNormOp } from "../../resolver/graph/index.js";
import { hasL2ToL2Copy } from "../context.js";
import type { FeatureContext, FeaturePlugin, LedgerEntry } from "../types.js";
import { cvoVerdict, firstValue, groupBy, ids, num, producers, weightMap } from "./util.js";

/** Row width of an op's input value. */
function inputWidth(g: ModelGraph, input: string): number {
  const v = g.values.find((x) => x.id === input);
  const n = v?.shape[1];
  return typeof n === "number" ? n : 0;
}

const HEAD_ROLES = ["attn_q", "attn_k", "attn_v", "attn_qkv"];

/**
 * Per-head norms of queries, keys or values: RMSNorms whose input comes (through slices) from a
 * q/k/v projection. Other grouped norms (the per-layer-embedding projection norm) and MLA's latent
 * norms are the `norm` plugin's.
 */
function attentionHeadNorms(g: ModelGraph): Set<string> {
  const w = weightMap(g);
  const prod = producers(g);
  const fromAttention = (value: string, depth: number): boolean => {
    const p = prod.get(value);
    if (!p || depth > 3) return false;
    if (p.kind === "linear") return HEAD_ROLES.includes(w.get(p.weight.weight)?.role ?? "");
    return p.kind === "slice" ? fromAttention(p.input, depth + 1) : false;
  };
  return new Set(
    g.ops.filter((o): o is RmsNormOp => o.kind === "rms_norm" && fromAttention(o.input, 0)).map((o) => o.id),
  );
}

const RMS_CVO = ["SQUARE", "REDUCE_SUM", "SCALE", "SQRT", "RECIP"];
const RMS_HOW =
  "SQUARE, REDUCE_SUM accumulated onto n·eps, SCALE 1/n, SQRT, RECIP, then SCALE of the row by that scalar";

function rmsVerdict(ctx: FeatureContext, ops: readonly RmsNormOp[], what: string) {
  const weighted = ops.some((o) => o.weight !== undefined);
  const needs = weighted ? [...RMS_CVO, "MUL"] : RMS_CVO;
  return cvoVerdict(
    ctx,
    needs,
    `${RMS_HOW}${weighted ? "; MUL by the weight (codegen may fold it into the next projection instead)" : ""}`,
    what,
  );
}

const NORM_KEYS = ["rms_norm_eps", "layer_norm_epsilon", "layer_norm_eps"];

export const norm: FeaturePlugin = {
  id: "norm",
  summary:
    "Norm flavour of every norm but the per-head attention ones: RMSNorm (x̂·w, Gemma's x̂·(1+w), weightless, grouped) or LayerNorm with bias; SFU sequence when the target has SQUARE/MUL, else host.",
  keys: NORM_KEYS,
  detect: (_p, g) => g.ops.some((o) => o.kind === "layer_norm" || o.kind === "rms_norm"),
  apply(graph, parsed, _t, ctx) {
    const heads = attentionHeadNorms(graph);
    const rows = ctx.opsOf(graph, "rms_norm").filter((o) => !heads.has(o.id));
    const paths = ctx.pathsOf(...NORM_KEYS);
    const key = firstValue(parsed, NORM_KEYS).key;
    const entries: LedgerEntry[] = [];
    const grouped = (o: RmsNormOp) => o.groupSize < inputWidth(graph, o.input);
    for (const [, ops] of groupBy(
      rows,
      (o) => `${o.weightOffset}|${o.weight !== undefined}|${o.eps}|${grouped(o) ? o.groupSize : 0}`,
    )) {
      const o = ops[0]!;
      const flavour =
        (!o.weight ? "weightless RMSNorm" : o.weightOffset === 1 ? "RMSNorm x̂·(1+w)" : "RMSNorm x̂·w") +
        (grouped(o) ? ` per group of ${o.groupSize}` : "");
      const { verdict, cvo } = rmsVerdict(ctx, ops, `RMSNorm (${flavour})`);
      entries.push(
        ctx.entry({
          key,
          paths,
          value: o.eps,
          detail: `${flavour}, eps ${num(o.eps)}`,
          verdict,
          ops: ids(ops),
          cvo,
        }),
      );
    }
    const ln = ctx.opsOf(graph, "layer_norm");
    if (ln.length > 0) {
      const { verdict, cvo } = cvoVerdict(
        ctx,
        ["REDUCE_SUM", "SCALE", "ADD", "SQUARE", "SQRT", "RECIP", "MUL"],
        "mean by REDUCE_SUM/SCALE, centring with ADD, variance by SQUARE/REDUCE_SUM, SQRT, RECIP, SCALE, then MUL by the weight and ADD of the bias",
        "LayerNorm",
      );
      entries.push(
        ctx.entry({
          key,
          paths,
          value: ln[0]!.eps,
          detail: `LayerNorm with bias, eps ${num(ln[0]!.eps)}`,
          verdict,
          ops: ids(ln),
          cvo,
        }),
      );
    }
    return { graph, entries };
  },
};

export const qkNorm: FeaturePlugin = {
  id: "qk-norm",
  summary:
    "Per-head RMSNorms on queries and keys (Qwen3, Gemma 3+) and Gemma 3n/4's weightless value norm: the RMSNorm sequence once per head.",
  keys: [],
  detect: (_p, g) => attentionHeadNorms(g).size > 0,
  apply(graph, _p, _t, ctx) {
    const heads = attentionHeadNorms(graph);
    const perHead = ctx.opsOf(graph, "rms_norm").filter((o) => heads.has(o.id));
    const entries = groupBy(perHead, (o) => `${o.weight !== undefined}|${o.groupSize}`).map(([, ops]) => {
      const o = ops[0]!;
      const { verdict, cvo } = rmsVerdict(ctx, ops, "a per-head RMSNorm");
      return ctx.entry({
        key: "",
        paths: [],
        value: { groupSize: o.groupSize, weighted: o.weight !== undefined },
        detail: `${o.weight ? "" : "weightless "}RMSNorm over each head of ${o.groupSize}`,
        verdict,
        ops: ids(ops),
        cvo,
      });
    });
    return { graph, entries };
  },
};

const BIAS_KEYS = ["attention_bias", "mlp_bias"];

export const biases: FeaturePlugin = {
  id: "biases",
  summary:
    "Projection biases (attention_bias, mlp_bias, Qwen2's implicit q/k/v bias, GPT-2, gpt-oss): preloaded into the GEMV destination and accumulated.",
  keys: BIAS_KEYS,
  detect: (_p, g) =>
    g.ops.some(
      (o) =>
        (o.kind === "linear" && o.bias !== undefined) ||
        (o.kind === "moe_experts" && (o.gateBias || o.upBias || o.downBias) !== undefined),
    ),
  apply(graph, parsed, target, ctx) {
    const w = weightMap(graph);
    const biased: Op[] = graph.ops.filter(
      (o) =>
        (o.kind === "linear" && o.bias !== undefined) ||
        (o.kind === "moe_experts" && (o.gateBias || o.upBias || o.downBias) !== undefined),
    );
    const role = (o: Op) => (o.kind === "linear" ? (w.get(o.weight.weight)?.role ?? "other") : "experts");
    const roles = [...new Set(biased.map(role))];
    const copy = hasL2ToL2Copy(target);
    const entry = ctx.entry({
      key: firstValue(parsed, BIAS_KEYS).key,
      paths: ctx.pathsOf(...BIAS_KEYS),
      value: {
        attention_qkv_bias: parsed.text.attention_qkv_bias,
        attention_out_bias: parsed.text.attention_out_bias,
        mlp_bias: parsed.text.mlp_bias,
      },
      detail: `biases on ${roles.join(", ")}`,
      verdict: copy
        ? {
            kind: "lowered",
            how: "the bias (BF16, kept in L2) is copied into the GEMV destination with MEMCPY L2→L2, then the GEMV accumulates onto it (accm flag)",
          }
        : ctx.hasCvo("ADD")
          ? { kind: "lowered", how: "CVO ADD of the bias (kept in L2) to the projection output" }
          : {
              kind: "host",
              reason: `${target.file.name} has neither an L2→L2 MEMCPY to preload the bias nor a vector ADD`,
              how: "the host adds the bias to the projection output",
            },
      ops: ids(biased),
    });
    return { graph, entries: [entry] };
  },
};
