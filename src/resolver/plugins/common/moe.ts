/**
 * The sparse MoE block: router linear → moe_route → moe_experts, experts stored one tensor per
 * expert (Mixtral `experts.N.w1`, Qwen3-MoE / DeepSeek `experts.N.gate_proj`) or stacked `[E, …]`
 * (gpt-oss, Gemma 4; optionally transposed, fused and interleaved), plus optional always-on shared
 * experts (DeepSeek `shared_experts`, with an optional sigmoid gate as in Qwen2-MoE).
 */
import type { ExpertMatrix, ExpertVector, GluAct, MoeRouteOp, Slice, ValueId } from "../../graph/index.js";
import { type BlockCtx, builderBug, declare, joinName } from "./context.js";
import { actFnOf, gatedMlp } from "./mlp.js";

/** How the routed experts are stored. */
export type ExpertLayout =
  | {
      /** `<prefix>.<e>.<gate|up|down>.weight`, nn.Linear orientation. */
      readonly kind: "per_expert";
      readonly prefix: string;
      readonly gate: string;
      readonly up: string;
      readonly down: string;
    }
  | {
      /** One `[E, …]` tensor per part; names are full tensor names. */
      readonly kind: "stacked";
      /** Fused gate/up `[E, 2I, H]` (or `[E, H, 2I]` transposed), else separate `gate` and `up`. */
      readonly gateUp?: string;
      readonly gate?: string;
      readonly up?: string;
      readonly down: string;
      /** Stored [in, out] per expert (gpt-oss). */
      readonly transposed?: boolean;
      /** gate/up alternate along the fused axis (gpt-oss: gate = 0, 2, 4 …; up = 1, 3, 5 …). */
      readonly interleaved?: boolean;
      /** Bias tensor names (gpt-oss `gate_up_proj_bias`, `down_proj_bias`). */
      readonly gateUpBias?: string;
      readonly downBias?: string;
    };

export interface SharedExperts {
  /** Module prefix, e.g. `model.layers.3.mlp.shared_experts`; modules gate_proj/up_proj/down_proj. */
  readonly prefix: string;
  readonly intermediate: number;
  /** Full name of a `[1, H]` gate weight: the shared output is scaled by σ(gate·x) (Qwen2-MoE). */
  readonly gate?: string;
  readonly widthKeys?: readonly string[];
}

export interface MoeSpec {
  readonly layer: number;
  /** Input of the experts (and of the router unless `routerInput`). */
  readonly input: ValueId;
  readonly routerInput?: ValueId;
  /** Full tensor name of the router weight `[E, H]`, and of its bias if any. */
  readonly router: string;
  readonly routerBias?: string;
  readonly experts: ExpertLayout;
  /** Defaults from the config's moe block. */
  readonly numExperts?: number;
  readonly topK?: number;
  readonly intermediate?: number;
  readonly scoring?: "softmax" | "sigmoid";
  readonly normalize?: boolean;
  readonly routedScale?: number;
  readonly groups?: MoeRouteOp["groups"];
  /** Full tensor names of the selection bias / per-expert scale vectors ([E]). */
  readonly correctionBias?: string;
  readonly perExpertScale?: string;
  /** Default: glu with the config's activation. */
  readonly act?: GluAct;
  readonly shared?: SharedExperts;
  /** Config keys behind the routing attributes (default: the moe fields). */
  readonly routeKeys?: readonly string[];
}

