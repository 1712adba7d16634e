/**
 * The `allocate-l2` pass: program buffers (constant table, pinned vectors, sink words) are placed
 * first from the target's first backed word; then each segment's buffers are placed by liveness in
 * the rest of L2. The same pass places the host's DDR scratch buffers (the `host` region) by
 * liveness. An overflow is a precise error naming the segment, the step and what is live there.
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import type { DSegment, DStep, L2Addr, L2Buf } from "../draft.js";
import type { HostBuf } from "../lower/context.js";
import type { Machine } from "../machine.js";
import type { HostOperand } from "../program.js";
import type { Registry } from "../registry.js";
import { allocateIntervals, type Interval } from "./intervals.js";

export interface L2Stats {
  readonly segment: string;
  readonly peakWords: number;
  readonly highWaterWords: number;
  readonly fragmentation: number;
  readonly buffers: number;
}

export function stepAddrs(s: DStep): L2Addr[] {
  switch (s.kind) {
    case "gemv":
      return [s.dest, s.src];
    case "cvo":
      return [s.src, s.dst];
    case "memcpy":
      return [...(s.src ? [s.src] : []), ...(s.dest ? [s.dest] : [])];
    default:
      return [];
  }
}

/** Places the program-scope buffers; returns the first free word after them. */
export function placeProgramBuffers(m: Machine, bufs: readonly L2Buf[]): number {
  let w = m.l2Start;
  for (const b of bufs) {
    b.offset = w;
    w += b.words;
  }
  if (w > m.l2End)
    throw new PccxError(
      "codegen/l2-overflow",
      ExitCode.UNSUPPORTED,
      `buffers pinned in L2 for the whole program need ${w - m.l2Start} words, but the target backs ${m.l2End - m.l2Start}`,
      { fix: "let the layout plan keep fewer vectors in L2 (placement ddr)" },
    );
  return w;
}

/** Places one segment's buffers by liveness in [base, l2End). */
export function allocateSegmentL2(m: Machine, seg: DSegment, base: number): L2Stats {
  const first = new Map<L2Buf, number>();
  const last = new Map<L2Buf, number>();
  seg.steps.forEach((s, i) => {
    for (const a of stepAddrs(s)) {
      if (a.buf.scope !== "segment") continue;
      if (!first.has(a.buf)) first.set(a.buf, i);
      last.set(a.buf, i);
    }
  });
  const items: Interval[] = [];
  const byKey = new Map<number, L2Buf>();
  for (const [b, f] of first) {
    items.push({ key: b.id, size: Math.max(1, b.words), first: f, last: last.get(b)! });
    byKey.set(b.id, b);
  }
  const cap = m.l2End - base;
  const r = allocateIntervals(items, cap);
  if (r.overflow) {
    const step = seg.steps[r.overflow.step];
    const top = [...r.overflow.live]
      .sort((a, b) => b.size - a.size)
      .slice(0, 5)
      .map((it) => `${byKey.get(it.key)!.name} (${it.size} words)`);
    const where = step
      ? `${step.origin.label}${step.origin.layer !== undefined ? `, layer ${step.origin.layer}` : ""}`
      : "";
    throw new PccxError(
      "codegen/l2-overflow",
      ExitCode.UNSUPPORTED,
      `segment ${seg.name} needs ${r.overflow.need} L2 words at step ${r.overflow.step} (${where}), but ${cap} are free after the pinned buffers`,
      {
        notes: [`largest live buffers: ${top.join(", ")}`],
        fix:
          seg.kind === "prefill" ? "use a smaller prefill chunk (prefillChunk)" : "use a target with more L2",
      },
    );
  }
  for (const [key, off] of r.offsets) byKey.get(key)!.offset = base + off;
  for (const b of seg.bufs) if (b.offset === undefined) b.offset = base;
  return {
    segment: seg.name,
    peakWords: r.peak,
    highWaterWords: r.highWater,
    fragmentation: Number(r.fragmentation.toFixed(4)),
    buffers: items.length,
  };
}

/** Places the host scratch buffers of a segment in the `host` region; rewrites their references. */
export function allocateHostBuffers(
  seg: DSegment,
  hostBufs: readonly HostBuf[],
  reg: Registry,
  align: number,
): number {
  const byRegion = new Map(hostBufs.map((b) => [b.region, b]));
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const touch = (region: string, i: number) => {
    if (!byRegion.has(region)) return;
    if (!first.has(region)) first.set(region, i);
    last.set(region, i);
  };
  seg.steps.forEach((s, i) => {
    if (s.kind === "dma") touch(s.region, i);
    if (s.kind === "host") for (const o of [...s.inputs, ...s.outputs]) touch(o.region, i);
  });
  const items: Interval[] = [...first.keys()].map((region) => {
    const b = byRegion.get(region)!;
    return { key: b.id, size: b.bytes, first: first.get(region)!, last: last.get(region)! };
  });
  const r = allocateIntervals(items, Number.MAX_SAFE_INTEGER, align);
  const offset = new Map<string, number>();
  for (const b of hostBufs) offset.set(b.region, r.offsets.get(b.id) ?? 0);
  const fix = (o: HostOperand): HostOperand =>
    offset.has(o.region) ? { ...o, region: "host", offset: o.offset + offset.get(o.region)! } : o;
  seg.steps = seg.steps.map((s) => {
    if (s.kind === "dma" && offset.has(s.region)) {
      const base = offset.get(s.region)!;
      const off =
        typeof s.offset === "number" ? s.offset + base : { ...s.offset, base: s.offset.base + base };
      return { ...s, region: "host", offset: off };
    }
    if (s.kind === "host") return { ...s, inputs: s.inputs.map(fix), outputs: s.outputs.map(fix) };
    return s;
  });
  const r0 = reg.region("host", "buffer");
  r0.bytes = Math.max(r0.bytes, r.highWater);
  return r.highWater;
}
