/**
 * The config-only capacity estimate (`pccxc plan`, before codegen tiles the streams): stream bytes
 * from each matrix cut into chunks of the target's largest K, the tables, vectors and KV rings as
 * finalizeLayout will lay them out. Within a few KiB per tensor of the exact map.
 */
import type { FitVerdict, LayoutPlan } from "../types.js";
import { alignUp } from "./alloc.js";
import { computeFit } from "./fit.js";
import { categoryOf, placeTensors, scalesOfPolicy, TABLE_REGIONS } from "./place.js";

/** Consumer categories, scale totals and vocabulary bytes of a plan's tensors (streams by policy estimate). */
export function tensorTotals(plan: LayoutPlan): {
  consumers: Map<string, number>;
  scales: { bytes: number; saves: number };
  vocabBytes: number;
} {
  const m = plan.machine!;
  const consumers = new Map<string, number>();
  const scales = { bytes: 0, saves: 0 };
  let vocabBytes = 0;
  for (const p of plan.tensors) {
    if (p.placement === "folded" || p.placement === "off-ddr") continue;
    const bytes = p.bytes ?? 0;
    const cat = categoryOf(p.role, p.placement);
    consumers.set(cat, (consumers.get(cat) ?? 0) + bytes);
    const s = scalesOfPolicy(p, m);
    scales.bytes += s.bytes;
    scales.saves += s.saves;
    if (p.role === "embedding" || p.role === "lm_head") vocabBytes += bytes;
  }
  return { consumers, scales, vocabBytes };
}

export function estimateFit(plan: LayoutPlan): FitVerdict {
  const m = plan.machine!;
  const a = (n: number) => alignUp(n, m.alignment);
  const { consumers, scales, vocabBytes } = tensorTotals(plan);
  const streams = plan.tensors
    .filter((p) => p.placement === "stream")
    .reduce((s, p) => s + (p.bytes ?? 0), 0);
  const { used } = placeTensors(plan.tensors, m);
  let ddr = a(streams);
  for (const r of TABLE_REGIONS) ddr += a(used.get(r) ?? 0);
  let kv = 0;
  for (const c of plan.kv.capacity) kv += a(c.bytes);
  ddr += kv;
  consumers.set("KV cache", kv);
  const counted = [...consumers.values()].reduce((s, b) => s + b, 0);
  consumers.set("alignment padding", Math.max(0, ddr - counted));
  return computeFit({
    model: modelLabel(plan),
    machine: m,
    ddrBytes: ddr,
    consumers,
    l2Words: plan.l2?.words ?? 0,
    kv: plan.kv,
    context: plan.context,
    scales: { group: plan.options.groupSize, bytes: scales.bytes, perRowSaves: scales.saves },
    vocab: { size: plan.model?.vocabSize ?? 0, bytes: vocabBytes },
    estimate: true,
  });
}

export function modelLabel(plan: LayoutPlan): string {
  const m = plan.model;
  if (m?.label) return m.label;
  return m ? `${m.modelType} (${m.numLayers} layers)` : "the model";
}
