/**
 * A liveness-based allocator: items live over [first, last] step indices and are placed, in step
 * order, best-fit into a free list over [0, capacity) (coalesced on free). Reports the peak live
 * size, the high-water mark and the fragmentation 1 − peak/high-water. Used for L2 words and for
 * the host's DDR scratch bytes.
 */

export interface Interval {
  readonly key: number;
  readonly size: number;
  readonly first: number;
  readonly last: number;
}

export interface IntervalResult {
  readonly offsets: Map<number, number>;
  readonly peak: number;
  readonly highWater: number;
  readonly fragmentation: number;
  /** When the capacity was exceeded: the step and the items live there. */
  readonly overflow?: { readonly step: number; readonly need: number; readonly live: readonly Interval[] };
}

interface Free {
  start: number;
  size: number;
}

export function allocateIntervals(items: readonly Interval[], capacity: number, align = 1): IntervalResult {
  const byFirst = [...items].sort((a, b) => a.first - b.first || a.key - b.key);
  const byLast = [...items].sort((a, b) => a.last - b.last || a.key - b.key);
  const offsets = new Map<number, number>();
  const live = new Set<Interval>();
  const free: Free[] = [{ start: 0, size: Number.MAX_SAFE_INTEGER }];
  let peak = 0;
  let used = 0;
  let high = 0;
  let overflow: IntervalResult["overflow"];
  let li = 0;
  const release = (upTo: number) => {
    while (li < byLast.length && byLast[li]!.last < upTo) {
      const it = byLast[li++]!;
      if (!live.has(it)) continue;
      live.delete(it);
      used -= it.size;
      insertFree(free, offsets.get(it.key)!, roundUp(it.size, align));
    }
  };
  for (const it of byFirst) {
    release(it.first);
    const size = roundUp(it.size, align);
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      const f = free[i]!;
      if (f.size >= size && (best < 0 || f.size < free[best]!.size)) best = i;
    }
    const f = free[best]!;
    const off = f.start;
    f.start += size;
    f.size -= size;
    if (f.size === 0) free.splice(best, 1);
    offsets.set(it.key, off);
    live.add(it);
    used += it.size;
    peak = Math.max(peak, used);
    high = Math.max(high, off + size);
    if (high > capacity && !overflow) overflow = { step: it.first, need: high, live: [...live] };
  }
  return {
    offsets,
    peak,
    highWater: high,
    fragmentation: high > 0 ? 1 - peak / high : 0,
    ...(overflow ? { overflow } : {}),
  };
}

const roundUp = (x: number, a: number) => Math.ceil(x / a) * a;

function insertFree(free: Free[], start: number, size: number): void {
  let i = 0;
  while (i < free.length && free[i]!.start < start) i++;
  free.splice(i, 0, { start, size });
  const next = free[i + 1];
  if (next && start + size === next.start) {
    free[i]!.size += next.size;
    free.splice(i + 1, 1);
  }
  const prev = free[i - 1];
  if (prev && prev.start + prev.size === start) {
    prev.size += free[i]!.size;
    free.splice(i, 1);
  }
}