/** Appends the MoE block and returns its output ([T, hidden]), shared experts included. */
export function moeBlock(ctx: BlockCtx, spec: MoeSpec): ValueId {
  const { b, cfg } = ctx;
  const moe = cfg.moe;
  const H = b.width(spec.input);
  const E = spec.numExperts ?? moe?.num_experts;
  const K = spec.topK ?? moe?.num_experts_per_tok;
  const I = spec.intermediate ?? moe?.moe_intermediate_size;
  if (E === undefined || K === undefined || I === undefined)
    throw builderBug("no-moe", `layer ${spec.layer}: an MoE block needs experts, top-k and width`);
  const expertKeys = ["hidden_size", "moe.num_experts", "moe.moe_intermediate_size"];
  const routeKeys = spec.routeKeys ?? ["moe.num_experts", "moe.num_experts_per_tok", "moe.norm_topk_prob"];

  const routerW = declare(ctx, spec.router, [E, H], "router", { keys: ["hidden_size", "moe.num_experts"] });
  const routerB = spec.routerBias
    ? declare(ctx, spec.routerBias, [E], "bias", { keys: ["moe.router_bias"] })
    : undefined;
  const logits = b.linear(spec.routerInput ?? spec.input, routerW, routerB, {
    name: "router_logits",
    keys: ["hidden_size", "moe.num_experts"],
  });
  const vec = (name: string | undefined, role: "bias" | "scale") =>
    name ? { weight: declare(ctx, name, [E], role, { keys: ["moe.num_experts"] }) } : undefined;
  const correctionBias = vec(spec.correctionBias, "bias");
  const perExpertScale = vec(spec.perExpertScale, "scale");
  const [indices, weights] = b.emit(
    "moe_route",
    {
      logits,
      numExperts: E,
      topK: K,
      scoring: spec.scoring ?? moe?.scoring_func ?? "softmax",
      normalize: spec.normalize ?? moe?.norm_topk_prob ?? false,
      routedScale: spec.routedScale ?? moe?.routed_scaling_factor ?? 1,
      ...(spec.groups ? { groups: spec.groups } : {}),
      ...(correctionBias ? { correctionBias } : {}),
      ...(perExpertScale ? { perExpertScale } : {}),
    },
    { keys: routeKeys },
  );

  const L = spec.experts;
  let gate: ExpertMatrix;
  let up: ExpertMatrix;
  let down: ExpertMatrix;
  let gateBias: ExpertVector | undefined;
  let upBias: ExpertVector | undefined;
  let downBias: ExpertVector | undefined;
  if (L.kind === "per_expert") {
    // Declaration order follows the checkpoint: expert by expert, gate/up/down within an expert.
    const g: string[] = [];
    const u: string[] = [];
    const d: string[] = [];
    for (let e = 0; e < E; e++) {
      g.push(
        declare(ctx, joinName(L.prefix, e, L.gate, "weight"), [I, H], "expert_gate", { keys: expertKeys }),
      );
      u.push(declare(ctx, joinName(L.prefix, e, L.up, "weight"), [I, H], "expert_up", { keys: expertKeys }));
      d.push(
        declare(ctx, joinName(L.prefix, e, L.down, "weight"), [H, I], "expert_down", { keys: expertKeys }),
      );
    }
    gate = { kind: "per_expert", weights: g };
    up = { kind: "per_expert", weights: u };
    down = { kind: "per_expert", weights: d };
  } else {
    const t = L.transposed ?? false;
    const m = (out: number, inp: number) => (t ? [E, inp, out] : [E, out, inp]);
    const opts = { transposed: t, keys: expertKeys };
    const rowsOf = (part: 0 | 1): Slice =>
      L.interleaved ? { start: part, count: I, step: 2 } : { start: part * I, count: I };
    if (L.gateUp) {
      const w = declare(ctx, L.gateUp, m(2 * I, H), "expert_gate_up", opts);
      gate = { kind: "stacked", weight: w, rows: rowsOf(0) };
      up = { kind: "stacked", weight: w, rows: rowsOf(1) };
      if (L.gateUpBias) {
        const bw = declare(ctx, L.gateUpBias, [E, 2 * I], "bias", { keys: expertKeys });
        gateBias = { kind: "stacked", weight: bw, slice: rowsOf(0) };
        upBias = { kind: "stacked", weight: bw, slice: rowsOf(1) };
      }
    } else {
      if (!L.gate || !L.up) throw builderBug("moe-layout", "stacked experts need gateUp or gate and up");
      gate = { kind: "stacked", weight: declare(ctx, L.gate, m(I, H), "expert_gate", opts) };
      up = { kind: "stacked", weight: declare(ctx, L.up, m(I, H), "expert_up", opts) };
    }
    down = { kind: "stacked", weight: declare(ctx, L.down, m(H, I), "expert_down", opts) };
    if (L.downBias)
      downBias = { kind: "stacked", weight: declare(ctx, L.downBias, [E, H], "bias", { keys: expertKeys }) };
  }
  const act = spec.act ?? { fn: actFnOf(cfg.hidden_act, cfg.hidden_act_name) };
  const routed = b.emit(
    "moe_experts",
    {
      input: spec.input,
      indices: indices!,
      weights: weights!,
      numExperts: E,
      intermediate: I,
      gate,
      up,
      down,
      ...(gateBias ? { gateBias } : {}),
      ...(upBias ? { upBias } : {}),
      ...(downBias ? { downBias } : {}),
      act,
    },
    { name: "moe_out", keys: ["hidden_act", ...expertKeys] },
  )[0]!;
  if (!spec.shared) return routed;

  const sh = spec.shared;
  let s = gatedMlp(ctx, {
    layer: spec.layer,
    prefix: sh.prefix,
    input: spec.input,
    intermediate: sh.intermediate,
    roles: "shared_expert",
    bias: false,
    widthKeys: sh.widthKeys ?? ["moe.shared_expert_intermediate_size"],
    valueName: "shared_out",
  });
  if (sh.gate) {
    const gw = declare(ctx, sh.gate, [1, H], "shared_expert_gate", { keys: ["hidden_size"] });
    const keys = ["hidden_size"];
    const g = b.activation(b.linear(spec.input, gw, undefined, { name: "shared_gate", keys }), "sigmoid", {
      keys,
    });
    s = b.mul(s, g, { name: "shared_gated", keys });
  }
  return b.add(routed, s, { name: "moe_sum", keys: ["moe.n_shared_experts"] });
}
