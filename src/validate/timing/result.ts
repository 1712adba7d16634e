/**
 * Turns a finished TimingMachine into the run's figures (RunTiming), the LayerRows the report
 * writers take, and its Timeline. Cycles stay fractional in the figures (they are sums of exact
 * event intervals); layer rows and trace events are rounded to whole cycles.
 */
import { BOUNDS, type Bound, type LayerRow, type Timeline, type TimelineTrack } from "../report/index.js";
import type { LayerAcc, LayerKey } from "./accounting.js";
import type { TimingMachine } from "./machine.js";
import { runRoofline } from "./roofline.js";
import type { SegmentRunSpec } from "./run.js";
import type { EngineStats, LayerTiming, PortStats, RunOutput, RunTiming } from "./types.js";

const NPU_TRACKS = ["gemv", "gemm", "sfu", "dma", "const_cache"];

/** Layer order: embed, layers by index, other, lm_head. */
export function compareLayerKeys(a: LayerKey, b: LayerKey): number {
  const rank = (k: LayerKey) =>
    k === "embed" ? 0 : typeof k === "number" ? 1 : k === "other" ? 2 : k === "lm_head" ? 3 : 4;
  const d = rank(a) - rank(b);
  if (d !== 0) return d;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function layerTiming(key: LayerKey, l: LayerAcc): LayerTiming {
  const breakdown = Object.fromEntries(
    Object.entries(l.breakdown)
      .filter(([, v]) => v > 0)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  );
  return {
    layer: key,
    cycles: l.cycles,
    bytes: l.bytes,
    macs: l.macs,
    breakdown,
    split: { ...l.split },
    engines: l.engines.record(),
  };
}

/** The binding resource of a layer: its largest breakdown category. */
export function boundOf(breakdown: Readonly<Record<string, number>>): Bound {
  let best: Bound = "control";
  let max = -1;
  for (const b of BOUNDS) {
    const v = breakdown[b] ?? 0;
    if (v > max) [best, max] = [b, v];
  }
  return best;
}

export function layerRow(l: LayerTiming): LayerRow {
  const breakdown: Record<string, number> = {};
  for (const b of BOUNDS) if ((l.breakdown[b] ?? 0) > 0) breakdown[b] = Math.round(l.breakdown[b]!);
  return {
    layer: l.layer,
    cycles: Math.round(l.cycles),
    bytes: l.bytes,
    ...(l.macs > 0 ? { macs: l.macs } : {}),
    bound: boundOf(l.breakdown),
    breakdown,
  };
}

function timelineOf(mc: TimingMachine, spec: SegmentRunSpec, cycles: number): Timeline | undefined {
  const events = mc.rec.events;
  if (!events) return undefined;
  const tracks: TimelineTrack[] = [
    { name: "host", group: "Host" },
    { name: "mmio", group: "Host" },
    ...NPU_TRACKS.map((name) => ({ name, group: "NPU" })),
    ...mc.channels.map((c) => ({ name: c.name, group: "AXI" })),
  ];
  const end = events.reduce((e, x) => Math.max(e, x.startCycle + x.durationCycles), Math.ceil(cycles));
  return {
    clockMhz: mc.m.clockMhz,
    cycles: end,
    tracks,
    events,
    meta: {
      model: mc.program.model,
      target: mc.m.target.fingerprint,
      segment: spec.segment,
      ...(spec.variables.pos !== undefined ? { pos: spec.variables.pos } : {}),
    },
  };
}

export function runOutput(
  mc: TimingMachine,
  spec: SegmentRunSpec,
  cycles: number,
  tokens: number,
): RunOutput {
  const m = mc.m;
  const rec = mc.rec;
  const seconds = cycles / (m.clockMhz * 1e6);
  const ports: Record<string, PortStats> = {};
  const bytesPerChannel = new Map<string, number>();
  for (const ch of mc.channels) {
    const issued = ch.all().reduce((a, c) => a + c.bytes, 0);
    bytesPerChannel.set(ch.name, issued);
    const byKind: Record<string, number> = {};
    for (const c of ch.all()) byKind[c.kind] = (byKind[c.kind] ?? 0) + c.bytes;
    ports[ch.name] = {
      port: ch.m.port,
      direction: ch.m.direction,
      bytes: issued,
      commands: ch.commands,
      busy: ch.busy,
      byKind,
    };
  }
  const engines: Record<string, EngineStats> = {};
  const names = new Set([...rec.busy.keys(), ...rec.counts.keys()]);
  for (const e of [...names].sort()) engines[e] = { busy: rec.busy.get(e), count: rec.counts.get(e) };
  const layers = [...rec.layers]
    .sort((a, b) => compareLayerKeys(a[0], b[0]))
    .map(([k, l]) => layerTiming(k, l));
  const count = (k: string) => mc.seg.steps.filter((s) => s.kind === k).length;
  const dir = (d: "in" | "out") =>
    Object.values(ports)
      .filter((p) => p.direction === d)
      .reduce((a, p) => a + p.bytes, 0);
  const timing: RunTiming = {
    segment: spec.segment,
    kind: mc.seg.kind,
    variables: { ...spec.variables },
    tokens,
    cycles,
    seconds,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    split: { ...rec.split },
    engines,
    stalls: rec.stallList(),
    ports,
    memory: {
      ddrRead: dir("in"),
      ddrWrite: dir("out"),
      l2Read: rec.l2Read,
      l2Write: rec.l2Write,
      constWrites: rec.constWrites,
      host: rec.hostBytes,
    },
    layers,
    roofline: runRoofline(m, bytesPerChannel, cycles),
    counts: {
      steps: mc.seg.steps.length,
      npu: count("npu"),
      dma: count("dma"),
      host: count("host"),
      waits: count("wait"),
      macs: rec.macs,
    },
  };
  const timeline = timelineOf(mc, spec, cycles);
  return { timing, layerRows: layers.map(layerRow), ...(timeline ? { timeline } : {}) };
}
