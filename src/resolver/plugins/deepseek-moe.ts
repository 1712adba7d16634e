/**
 * DeepSeek feed-forward blocks: the dense gated MLP of the first `first_k_dense_replace` layers and
 * the DeepSeekMoE block (router `mlp.gate`, routed experts `mlp.experts.N.{gate,up,down}_proj`,
 * always-on shared experts `mlp.shared_experts.*` of width moe_intermediate_size × n_shared_experts,
 * summed). Routing follows the checkpoints' own `modeling_deepseek.py` MoEGate:
 * - V2: softmax scores; `greedy` top-k, or `group_limited_greedy` (groups scored by their max);
 *   if `norm_topk_prob` (and k > 1) the k weights are renormalised, otherwise multiplied by
 *   `routed_scaling_factor` (one or the other, never both).
 * - V3: sigmoid scores; `noaux_tc`: `e_score_correction_bias` added for selection only, groups
 *   scored by the sum of their two best experts, top `topk_group` groups kept; weights from the
 *   unbiased scores, renormalised if `norm_topk_prob`, then × `routed_scaling_factor`.
 * Linear weights go through `linearWeight`, so FP8 checkpoints get their `weight_scale_inv`.
 */
import type { TextConfig } from "../../parser/config/index.js";
import type { ExpertMatrix, MoeRouteOp, ValueId, WeightRole } from "../graph/index.js";
import { actFnOf, type BlockCtx, builderBug, declare, joinName } from "./common/index.js";
import { linearWeight } from "./common-b.js";

export type DeepseekVersion = "v2" | "v3";

export interface MlpSpec {
  readonly prefix: string;
  readonly input: ValueId;
  readonly intermediate: number;
  readonly roles: "mlp" | "shared_expert";
  readonly widthKeys: readonly string[];
  readonly unused?: string;
  readonly valueName?: string;
}

/** `down(silu(gate·x) · up·x)` with FP8-aware weights; declarations only when `unused`. */
export function deepseekMlp(ctx: BlockCtx, s: MlpSpec): ValueId | undefined {
  const { b, cfg } = ctx;
  const H = cfg.hidden_size;
  const I = s.intermediate;
  const role = (part: "gate" | "up" | "down") => `${s.roles}_${part}` as WeightRole;
  const o = { keys: ["hidden_size", ...s.widthKeys], ...(s.unused ? { unused: s.unused } : {}) };
  const g = linearWeight(ctx, joinName(s.prefix, "gate_proj", "weight"), [I, H], role("gate"), o);
  const u = linearWeight(ctx, joinName(s.prefix, "up_proj", "weight"), [I, H], role("up"), o);
  const d = linearWeight(ctx, joinName(s.prefix, "down_proj", "weight"), [H, I], role("down"), o);
  if (s.unused) return undefined;
  const gate = b.linear(s.input, g, undefined, { name: "gate" });
  const up = b.linear(s.input, u, undefined, { name: "up" });
  const h = b.glu(
    gate,
    up,
    { fn: actFnOf(cfg.hidden_act, cfg.hidden_act_name) },
    { name: "glu", keys: ["hidden_act"] },
  );
  return b.linear(h, d, undefined, { name: s.valueName ?? "mlp_out" });
}

/** The moe_route attributes of a DeepSeek config (see the file header). */
export function deepseekRouting(
  cfg: TextConfig,
  version: DeepseekVersion,
): Pick<MoeRouteOp, "numExperts" | "topK" | "scoring" | "normalize" | "routedScale" | "groups"> & {
  readonly correctionBias: boolean;
} {
  const m = cfg.moe;
  if (!m) throw builderBug("no-moe", `${cfg.model_type}: an MoE layer without a moe block in the TextConfig`);
  const normalize = m.norm_topk_prob && m.num_experts_per_tok > 1;
  const grouped = m.topk_method !== "greedy" && m.n_group !== null && m.n_group > 1;
  return {
    numExperts: m.num_experts,
    topK: m.num_experts_per_tok,
    scoring: m.scoring_func,
    normalize,
    routedScale: version === "v2" && normalize ? 1 : m.routed_scaling_factor,
    ...(grouped
      ? {
          groups: {
            count: m.n_group!,
            topk: m.topk_group ?? m.n_group!,
            score: m.topk_method === "noaux_tc" ? ("top2_sum" as const) : ("max" as const),
          },
        }
      : {}),
    correctionBias: m.topk_method === "noaux_tc",
  };
}

