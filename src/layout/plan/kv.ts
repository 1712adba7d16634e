/**
 * The KV cache plan: one ring per layer that owns a cache (full-attention layers hold `context`
 * slots, sliding-window layers min(window, context), MLA layers the latent + rope key; layers that
 * share another layer's cache hold none), and its bytes in the chosen dtype:
 *
 * - int4: the KV tile format of docs/program.md §4.3, because the GEMV reads the cache as weights.
 *   K, per KV head: one row per slot (headDim INT4 values, beat padded), then one scale beat per
 *   slot. V, per KV head and per GEMV port (the V features the port carries, split like any tile):
 *   a K-block-major tile over 32-slot blocks with group-32 scales along the tokens, so a growing
 *   attention length reads a contiguous prefix.
 * - int8: one byte per element plus one scale per slot and head (the target's per-head scales).
 * - bf16: two bytes per element.
 */
import type { ModelGraph } from "../../resolver/graph/index.js";
import { BEAT_BYTES, beatRowBytes, CODES_PER_BEAT } from "../quant/index.js";
import type { KvLayer, KvPlan } from "../types.js";
import { padBeat, type ScaleDtype, scaleBytesOf } from "./sizes.js";

export type KvDtype = KvPlan["dtype"];

/** A ring's geometry, without its size. */
export interface KvGeometry {
  readonly layer: number;
  readonly kind: "full" | "sliding" | "mla";
  readonly window?: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vHeadDim: number;
}

/** The rings the graph's attention ops own, in layer order, and the shared layers. */
export function kvGeometry(g: ModelGraph): {
  rings: KvGeometry[];
  shared: { layer: number; source: number }[];
} {
  const rings: KvGeometry[] = [];
  const shared: { layer: number; source: number }[] = [];
  for (const op of g.ops) {
    const layer = op.layer ?? -1;
    if (op.kind === "attention") {
      if (op.kv.source === "shared") {
        shared.push({ layer, source: op.kv.layer });
        continue;
      }
      const sliding = op.mask.kind === "sliding";
      rings.push({
        layer,
        kind: sliding ? "sliding" : "full",
        ...(op.mask.kind === "sliding" ? { window: op.mask.window } : {}),
        kvHeads: op.kvHeads,
        headDim: op.headDim,
        vHeadDim: op.vHeadDim,
      });
    } else if (op.kind === "mla_attention") {
      // One "head": the key is [latent | rope key]; the value tile is the latent again (codegen
      // streams it as V so that attention needs no gather).
      rings.push({
        layer,
        kind: "mla",
        ...(op.mask.kind === "sliding" ? { window: op.mask.window } : {}),
        kvHeads: 1,
        headDim: op.kvRank + op.ropeDim,
        vHeadDim: op.kvRank,
      });
    }
  }
  return { rings: rings.sort((a, b) => a.layer - b.layer), shared: shared.sort((a, b) => a.layer - b.layer) };
}

/** Slots of a ring for a context. */
export function ringSlots(r: KvGeometry, context: number): number {
  return r.window !== undefined ? Math.min(r.window, context) : context;
}

/** Rows of a tile each of `ports` ports carries (ceil(n/ports) contiguous, the last shorter). */
function portCounts(n: number, ports: number): number[] {
  const r = Math.ceil(n / ports);
  return Array.from({ length: ports }, (_, j) => Math.max(0, Math.min(n, (j + 1) * r) - Math.min(n, j * r)));
}

/** Bytes of the K part and the V part of one ring (all heads); V split over `ports` GEMV ports. */
export function ringBytes(
  r: KvGeometry,
  slots: number,
  dtype: KvDtype,
  scaleDtype: ScaleDtype,
  ports = 1,
): { k: number; v: number } {
  if (slots === 0) return { k: 0, v: 0 };
  const sb = scaleBytesOf(scaleDtype);
  const h = r.kvHeads;
  switch (dtype) {
    case "int4": {
      const k = slots * (beatRowBytes(r.headDim) + BEAT_BYTES);
      const blocks = Math.ceil(slots / CODES_PER_BEAT);
      const v = portCounts(r.vHeadDim, ports)
        .filter((n) => n > 0)
        .reduce((s, n) => s + blocks * (n * BEAT_BYTES + padBeat(n * sb)), 0);
      return { k: h * k, v: h * v };
    }
    case "int8":
      return {
        k: h * padBeat(slots * (r.headDim + sb)),
        v: r.vHeadDim ? h * padBeat(slots * (r.vHeadDim + sb)) : 0,
      };
    case "bf16":
      return { k: h * padBeat(slots * r.headDim * 2), v: h * padBeat(slots * r.vHeadDim * 2) };
  }
}

/** The KV plan for a context and dtype. */
export function planKvFrom(
  geometry: { rings: readonly KvGeometry[]; shared: readonly { layer: number; source: number }[] },
  context: number,
  dtype: KvDtype,
  scaleDtype: ScaleDtype,
  ports = 1,
): KvPlan {
  const capacity: KvLayer[] = geometry.rings.map((r) => {
    const slots = ringSlots(r, context);
    const { k, v } = ringBytes(r, slots, dtype, scaleDtype, ports);
    return {
      layer: r.layer,
      slots,
      bytes: k + v,
      kind: r.kind,
      ...(r.window !== undefined ? { window: r.window } : {}),
      kvHeads: r.kvHeads,
      headDim: r.headDim,
      vHeadDim: r.vHeadDim,
      kBytes: k,
      vBytes: v,
    };
  });
  return {
    dtype,
    capacity,
    totalBytes: capacity.reduce((s, c) => s + c.bytes, 0),
    ...(geometry.shared.length ? { shared: geometry.shared } : {}),
    scaleDtype,
    ports,
  };
}

/** The geometry back from a plan's layers (the fit check re-sizes the cache without the graph). */
export function geometryOf(kv: KvPlan): KvGeometry[] {
  return kv.capacity.map((c) => ({
    layer: c.layer,
    kind: c.kind ?? "full",
    ...(c.window !== undefined ? { window: c.window } : {}),
    kvHeads: c.kvHeads ?? 1,
    headDim: c.headDim ?? 0,
    vHeadDim: c.vHeadDim ?? 0,
  }));
}

/** Bytes of each ring (as the DDR map aligns them) for another context or dtype. */
export function kvRegionBytes(
  kv: KvPlan,
  context: number,
  dtype: KvDtype,
  align: (n: number) => number,
): number {
  let total = 0;
  for (const r of geometryOf(kv)) {
    const { k, v } = ringBytes(r, ringSlots(r, context), dtype, kv.scaleDtype ?? "bf16", kv.ports ?? 1);
    total += align(k + v);
  }
  return total;
}
