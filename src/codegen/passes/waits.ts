/**
 * The `waits` pass: makes every dependency explicit (docs/program.md §6) and assigns DMA tags.
 * - A host step waits for every earlier DataMover command whose DDR range it depends on (a
 *   readback it reads, a transfer still reading a buffer it overwrites): the latest such command
 *   per channel (a channel completes in order).
 * - An NPU instruction that touches L2 an unfinished async instruction touches waits for NPU idle.
 * - A channel never has more than the target's outstanding commands: the oldest is waited first.
 * - A readback MEMCPY (L2→host) is async when nothing later on the NPU overwrites its source (an
 *   async instruction finishes only at a `wait npu-idle`).
 * - The segment ends with every channel drained and the NPU idle.
 */
import type { DDma, DSegment, DStep, DWait } from "../draft.js";
import type { Machine } from "../machine.js";
import type { DmaPort } from "../program.js";
import {
  conflicts,
  type DdrRange,
  ddrOverlap,
  dmaRange,
  type L2Effects,
  l2Effects,
  operandRange,
} from "./effects.js";

interface PendingDma {
  readonly dma: DDma;
  readonly range: DdrRange;
  readonly writes: boolean;
}

function isNpu(s: DStep): boolean {
  return s.kind === "gemv" || s.kind === "cvo" || s.kind === "memcpy" || s.kind === "memset";
}

/**
 * Marks readbacks (L2→host MEMCPY) async when no later NPU instruction of the segment writes the
 * words they read: an async instruction finishes only at a `wait npu-idle` (docs/program.md §6),
 * so this is where async needs no wait at all.
 */
function markAsync(m: Machine, steps: readonly DStep[], fx: (i: number) => L2Effects): void {
  if (!m.asyncSupported) return;
  // Walk backwards keeping the union of later NPU writes as sorted disjoint ranges.
  const later: [number, number][] = [];
  const hit = (r: readonly [number, number]) => later.some((w) => w[0] < r[1] && r[0] < w[1]);
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    if (!isNpu(s)) continue;
    const e = fx(i);
    if (s.kind === "memcpy" && s.dir === "l2_to_host" && !e.reads.some(hit)) s.async = true;
    for (const w of e.writes) later.push([w[0], w[1]]);
    if (later.length > 64) compact(later);
  }
}

/** Merges overlapping ranges in place (keeps the write set small). */
function compact(list: [number, number][]): void {
  list.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of list) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  list.length = 0;
  list.push(...out);
}

/** Whether one of `list` overlaps DDR range `r` (a loop: this runs per host step and pending command). */
function anyOverlap(list: readonly DdrRange[], r: DdrRange): boolean {
  for (const x of list) if (ddrOverlap(x, r)) return true;
  return false;
}

export function waitsSegment(m: Machine, seg: DSegment): void {
  const cache: (L2Effects | undefined)[] = [];
  const fx = (i: number): L2Effects => {
    let e = cache[i];
    if (!e) {
      e = l2Effects(m, seg.steps[i]!);
      cache[i] = e;
    }
    return e;
  };
  markAsync(m, seg.steps, fx);
  const out: DStep[] = [];
  const pending = new Map<DmaPort, PendingDma[]>();
  let asyncs: { step: DStep; fx: L2Effects }[] = [];
  const nextTag = new Map<DmaPort, number>();
  const waitDma = (port: DmaPort, idx: number, label: string) => {
    const list = pending.get(port)!;
    const p = list[idx]!;
    out.push({ kind: "wait", on: { kind: "dma", dma: p.dma }, origin: { ...p.dma.origin, label } } as DWait);
    list.splice(0, idx + 1);
  };
  const waitIdle = (s: DStep) => {
    out.push({
      kind: "wait",
      on: { kind: "npu-idle" },
      origin: { ...s.origin, label: `idle before ${s.origin.label}` },
    });
    asyncs = [];
  };
  seg.steps.forEach((s, si) => {
    if (s.kind === "dma") {
      const list = pending.get(s.port) ?? [];
      pending.set(s.port, list);
      if (list.length >= m.maxOutstanding)
        waitDma(s.port, list.length - m.maxOutstanding, `free a ${s.port} command slot`);
      const tag = nextTag.get(s.port) ?? 0;
      nextTag.set(s.port, (tag + 1) % m.dmaTags);
      s.tag = tag;
      const p: PendingDma = {
        dma: s,
        range: dmaRange(s.offset, s.bytes, s.region),
        writes: s.port === "acp_result",
      };
      list.push(p);
      out.push(s);
      return;
    }
    if (s.kind === "host") {
      const reads = s.inputs.map((o) => operandRange(m, o));
      const writes = s.outputs.map((o) => operandRange(m, o));
      for (const [port, list] of pending) {
        let last = -1;
        for (let i = 0; i < list.length; i++) {
          const p = list[i]!;
          if ((p.writes && anyOverlap(reads, p.range)) || anyOverlap(writes, p.range)) last = i;
        }
        if (last >= 0) waitDma(port, last, `${s.fn} needs ${list[last]!.dma.origin.label}`);
      }
      out.push(s);
      return;
    }
    if (isNpu(s)) {
      const e = fx(si);
      if (asyncs.length && asyncs.some((a) => conflicts(a.fx, e))) waitIdle(s);
      if ((s.kind === "memcpy" || s.kind === "cvo") && s.async) asyncs.push({ step: s, fx: e });
      out.push(s);
      return;
    }
    out.push(s);
  });
  const end = { label: `end of ${seg.name}` };
  for (const [port, list] of pending)
    if (list.length) waitDma(port, list.length - 1, `${end.label}: drain ${port}`);
  out.push({ kind: "wait", on: { kind: "npu-idle" }, origin: end });
  seg.steps = out;
}