export interface MoeSpec {
  readonly layer: number;
  /** e.g. `model.layers.3.mlp`. */
  readonly prefix: string;
  readonly input: ValueId;
  readonly version: DeepseekVersion;
  readonly unused?: string;
}

/** Appends (or only declares) the DeepSeekMoE block; returns routed + shared experts. */
export function deepseekMoe(ctx: BlockCtx, s: MoeSpec): ValueId | undefined {
  const { b, cfg } = ctx;
  const m = cfg.moe;
  if (!m) throw builderBug("no-moe", `layer ${s.layer}: MoE layer without a moe block`);
  const H = cfg.hidden_size;
  const E = m.num_experts;
  const I = m.moe_intermediate_size;
  const r = deepseekRouting(cfg, s.version);
  const u = s.unused ? { unused: s.unused } : {};
  // The router is an nn.Parameter of MoEGate, not an nn.Linear: never FP8-quantized.
  const router = declare(ctx, joinName(s.prefix, "gate", "weight"), [E, H], "router", {
    keys: ["hidden_size", "moe.num_experts"],
    ...u,
  });
  const bias = r.correctionBias
    ? declare(ctx, joinName(s.prefix, "gate", "e_score_correction_bias"), [E], "bias", {
        dtype: "F32",
        keys: ["moe.topk_method"],
        ...u,
      })
    : undefined;
  const expertKeys = ["hidden_size", "moe.num_experts", "moe.moe_intermediate_size"];
  const g: string[] = [];
  const up: string[] = [];
  const d: string[] = [];
  for (let e = 0; e < E; e++) {
    const ep = joinName(s.prefix, "experts", e);
    const o = { keys: expertKeys, ...u };
    g.push(linearWeight(ctx, joinName(ep, "gate_proj", "weight"), [I, H], "expert_gate", o));
    up.push(linearWeight(ctx, joinName(ep, "up_proj", "weight"), [I, H], "expert_up", o));
    d.push(linearWeight(ctx, joinName(ep, "down_proj", "weight"), [H, I], "expert_down", o));
  }
  const sharedWidth = m.shared_expert_intermediate_size;
  const sharedSpec = (input: ValueId): MlpSpec => ({
    prefix: joinName(s.prefix, "shared_experts"),
    input,
    intermediate: sharedWidth ?? 0,
    roles: "shared_expert",
    widthKeys: ["moe.shared_expert_intermediate_size", "moe.n_shared_experts"],
    valueName: "shared_out",
    ...u,
  });
  if (s.unused) {
    if (sharedWidth) deepseekMlp(ctx, sharedSpec(s.input));
    return undefined;
  }

  const logits = b.linear(s.input, router, undefined, { name: "router_logits" });
  const [indices, weights] = b.emit(
    "moe_route",
    {
      logits,
      numExperts: r.numExperts,
      topK: r.topK,
      scoring: r.scoring,
      normalize: r.normalize,
      routedScale: r.routedScale,
      ...(r.groups ? { groups: r.groups } : {}),
      ...(bias ? { correctionBias: { weight: bias } } : {}),
    },
    {
      keys: [
        "moe.num_experts",
        "moe.num_experts_per_tok",
        "moe.scoring_func",
        "moe.topk_method",
        "moe.n_group",
        "moe.topk_group",
        "moe.norm_topk_prob",
        "moe.routed_scaling_factor",
      ],
    },
  );
  const per = (weights: string[]): ExpertMatrix => ({ kind: "per_expert", weights });
  const routed = b.emit(
    "moe_experts",
    {
      input: s.input,
      indices: indices!,
      weights: weights!,
      numExperts: E,
      intermediate: I,
      gate: per(g),
      up: per(up),
      down: per(d),
      act: { fn: actFnOf(cfg.hidden_act, cfg.hidden_act_name) },
    },
    { name: "moe_out", keys: ["hidden_act", ...expertKeys] },
  )[0]!;
  if (!sharedWidth) return routed;
  const shared = deepseekMlp(ctx, sharedSpec(s.input))!;
  return b.add(routed, shared, { name: "moe_sum" });
}
