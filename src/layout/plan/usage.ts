/**
 * How the graph uses each weight declaration: as a matrix (a linear, an expert, MLA's kv_b), a
 * vector (norm weight, bias, scale, sinks), a row table (embedding lookups) or small coefficients
 * (AltUp). The role policy decides formats from the role and this usage; the KV planner and the
 * fit check also need the MoE top-k of each expert tensor.
 */
import {
  type ModelGraph,
  type Op,
  opWeightRefs,
  type WeightDecl,
  type WeightId,
} from "../../resolver/graph/index.js";

export type UsageKind = "matrix" | "vector" | "table" | "coefs";

export interface WeightUsage {
  readonly decl: WeightDecl;
  /** Every way an op reads it (deduplicated, in a fixed order). */
  readonly kinds: readonly UsageKind[];
  /** Routed experts: experts per token / experts (the share streamed per token). */
  readonly perToken: number;
  /** Stacked [E, …] tensors read per expert. */
  readonly experts?: number;
}

const MATRIX_PATHS = new Set(["weight", "kvB", "gate", "up", "down"]);

function usageOf(op: Op, path: string): UsageKind {
  if (op.kind === "embedding" || op.kind === "position_embedding") return "table";
  if (op.kind === "altup_predict" || op.kind === "altup_correct") return "coefs";
  const root = path.split(".")[0]!;
  if (op.kind === "linear" && root === "weight") return "matrix";
  if (op.kind === "mla_attention" && root === "kvB") return "matrix";
  if (op.kind === "moe_experts" && MATRIX_PATHS.has(root)) return "matrix";
  return "vector";
}

/** Top-k of the router feeding each moe_experts op, by the op's id. */
function moeTopK(g: ModelGraph): Map<string, { topK: number; experts: number }> {
  const routeByIndices = new Map<string, number>();
  for (const op of g.ops) if (op.kind === "moe_route") routeByIndices.set(op.outputs[0]!, op.topK);
  const out = new Map<string, { topK: number; experts: number }>();
  for (const op of g.ops) {
    if (op.kind !== "moe_experts") continue;
    out.set(op.id, { topK: routeByIndices.get(op.indices) ?? op.numExperts, experts: op.numExperts });
  }
  return out;
}

/** Usage of every declaration (ties included, by their own id). */
export function weightUsage(g: ModelGraph): Map<WeightId, WeightUsage> {
  const kinds = new Map<WeightId, Set<UsageKind>>();
  const perToken = new Map<WeightId, number>();
  const experts = new Map<WeightId, number>();
  const topK = moeTopK(g);
  for (const op of g.ops) {
    for (const ref of opWeightRefs(op)) {
      const set = kinds.get(ref.weight) ?? new Set<UsageKind>();
      set.add(usageOf(op, ref.path));
      kinds.set(ref.weight, set);
      if (op.kind !== "moe_experts") continue;
      const k = topK.get(op.id)!;
      // One tensor per expert: each is read with probability topK/E; a stacked tensor holds all E.
      perToken.set(ref.weight, k.topK / k.experts);
      if (ref.path.endsWith(".weight")) experts.set(ref.weight, k.experts);
    }
  }
  const out = new Map<WeightId, WeightUsage>();
  for (const decl of g.weights) {
    const ks = kinds.get(decl.id);
    const order: UsageKind[] = ["matrix", "table", "vector", "coefs"];
    const e = experts.get(decl.id);
    out.set(decl.id, {
      decl,
      kinds: ks ? order.filter((k) => ks.has(k)) : [],
      perToken: perToken.get(decl.id) ?? 1,
      ...(e !== undefined ? { experts: e } : {}),
    });
  }
  return out;
}

/** Logical [rows, cols] of one expert's matrix ([out, in]; transposed storage swapped). */
export function matrixDims(decl: WeightDecl, stacked: boolean): { rows: number; cols: number } {
  const s = stacked ? decl.shape.slice(1) : decl.shape;
  const a = s.length >= 2 ? s[s.length - 2]! : 1;
  const b = s.length >= 1 ? s[s.length - 1]! : 1;
  const lead = s.slice(0, -2).reduce((p, d) => p * d, 1);
  return decl.transposed ? { rows: b * lead, cols: a } : { rows: a * lead, cols: b };
}

/** Number of elements of a declaration. */
export function elementsOf(decl: WeightDecl): number {
  return decl.shape.reduce((p, d) => p * d, 1);
}
