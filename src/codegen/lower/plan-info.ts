/**
 * Codegen's view of the layout plan: the policy of each tensor (with the defaults codegen assumes
 * for a tensor the plan does not list), where the layout stage places every tensor that is not a
 * stream (the same `placeTensors` finalizeLayout uses, so DMA offsets match the image), the KV
 * format and ring capacity of each layer, the context.
 */
import { layoutMachine, placeTensors } from "../../layout/plan/index.js";
import type { LayoutMachine, LayoutPlan, PlacedTensor, TensorPolicy } from "../../layout/types.js";
import type { ModelGraph, WeightDecl } from "../../resolver/graph/index.js";
import { planError } from "../errors.js";
import type { Machine } from "../machine.js";

export interface PlanInfo {
  readonly plan: LayoutPlan;
  readonly machine: LayoutMachine;
  policy(tensor: string): TensorPolicy;
  /** The policy of a graph weight id (a tied head has its own), if the plan lists it. */
  policyOfId(id: string): TensorPolicy | undefined;
  /** Where a non-stream tensor is stored (region, offset, row stride, format). */
  placed(tensor: string): PlacedTensor | undefined;
  /** Bytes used in each placement region (`embedding`, `tables`, `vectors`, `offddr`). */
  readonly regionBytes: ReadonlyMap<string, number>;
  /** Ring slots of the cache owned by `layer`. */
  slots(layer: number): number;
  readonly context: number;
  readonly kvDtype: LayoutPlan["kv"]["dtype"];
}

/** Fills rows/cols of a policy from the graph's declaration when the plan omits them. */
function withDims(p: TensorPolicy, decls: ReadonlyMap<string, WeightDecl>): TensorPolicy {
  if (p.rows !== undefined && p.cols !== undefined) return p;
  const w = decls.get(p.tensor);
  const shape = w?.shape ?? [1];
  const cols = shape[shape.length - 1] ?? 1;
  const elements = shape.reduce((a, b) => a * b, 1);
  return { ...p, rows: elements / cols, cols };
}

export function planInfo(plan: LayoutPlan, graph: ModelGraph, m: Machine): PlanInfo {
  if (!(plan.context > 0)) throw planError(`layout plan context ${plan.context} is not a positive length`);
  const decls = new Map<string, WeightDecl>();
  for (const w of graph.weights) if (w.tiedTo === undefined && !decls.has(w.name)) decls.set(w.name, w);
  const policies = plan.tensors.map((p) => withDims(p, decls));
  const byTensor = new Map<string, TensorPolicy>();
  for (const p of policies)
    if (!byTensor.has(p.tensor) || p.placement !== "stream") byTensor.set(p.tensor, p);
  const byId = new Map(policies.filter((p) => p.id !== undefined).map((p) => [p.id!, p]));
  const slots = new Map(plan.kv.capacity.map((c) => [c.layer, c.slots]));
  const machine = plan.machine ?? layoutMachine(m.target);
  const { tensors, used } = placeTensors(policies, machine);
  const placed = new Map<string, PlacedTensor>();
  for (const t of tensors) if (!placed.has(t.tensor)) placed.set(t.tensor, t);
  const wbits = m.target.file.numeric.weights;
  return {
    plan,
    machine,
    context: plan.context,
    kvDtype: plan.kv.dtype,
    regionBytes: used,
    placed: (tensor) => placed.get(tensor),
    policyOfId: (id) => byId.get(id),
    policy(tensor) {
      const p = byTensor.get(tensor);
      if (p) return p;
      const w = decls.get(tensor);
      return {
        tensor,
        role: w?.role ?? "other",
        format: "int4",
        group: wbits.scale_granularity === "group" ? ((wbits.group_size ?? 0) as 0 | 32 | 64 | 128) : 0,
        scaleDtype: wbits.scale_dtype,
        placement: "stream",
        reason: "codegen default (tensor not in the layout plan)",
      };
    },
    slots(layer) {
      const s = slots.get(layer);
      if (s === undefined)
        throw planError(
          `layout plan has no KV capacity for layer ${layer}`,
          "the layout plan must list the ring capacity of every layer that owns a cache",
        );
      return s;
    },
  };
}
