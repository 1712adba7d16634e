/**
 * Chrome / Perfetto `trace.json` in the Trace Event Format (JSON object form): one process per
 * track group, one thread per track lane, complete events (`ph: "X"`) with `ts`/`dur` in
 * microseconds. Timestamps are computed exactly (integer picoseconds, printed as decimals) so the
 * same timeline always gives the same bytes and adjacent events share their boundary exactly.
 */

import type { TimelineEvent } from "./timeline.js";
import { checkTimeline, cyclesToPicoseconds, picosecondsToMicrosText, type Timeline } from "./timeline.js";

/** Where an event landed: its process, its thread and the lane inside its track. */
export interface PlacedEvent {
  readonly event: TimelineEvent;
  readonly index: number;
  readonly lane: number;
}

/**
 * Splits each track's events into lanes so that events in one lane either follow each other or nest
 * perfectly: the format (and Perfetto) require complete events on one thread to nest, and a DMA
 * port with two transfers in flight would otherwise overlap. Greedy by start cycle, longest first.
 */
export function assignLanes(events: readonly TimelineEvent[]): { placed: PlacedEvent[]; lanes: number } {
  const order = events
    .map((event, index) => ({ event, index }))
    .sort(
      (a, b) => a.event.startCycle - b.event.startCycle || b.event.durationCycles - a.event.durationCycles,
    );
  const open: number[][] = []; // per lane, the end cycles of the events still open (a nesting stack)
  const placed: PlacedEvent[] = [];
  for (const { event, index } of order) {
    const start = event.startCycle;
    const end = start + event.durationCycles;
    let lane = open.findIndex((stack) => {
      while (stack.length > 0 && stack[stack.length - 1]! <= start) stack.pop();
      return stack.length === 0 || stack[stack.length - 1]! >= end;
    });
    if (lane < 0) {
      lane = open.length;
      open.push([]);
    }
    open[lane]!.push(end);
    placed.push({ event, index, lane });
  }
  return { placed, lanes: Math.max(1, open.length) };
}

const str = (s: string) => JSON.stringify(s);

function argsJson(e: TimelineEvent): string {
  const parts = [`"start_cycle":${e.startCycle}`, `"duration_cycles":${e.durationCycles}`];
  if (e.layer !== undefined) parts.push(`"layer":${JSON.stringify(e.layer)}`);
  const reserved = new Set(["start_cycle", "duration_cycles", "layer"]);
  for (const k of Object.keys(e.args ?? {}).sort()) {
    if (reserved.has(k)) continue;
    parts.push(`${str(k)}:${JSON.stringify(e.args![k])}`);
  }
  return `{${parts.join(",")}}`;
}

function metaEvent(name: string, pid: number, tid: number, args: string): string {
  return `{"name":${str(name)},"ph":"M","ts":0,"pid":${pid},"tid":${tid},"args":${args}}`;
}

/** Renders the timeline as Trace Event Format JSON text (one event per line, final newline). */
export function renderChromeTrace(t: Timeline): string {
  checkTimeline(t);
  const groups: string[] = [];
  for (const tr of t.tracks) if (!groups.includes(tr.group)) groups.push(tr.group);
  const lines: string[] = [];
  groups.forEach((g, i) => {
    lines.push(metaEvent("process_name", i + 1, 0, `{"name":${str(g)}}`));
    lines.push(metaEvent("process_sort_index", i + 1, 0, `{"sort_index":${i}}`));
  });

  const slices: { pid: number; tid: number; ps: bigint; line: string; dur: bigint; index: number }[] = [];
  let nextTid = 1;
  for (const tr of t.tracks) {
    const pid = groups.indexOf(tr.group) + 1;
    const { placed, lanes } = assignLanes(t.events.filter((e) => e.track === tr.name));
    const firstTid = nextTid;
    for (let lane = 0; lane < lanes; lane++) {
      const name = lane === 0 ? tr.name : `${tr.name} #${lane + 1}`;
      lines.push(metaEvent("thread_name", pid, firstTid + lane, `{"name":${str(name)}}`));
      lines.push(metaEvent("thread_sort_index", pid, firstTid + lane, `{"sort_index":${firstTid + lane}}`));
    }
    nextTid += lanes;
    for (const p of placed) {
      const e = p.event;
      const startPs = cyclesToPicoseconds(e.startCycle, t.clockMhz);
      const durPs = cyclesToPicoseconds(e.startCycle + e.durationCycles, t.clockMhz) - startPs;
      const tid = firstTid + p.lane;
      const line =
        `{"name":${str(e.name)},"cat":${str(e.kind)},"ph":"X","ts":${picosecondsToMicrosText(startPs)},` +
        `"dur":${picosecondsToMicrosText(durPs)},"pid":${pid},"tid":${tid},"args":${argsJson(e)}}`;
      slices.push({ pid, tid, ps: startPs, dur: durPs, line, index: p.index });
    }
  }
  // Parents before children at equal start: viewers process equal timestamps in file order.
  slices.sort(
    (a, b) =>
      a.pid - b.pid ||
      a.tid - b.tid ||
      (a.ps < b.ps ? -1 : a.ps > b.ps ? 1 : 0) ||
      (a.dur > b.dur ? -1 : a.dur < b.dur ? 1 : 0) ||
      a.index - b.index,
  );
  for (const s of slices) lines.push(s.line);

  const other = [
    `"generator":"pccxc"`,
    `"clock_mhz":${JSON.stringify(t.clockMhz)}`,
    `"cycles":${t.cycles}`,
    ...Object.keys(t.meta)
      .sort()
      .map((k) => `${str(`meta.${k}`)}:${JSON.stringify(t.meta[k])}`),
  ];
  return `{"traceEvents":[\n${lines.join(",\n")}\n],\n"displayTimeUnit":"ns",\n"otherData":{${other.join(",")}}}\n`;
}
