/**
 * Per-layer KV geometry from the layout plan (ring slots, sliding window), in the shape the
 * simulator's driver loop and the C driver generator take: layers that share another layer's cache
 * get their source's geometry.
 */
import type { LayoutPlan } from "../../layout/index.js";

export interface LayerKv {
  readonly window?: number;
  readonly slots?: number;
}

export function kvLayers(plan: LayoutPlan): Record<number, LayerKv> {
  const out: Record<number, LayerKv> = {};
  for (const l of plan.kv.capacity) {
    out[l.layer] = {
      slots: l.slots,
      ...(l.kind === "sliding" && l.window !== undefined ? { window: l.window } : {}),
    };
  }
  for (const s of plan.kv.shared ?? []) {
    const src = out[s.source];
    if (src) out[s.layer] = src;
  }
  return out;
}
