/**
 * The DDR allocator: regions laid out in the order given, each starting on the alignment and
 * rounded up to it, from offset 0 of pccxc's DDR arena. The order is the layout's choice (weight
 * regions first so that weights.bin loads into DDR with one read), so a simple bump allocator is
 * all that is needed; it reports how far past the capacity the map goes instead of failing, and
 * `requireInCapacity` turns that into the precise overflow error.
 */

import type { DmaPort } from "../../codegen/program.js";
import { ExitCode, PccxError, unsupported } from "../../diag/index.js";
import type { PlannedRegion } from "../types.js";
import { formatBytes } from "./format.js";

export interface AllocRequest {
  readonly name: string;
  readonly kind: PlannedRegion["kind"];
  /** Bytes the region needs (rounded up to the alignment in the map). */
  readonly bytes: number;
  readonly port?: DmaPort;
  /** Regions that hold weights: the same offset in weights.bin. */
  readonly inImage?: boolean;
}

export interface AllocResult {
  /** In address order. */
  readonly regions: readonly PlannedRegion[];
  /** End of the last region (aligned). */
  readonly end: number;
  readonly capacity: number;
  /** end − capacity when positive, else 0. */
  readonly overBy: number;
}

const bug = (message: string) => new PccxError("layout/alloc-request", ExitCode.INTERNAL, message);

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** Lays out `requests` in order; never throws for capacity (see `requireInCapacity`). */
export function allocateRegions(
  requests: readonly AllocRequest[],
  opts: { readonly alignment: number; readonly capacity: number },
): AllocResult {
  const { alignment, capacity } = opts;
  if (!Number.isSafeInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw bug(`DDR alignment must be a power of two, got ${alignment}`);
  }
  const names = new Set<string>();
  const regions: PlannedRegion[] = [];
  let at = 0;
  for (const r of requests) {
    if (!Number.isSafeInteger(r.bytes) || r.bytes < 0) throw bug(`region ${r.name}: bad size ${r.bytes}`);
    if (names.has(r.name)) throw bug(`region ${r.name} requested twice`);
    names.add(r.name);
    const bytes = alignUp(r.bytes, alignment);
    regions.push({
      name: r.name,
      offset: at,
      bytes,
      used: r.bytes,
      kind: r.kind,
      ...(r.port ? { port: r.port } : {}),
      ...(r.inImage ? { fileOffset: at } : {}),
    });
    at += bytes;
  }
  return { regions, end: at, capacity, overBy: Math.max(0, at - capacity) };
}

/** Throws `layout/ddr-overflow` (exit 3) naming the need, the capacity and the largest regions. */
export function requireInCapacity(a: AllocResult): void {
  if (a.overBy === 0) return;
  const top = [...a.regions].sort((x, y) => y.bytes - x.bytes || (x.name < y.name ? -1 : 1)).slice(0, 5);
  throw unsupported(
    "layout/ddr-overflow",
    `the DDR map needs ${a.end} bytes (${formatBytes(a.end)}) but ${a.capacity} bytes ` +
      `(${formatBytes(a.capacity)}) are available: over by ${a.overBy} bytes (${formatBytes(a.overBy)})`,
    {
      notes: [`largest regions: ${top.map((r) => `${r.name} ${formatBytes(r.bytes)}`).join(", ")}`],
      fix: "shrink the largest regions (context, KV dtype, vocabulary) or use a target with more DDR",
    },
  );
}
