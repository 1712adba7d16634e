/**
 * Feed-forward blocks: the gated MLP (`down(act(gate·x) · up·x)`, separate or fused gate_up
 * tensors, optional biases, any activation, a hook for Gemma 3n's sparsity on the gate) and the
 * plain two-layer MLP (`down(act(up·x))`, GPT-2's c_fc/c_proj). Also maps the config activation
 * onto the graph's activation set.
 */
import type { Activation } from "../../../parser/config/index.js";
import type { ActFn, ValueId, WeightRole } from "../../graph/index.js";
import { type BlockCtx, declare, joinName, unsupportedValue } from "./context.js";

/** The graph activation of a config activation (quick_gelu has no graph op yet). */
export function actFnOf(act: Activation, configName?: string): ActFn {
  if (act === "quick_gelu")
    throw unsupportedValue(
      "hidden_act",
      configName ?? act,
      "add quick_gelu (x·σ(1.702x)) to ACT_FNS in src/resolver/graph/ops.ts and the golden kernels",
    );
  return act;
}

/** Weight roles of an MLP: the dense one, or the always-on shared experts of an MoE layer. */
export type MlpRoles = "mlp" | "shared_expert";

export interface GatedMlpSpec {
  readonly layer: number;
  /** Module prefix, e.g. `model.layers.0.mlp`. */
  readonly prefix: string;
  readonly input: ValueId;
  /** Default: intermediate_size[layer]. */
  readonly intermediate?: number;
  /** Separate modules (defaults gate_proj, up_proj, down_proj) or one fused gate_up module. */
  readonly gate?: string;
  readonly up?: string;
  readonly down?: string;
  /** Fused `[gate | up]` tensor along the output rows (Phi-3 gate_up_proj; gate first). */
  readonly gateUp?: string;
  /** Default: the config's hidden_act. */
  readonly act?: ActFn;
  /** Default: the config's mlp_bias. */
  readonly bias?: boolean;
  readonly roles?: MlpRoles;
  /** Transforms the gate projection before the activation (Gemma 3n gaussian_topk). */
  readonly gateTransform?: (gate: ValueId) => ValueId;
  /** Config keys of the width (default intermediate_size). */
  readonly widthKeys?: readonly string[];
  /** Name hint of the output value (default "mlp_out"). */
  readonly valueName?: string;
}

function roleOf(roles: MlpRoles, part: "gate" | "up" | "gate_up" | "down"): WeightRole {
  return `${roles === "mlp" ? "mlp" : "shared_expert"}_${part}` as WeightRole;
}

/** Appends a gated MLP and returns its output ([T, hidden]). */
export function gatedMlp(ctx: BlockCtx, spec: GatedMlpSpec): ValueId {
  const { b, cfg } = ctx;
  const H = b.width(spec.input);
  const I = spec.intermediate ?? cfg.intermediate_size[spec.layer] ?? 0;
  const roles = spec.roles ?? "mlp";
  const bias = spec.bias ?? cfg.mlp_bias;
  const keys = ["hidden_size", ...(spec.widthKeys ?? ["intermediate_size"])];
  const w = (module: string, shape: number[], role: WeightRole) =>
    declare(ctx, joinName(spec.prefix, module, "weight"), shape, role, { keys });
  const bv = (module: string, n: number) =>
    bias
      ? declare(ctx, joinName(spec.prefix, module, "bias"), [n], "bias", { keys: ["mlp_bias"] })
      : undefined;
  let gate: ValueId;
  let up: ValueId;
  if (spec.gateUp) {
    const gw = w(spec.gateUp, [2 * I, H], roleOf(roles, "gate_up"));
    const gb = bv(spec.gateUp, 2 * I);
    const half = (start: number, name: string) =>
      b.linear(
        spec.input,
        { weight: gw, rows: { start, count: I } },
        gb ? { weight: gb, slice: { start, count: I } } : undefined,
        { name, keys },
      );
    gate = half(0, "gate");
    up = half(I, "up");
  } else {
    const g = spec.gate ?? "gate_proj";
    const u = spec.up ?? "up_proj";
    gate = b.linear(spec.input, w(g, [I, H], roleOf(roles, "gate")), bv(g, I), { name: "gate", keys });
    up = b.linear(spec.input, w(u, [I, H], roleOf(roles, "up")), bv(u, I), { name: "up", keys });
  }
  if (spec.gateTransform) gate = spec.gateTransform(gate);
  const act = spec.act ?? actFnOf(cfg.hidden_act, cfg.hidden_act_name);
  const h = b.glu(gate, up, { fn: act }, { name: "glu", keys: ["hidden_act"] });
  const d = spec.down ?? "down_proj";
  return b.linear(h, w(d, [H, I], roleOf(roles, "down")), bv(d, H), {
    name: spec.valueName ?? "mlp_out",
    keys,
  });
}

export interface PlainMlpSpec {
  readonly layer: number;
  readonly prefix: string;
  readonly input: ValueId;
  readonly intermediate?: number;
  /** Module names (GPT-2: c_fc, c_proj). */
  readonly up: string;
  readonly down: string;
  readonly act?: ActFn;
  readonly bias?: boolean;
  /** Stored [in, out] (GPT-2 Conv1D). */
  readonly transposed?: boolean;
}

/** Appends `down(act(up·x + b) ) + b` and returns its output. */
export function plainMlp(ctx: BlockCtx, spec: PlainMlpSpec): ValueId {
  const { b, cfg } = ctx;
  const H = b.width(spec.input);
  const I = spec.intermediate ?? cfg.intermediate_size[spec.layer] ?? 0;
  const t = spec.transposed ?? false;
  const bias = spec.bias ?? cfg.mlp_bias;
  const keys = ["hidden_size", "intermediate_size"];
  const w = (module: string, out: number, inp: number, role: WeightRole) =>
    declare(ctx, joinName(spec.prefix, module, "weight"), t ? [inp, out] : [out, inp], role, {
      transposed: t,
      keys,
    });
  const bv = (module: string, n: number) =>
    bias
      ? declare(ctx, joinName(spec.prefix, module, "bias"), [n], "bias", { keys: ["mlp_bias"] })
      : undefined;
  const up = b.linear(spec.input, w(spec.up, I, H, "mlp_up"), bv(spec.up, I), { name: "up", keys });
  const act = spec.act ?? actFnOf(cfg.hidden_act, cfg.hidden_act_name);
  const a = b.activation(up, act, { name: "act", keys: ["hidden_act"] });
  return b.linear(a, w(spec.down, H, I, "mlp_down"), bv(spec.down, H), { name: "mlp_out", keys });
}
