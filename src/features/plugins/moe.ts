/**
 * Mixture-of-experts features: the router (score function, top-k, renormalisation, scaling,
 * DeepSeek's group limits and correction bias, layer placement) and the experts (routed experts
 * streamed by a per-token choice, shared experts run for every token).
 */
import type { MoeRouteOp } from "../../resolver/graph/index.js";
import type { FeaturePlugin, LedgerEntry } from "../types.js";
import { firstValue, groupBy, ids, layerRanges, layersOf, num, plural, weightMap } from "./util.js";

const ROUTE_KEYS = [
  "num_experts",
  "num_local_experts",
  "n_routed_experts",
  "num_experts_per_tok",
  "experts_per_token",
  "top_k_experts",
  "scoring_func",
  "topk_method",
  "norm_topk_prob",
  "routed_scaling_factor",
  "moe_layer_freq",
  "first_k_dense_replace",
  "decoder_sparse_step",
  "mlp_only_layers",
  "enable_moe_block",
];
const GROUP_KEYS = ["n_group", "topk_group"];

function describeRoute(o: MoeRouteOp): string {
  const parts = [`${o.scoring} top-${o.topK} of ${o.numExperts} experts`];
  if (o.normalize) parts.push("renormalised");
  if (o.routedScale !== 1) parts.push(`× ${num(o.routedScale)}`);
  if (o.correctionBias) parts.push("selection bias");
  if (o.perExpertScale) parts.push("per-expert scale");
  return parts.join(", ");
}

const HOST_ROUTING =
  "the router logits GEMV runs on the NPU; the host reads the logits, computes scores, selection and weights in float32 and sets the relocations that pick the experts' weight streams";

export const moeRouting: FeaturePlugin = {
  id: "moe-routing",
  summary:
    "MoE router: score function (softmax/sigmoid), top-k, renormalisation, routed scaling, group-limited selection and bias (DeepSeek), layer placement. Top-k selection has no NPU instruction: host.",
  keys: [...ROUTE_KEYS, ...GROUP_KEYS],
  detect: (_p, g) => g.ops.some((o) => o.kind === "moe_route"),
  apply(graph, parsed, target, ctx) {
    const ops = ctx.opsOf(graph, "moe_route");
    const entries: LedgerEntry[] = [];
    const reason = `expert selection (top-k over ${ops[0]!.numExperts} scores) has no NPU instruction on ${target.file.name} (pccx-v002.md §4)`;
    for (const [, group] of groupBy(ops, (o) => describeRoute(o))) {
      const o = group[0]!;
      if (o.topK > o.numExperts)
        entries.push(
          ctx.entry({
            key: "num_experts_per_tok",
            paths: ctx.pathsOf("num_experts_per_tok", "experts_per_token", "top_k_experts"),
            value: o.topK,
            detail: `top-${o.topK} of ${o.numExperts} experts`,
            verdict: {
              kind: "rejected",
              reason: "more experts per token than experts",
              fix: "set num_experts_per_tok ≤ the number of experts",
            },
            ops: ids(group),
          }),
        );
      entries.push(
        ctx.entry({
          key: firstValue(parsed, ["num_experts_per_tok", "experts_per_token", "top_k_experts"]).key,
          paths: ctx.pathsOf(...ROUTE_KEYS),
          value: {
            scoring: o.scoring,
            topK: o.topK,
            numExperts: o.numExperts,
            normalize: o.normalize,
            routedScale: o.routedScale,
          },
          detail: `${describeRoute(o)} in ${layerRanges(layersOf(group))}`,
          verdict: { kind: "host", reason, how: HOST_ROUTING },
          ops: ids(group),
        }),
      );
    }
    const grouped = ops.filter((o) => o.groups !== undefined);
    if (grouped.length > 0) {
      const g = grouped[0]!.groups!;
      entries.push(
        ctx.entry({
          key: "n_group",
          paths: ctx.pathsOf(...GROUP_KEYS, "topk_method"),
          value: g,
          detail: `group-limited routing: ${g.count} groups of ${grouped[0]!.numExperts / g.count}, keep the best ${g.topk} (group score ${g.score === "max" ? "max" : "sum of the top 2"})`,
          verdict: { kind: "host", reason, how: "part of the host's routing step" },
          ops: ids(grouped),
        }),
      );
    }
    return { graph, entries };
  },
};

const EXPERT_KEYS = [
  "moe_intermediate_size",
  "expert_intermediate_size",
  "n_shared_experts",
  "shared_expert_intermediate_size",
];

export const moeExperts: FeaturePlugin = {
  id: "moe-experts",
  summary:
    "Routed experts (only the chosen experts' weights stream each token) and shared experts (a dense MLP every token).",
  keys: EXPERT_KEYS,
  detect: (_p, g) => g.ops.some((o) => o.kind === "moe_experts"),
  apply(graph, parsed, _t, ctx) {
    const ops = ctx.opsOf(graph, "moe_experts");
    const o = ops[0]!;
    const route = ctx.opsOf(graph, "moe_route")[0];
    const k = route?.topK ?? 0;
    const entries: LedgerEntry[] = [
      ctx.entry({
        key: firstValue(parsed, ["moe_intermediate_size", "expert_intermediate_size", "intermediate_size"])
          .key,
        paths: ctx.pathsOf("moe_intermediate_size", "expert_intermediate_size"),
        value: { numExperts: o.numExperts, intermediate: o.intermediate },
        detail: `${o.numExperts} experts of width ${o.intermediate} (${o.gate.kind === "stacked" ? "stacked tensors" : "one tensor per expert"}) in ${layerRanges(layersOf(ops))}`,
        verdict: {
          kind: "lowered",
          how: `per token only the ${k} chosen experts' gate/up/down rows stream (their DMA offsets are relocated by the host's routing step); each expert is three GEMVs and the results accumulate weighted (SCALE with accm)`,
        },
        ops: ids(ops),
      }),
    ];
    const w = weightMap(graph);
    const shared = ctx
      .opsOf(graph, "linear")
      .filter((l) => (w.get(l.weight.weight)?.role ?? "").startsWith("shared_expert_"));
    if (shared.length > 0) {
      const n = parsed.text.moe?.n_shared_experts ?? 0;
      entries.push(
        ctx.entry({
          key: "n_shared_experts",
          paths: ctx.pathsOf("n_shared_experts"),
          value: n,
          detail: `${n || "fused"} shared expert${n === 1 ? "" : "s"} (width ${parsed.text.moe?.shared_expert_intermediate_size ?? "?"}) in ${layerRanges(layersOf(shared))}: ${plural(shared.length, "projection")}`,
          verdict: {
            kind: "lowered",
            how: "a dense gated MLP run for every token; its down projection accumulates onto the routed sum (accm)",
          },
          ops: ids(shared),
        }),
      );
    }
    return { graph, entries };
  },
};
