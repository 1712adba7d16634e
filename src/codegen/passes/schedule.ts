/**
 * The `schedule` pass: turns the weight tiles each GEMV/GEMM consumes into DataMover commands on
 * their ports and places each command as early as the hardware allows, so weights stream while the
 * NPU and the host work on earlier steps:
 * - a port's commands keep the consumption order of its tiles;
 * - a command is issued once the bytes queued ahead of it on its port (issued, not yet consumed by
 *   an enqueued instruction) fit the port's FIFO (target `ports[].fifo_bytes`);
 * - at most `max_outstanding_commands` per channel: command k goes after the consumer of command
 *   k − max (so waiting for that one cannot deadlock);
 * - never before the host step that writes the DDR it reads (a KV row) or sets a variable its
 *   offset or size depends on (kv_len, expert[l][j]).
 * In decode segments it first lets SFU work run beside independent GEMVs (overlap.ts).
 */
import type { DDma, DGemv, DSegment, DStep, Val } from "../draft.js";
import { isReloc } from "../draft.js";
import { setsVariable } from "../host-ops/index.js";
import type { Machine } from "../machine.js";
import type { DmaPort } from "../program.js";
import { overlapSegment } from "./overlap.js";

/** The largest value a relocated size can take (its clamp), or the number itself. */
export function maxOf(v: Val): number {
  if (!isReloc(v)) return v;
  if (v.max !== undefined) return v.max;
  return Number.POSITIVE_INFINITY;
}

const varsOf = (v: Val): string[] => (isReloc(v) ? v.terms.map((t) => t.variable) : []);

interface Pending {
  readonly dma: DDma;
  readonly consumer: number;
  readonly k: number;
}

export function scheduleSegment(m: Machine, seg: DSegment): void {
  if (seg.kind === "decode") overlapSegment(m, seg.steps);
  const steps = seg.steps;
  const byPort = new Map<DmaPort, Pending[]>();
  steps.forEach((s, i) => {
    if (s.kind !== "gemv") return;
    for (const t of s.tiles) {
      const list = byPort.get(t.port) ?? [];
      for (const p of t.pieces) {
        const dma: DDma = {
          kind: "dma",
          port: t.port,
          region: p.region,
          offset: p.offset,
          bytes: p.bytes,
          consumer: s as DGemv,
          ...(p.segmentId ? { segmentId: p.segmentId } : {}),
          origin: { ...s.origin, label: `weights for ${s.origin.label}` },
        };
        list.push({ dma, consumer: i, k: list.length });
      }
      byPort.set(t.port, list);
    }
  });
  const writers = new Map<string, number[]>();
  const setters: number[] = [];
  steps.forEach((s, i) => {
    if (s.kind !== "host") return;
    for (const o of s.outputs) {
      const l = writers.get(o.region) ?? [];
      if (l[l.length - 1] !== i) l.push(i);
      writers.set(o.region, l);
    }
    if (s.fn === "kv_write" || s.fn === "kv_view" || s.fn === "moe_route") setters.push(i);
  });
  const barrier = (p: Pending): number => {
    let b = 0;
    const w = writers.get(p.dma.region);
    if (w) {
      const i = lastBefore(w, p.consumer);
      if (i >= 0) b = w[i]! + 1;
    }
    const vars = [...varsOf(p.dma.offset), ...varsOf(p.dma.bytes)];
    if (vars.length) {
      for (let i = lastBefore(setters, p.consumer); i >= 0; i--) {
        const st = steps[setters[i]!]!;
        if (setters[i]! < b) break;
        if (st.kind === "host" && vars.some((v) => setsVariable(st.fn, st.attrs, v))) {
          b = Math.max(b, setters[i]! + 1);
          break;
        }
      }
    }
    return b;
  };
  const placeAt = new Map<number, DDma[]>();
  const portOrder = [...m.enginePorts.gemv, ...m.enginePorts.gemm];
  const ordered = [...byPort.entries()].sort((a, b) => portOrder.indexOf(a[0]) - portOrder.indexOf(b[0]));
  for (const [port, list] of ordered) {
    const fifo = m.portFifoBytes[port] ?? 0;
    const prefix: number[] = [0];
    for (const p of list) prefix.push(prefix[prefix.length - 1]! + Math.min(maxOf(p.dma.bytes), 1e15));
    let prev = 0;
    let J = 0;
    list.forEach((p, k) => {
      let lb = prev;
      const back = list[k - m.maxOutstanding];
      if (back) lb = Math.max(lb, back.consumer + 1);
      lb = Math.max(lb, barrier(p));
      // FIFO: the bytes of earlier commands whose consumers come at or after the position must fit.
      while (J < k && prefix[k]! - prefix[J]! >= fifo) J++;
      if (J > 0) lb = Math.max(lb, list[J - 1]!.consumer + 1);
      const pos = Math.min(lb, p.consumer);
      prev = pos;
      const at = placeAt.get(pos) ?? [];
      at.push(p.dma);
      placeAt.set(pos, at);
    });
  }
  const out: DStep[] = [];
  steps.forEach((s, i) => {
    for (const d of placeAt.get(i) ?? []) out.push(d);
    out.push(s);
  });
  seg.steps = out;
}

/** Index in sorted `list` of the last element < x, or -1. */
function lastBefore(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
