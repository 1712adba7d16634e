/**
 * Placement of everything that is not a stream: row tables (`embedding` for token embeddings,
 * `tables` for other DDR tensors), pinned vectors (`vectors`, the load-time source of what the load
 * segment copies into L2) and off-DDR tables (`offddr`, in weights.bin only). Also the consumer
 * categories the capacity check reports. Shared by the config-only estimate and finalizeLayout.
 */
import type { LayoutMachine, PlacedTensor, TensorPolicy } from "../types.js";
import { alignUp } from "./alloc.js";
import { groupsPerRowOf, padTo, policyBytes, scaleBytesOf, tableBytes } from "./sizes.js";

/** Region names in the order they are laid out after the streams. */
export const TABLE_REGIONS = ["embedding", "tables", "vectors"] as const;
export const OFF_DDR_REGION = "offddr";

/** The DDR region name of a port's weight stream. */
export const streamRegionName = (port: string): string => `weights.${port}`;
/** The DDR region name of a layer's KV ring. */
export const kvRegionName = (layer: number): string => `kv.L${layer}`;

function regionOf(p: TensorPolicy): string {
  if (p.placement === "l2") return "vectors";
  if (p.placement === "off-ddr") return OFF_DDR_REGION;
  return p.role === "embedding" ? "embedding" : "tables";
}

/**
 * Offsets of every l2 / ddr / off-ddr tensor inside its region, in policy order: tables start on
 * the alignment (the host maps them by pages), vectors on an L2 word.
 */
export function placeTensors(
  policies: readonly TensorPolicy[],
  m: Pick<LayoutMachine, "alignment" | "l2WordBytes">,
): { tensors: PlacedTensor[]; used: Map<string, number> } {
  const used = new Map<string, number>();
  const tensors: PlacedTensor[] = [];
  for (const p of policies) {
    if (p.placement === "stream" || p.placement === "folded") continue;
    const region = regionOf(p);
    const rows = p.rows ?? 1;
    const cols = p.cols ?? 1;
    const vector = p.placement === "l2";
    const t = tableBytes(rows, cols, p.format, p.group, p.scaleDtype);
    const bytes = vector ? padTo(t.bytes, m.l2WordBytes) : t.bytes;
    const offset = padTo(used.get(region) ?? 0, vector ? m.l2WordBytes : m.alignment);
    used.set(region, offset + bytes);
    tensors.push({
      id: p.id ?? p.tensor,
      tensor: p.tensor,
      role: p.role,
      format: p.format,
      group: p.group,
      scaleDtype: p.scaleDtype,
      placement: p.placement,
      region,
      offset,
      bytes,
      rows,
      cols,
      layout: p.format === "int4" ? "table" : "vector",
      rowStride: t.rowStride,
      ...(vector ? { l2Words: bytes / m.l2WordBytes } : {}),
    });
  }
  return { tensors, used };
}

/** The consumer category a capacity report groups a tensor under. */
export function categoryOf(role: string, placement: string): string {
  if (placement === "l2") return "pinned vectors (L2 source)";
  if (role === "embedding") return "embedding table";
  if (role === "lm_head") return "LM head";
  if (role.startsWith("attn_")) return "attention projections";
  if (role.startsWith("mlp_")) return "MLP projections";
  if (role.startsWith("expert_")) return "routed experts";
  if (role.startsWith("shared_expert_")) return "shared experts";
  if (placement === "stream") return "other projections";
  return "other tables";
}

/**
 * INT4 scales of a DDR-resident policy: their bytes with its group, and the bytes one scale per row
 * would save (the difference of the stored sizes). Streams use the config-only tile estimate.
 */
export function scalesOfPolicy(
  p: TensorPolicy,
  m: Pick<LayoutMachine, "maxK" | "l2WordBytes">,
): { bytes: number; saves: number } {
  if (p.format !== "int4" || (p.placement !== "stream" && p.placement !== "ddr"))
    return { bytes: 0, saves: 0 };
  const rows = (p.rows ?? 1) * (p.experts ?? 1);
  const cols = p.cols ?? 1;
  const chunk = p.placement === "stream" ? m.maxK : cols;
  let bytes = 0;
  for (let c = 0; c < cols; c += chunk)
    bytes += rows * groupsPerRowOf(p.group, Math.min(chunk, cols - c)) * scaleBytesOf(p.scaleDtype);
  return { bytes, saves: policyBytes(p, m) - policyBytes({ ...p, group: 0 }, m) };
}

/** Aligned size of a region holding `used` bytes. */
export const regionSize = (used: number, alignment: number): number => alignUp(used, alignment);
