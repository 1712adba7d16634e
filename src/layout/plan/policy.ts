/**
 * The role policy: which stored tensors become INT4 and stream through the HP ports, which stay BF16
 * and are pinned in L2, which are row tables in DDR or read by the host from the weight file. The
 * table below is data (docs/layout.md §2 prints it); `decidePolicy` applies it to one declaration
 * together with how the graph uses it.
 */
import type { WeightRole } from "../../resolver/graph/index.js";
import type { Placement, TensorFormat, TensorPolicy } from "../types.js";
import type { Group, ScaleDtype } from "./sizes.js";
import { elementsOf, matrixDims, type WeightUsage } from "./usage.js";

/** What a rule gives: a streamed projection, a table, or a vector. */
export type RuleKind =
  | "projection"
  | "embedding"
  | "position"
  | "per-layer-embedding"
  | "vector"
  | "by-usage";

export interface RoleRule {
  readonly kind: RuleKind;
  readonly roles: readonly WeightRole[];
  /** Format and placement as the docs table shows them. */
  readonly format: string;
  readonly placement: string;
  readonly why: string;
}

export const ROLE_POLICY: readonly RoleRule[] = [
  {
    kind: "projection",
    roles: [
      "attn_q",
      "attn_k",
      "attn_v",
      "attn_qkv",
      "attn_o",
      "attn_q_a",
      "attn_q_b",
      "attn_kv_a",
      "attn_kv_b",
    ],
    format: "int4, plan group",
    placement: "stream",
    why: "attention projection: a GEMV/GEMM weight, read once per token",
  },
  {
    kind: "projection",
    roles: ["mlp_gate", "mlp_up", "mlp_gate_up", "mlp_down"],
    format: "int4, plan group",
    placement: "stream",
    why: "MLP projection: a GEMV/GEMM weight",
  },
  {
    kind: "projection",
    roles: [
      "expert_gate",
      "expert_up",
      "expert_gate_up",
      "expert_down",
      "shared_expert_gate",
      "shared_expert_up",
      "shared_expert_gate_up",
      "shared_expert_down",
      "router",
    ],
    format: "int4, plan group",
    placement: "stream",
    why: "MoE router / expert projection: a GEMV weight (routed experts are streamed when chosen)",
  },
  {
    kind: "projection",
    roles: ["per_layer_model_proj", "per_layer_gate", "per_layer_proj", "lm_head"],
    format: "int4, plan group",
    placement: "stream",
    why: "projection (per-layer-input projections, LM head): a GEMV weight",
  },
  {
    kind: "embedding",
    roles: ["embedding"],
    format: "int4 from 2^20 elements, else bf16",
    placement: "ddr",
    why: "token embedding: one row read per token, so it stays in DDR as a row table",
  },
  {
    kind: "position",
    roles: ["position_embedding"],
    format: "bf16",
    placement: "ddr",
    why: "learned positions: one row per token, small, kept exact",
  },
  {
    kind: "per-layer-embedding",
    roles: ["per_layer_embedding"],
    format: "int4, group 128",
    placement: "off-ddr",
    why:
      "per-layer embeddings (Gemma 3n/4): too large for DDR next to the model; the host reads one row per " +
      "token from weights.bin; group 128 keeps a scale inside each layer's slice of the row",
  },
  {
    kind: "vector",
    roles: ["norm", "bias", "scale", "sinks"],
    format: "bf16",
    placement: "l2 (≤ 65,536 elements), else ddr; norms folded when codegen folds them",
    why: "small vector the NPU reads from L2 (norm weight, bias, scale, attention sinks)",
  },
  {
    kind: "by-usage",
    roles: ["altup", "laurel", "other"],
    format: "as its usage",
    placement: "as its usage",
    why: "generic role: a matrix product is streamed int4, a lookup is a table, anything else a vector",
  },
];

const RULE_BY_ROLE = new Map<string, RoleRule>(ROLE_POLICY.flatMap((r) => r.roles.map((role) => [role, r])));

export interface PolicyContext {
  readonly group: Group;
  readonly scaleDtype: ScaleDtype;
  readonly int4EmbeddingMinElements: number;
  readonly l2VectorMaxElements: number;
}

/** The rule kind that applies once usage is taken into account. */
function effectiveKind(rule: RoleRule | undefined, u: WeightUsage): Exclude<RuleKind, "by-usage"> {
  if (u.kinds.includes("matrix")) return "projection";
  if (rule && rule.kind !== "by-usage" && rule.kind !== "projection") return rule.kind;
  if (u.kinds.includes("table")) return "embedding";
  return "vector";
}

/** The policy of one used declaration (before overrides, folding and the L2 budget). */
export function decidePolicy(u: WeightUsage, ctx: PolicyContext): TensorPolicy {
  const d = u.decl;
  const rule = RULE_BY_ROLE.get(d.role);
  const kind = effectiveKind(rule, u);
  const elements = elementsOf(d);
  const why = rule && rule.kind !== "by-usage" ? rule.why : `role ${d.role} used as ${u.kinds.join("+")}`;
  const base = {
    tensor: d.name,
    id: d.id,
    role: d.role,
    scaleDtype: ctx.scaleDtype,
    shape: d.shape,
    ...(d.layer !== undefined ? { layer: d.layer } : {}),
  };
  const make = (format: TensorFormat, group: Group, placement: Placement, reason: string, dims: object) =>
    ({ ...base, format, group: format === "int4" ? group : 0, placement, reason, ...dims }) as TensorPolicy;
  switch (kind) {
    case "projection": {
      const stacked = u.experts !== undefined;
      const dims = {
        ...matrixDims(d, stacked),
        ...(stacked ? { experts: u.experts } : {}),
        ...(d.transposed ? { transposed: true } : {}),
        perToken: u.perToken,
      };
      return make("int4", ctx.group, "stream", why, dims);
    }
    case "embedding": {
      const dims = { rows: d.shape[0] ?? 1, cols: elements / (d.shape[0] || 1) };
      if (elements >= ctx.int4EmbeddingMinElements) return make("int4", ctx.group, "ddr", why, dims);
      return make(
        "bf16",
        0,
        "ddr",
        `${why}; below ${ctx.int4EmbeddingMinElements} elements: kept bf16`,
        dims,
      );
    }
    case "position":
      return make("bf16", 0, "ddr", why, { rows: d.shape[0] ?? 1, cols: elements / (d.shape[0] || 1) });
    case "per-layer-embedding":
      return make("int4", 128, "off-ddr", why, { rows: d.shape[0] ?? 1, cols: elements / (d.shape[0] || 1) });
    case "vector": {
      const cols = d.shape[d.shape.length - 1] ?? 1;
      const dims = { rows: elements / cols, cols };
      if (elements <= ctx.l2VectorMaxElements) return make("bf16", 0, "l2", why, dims);
      return make("bf16", 0, "ddr", `${why}; ${elements} elements exceed the L2 vector limit`, dims);
    }
  }
}
