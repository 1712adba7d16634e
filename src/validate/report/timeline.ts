/**
 * The timeline the trace writers consume: what ran on which track, from which cycle, for how long.
 * The timing simulator produces it; the writers here only check and render it. Cycles are integers
 * on one clock (`clockMhz`, the NPU core clock); tracks on other clocks are converted by the producer.
 */
import { invalidInput } from "../../diag/index.js";

/** What an event is, as the trace viewers colour and count it. */
export type EventKind = "compute" | "dma_read" | "dma_write" | "stall" | "barrier" | "api" | "host";

export const EVENT_KINDS: readonly EventKind[] = [
  "compute",
  "dma_read",
  "dma_write",
  "stall",
  "barrier",
  "api",
  "host",
];

/**
 * One row of the timeline: a resource such as `gemv`, `gemm`, `sfu`, `hp2`, `acp`, `host0`, `mmio`.
 * `group` gathers tracks into one process row in Perfetto (e.g. "NPU", "AXI", "Host").
 */
export interface TimelineTrack {
  readonly name: string;
  readonly group: string;
}

export interface TimelineEvent {
  /** Name of a track listed in `Timeline.tracks`. */
  readonly track: string;
  readonly name: string;
  readonly startCycle: number;
  readonly durationCycles: number;
  readonly kind: EventKind;
  readonly layer?: number;
  readonly args?: Readonly<Record<string, string | number>>;
}

export interface Timeline {
  /** Clock the cycle counts are on, in MHz (e.g. 400 for the pccx v002 core clock). */
  readonly clockMhz: number;
  /** Length of the run in cycles (at least the end of the last event). */
  readonly cycles: number;
  /** Track order is display order; a track's index is its pccx-lab core id. */
  readonly tracks: readonly TimelineTrack[];
  readonly events: readonly TimelineEvent[];
  /** Free-form facts about the run (model, target fingerprint, segment ...), copied into traces. */
  readonly meta: Readonly<Record<string, string | number | boolean>>;
}

const fix = "this is a bug in the timeline's producer (the timing simulator); report it with the input";

function checkCycle(value: number, what: string, jsonPath: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidInput("report/timeline-cycles", `${what} must be a non-negative integer, got ${value}`, {
      at: { jsonPath },
      fix,
    });
  }
}

/**
 * Checks what every writer relies on: a positive clock, unique track names, events on known tracks
 * with integer cycles inside the run. Returns the track index by name.
 */
export function checkTimeline(t: Timeline): ReadonlyMap<string, number> {
  if (!Number.isFinite(t.clockMhz) || t.clockMhz <= 0) {
    throw invalidInput("report/timeline-clock", `clockMhz must be a positive number, got ${t.clockMhz}`, {
      at: { jsonPath: "$.clockMhz" },
      fix,
    });
  }
  checkCycle(t.cycles, "cycles", "$.cycles");
  const index = new Map<string, number>();
  t.tracks.forEach((tr, i) => {
    if (index.has(tr.name)) {
      throw invalidInput("report/timeline-track", `track "${tr.name}" is listed twice`, {
        at: { jsonPath: `$.tracks[${i}]` },
        fix,
      });
    }
    index.set(tr.name, i);
  });
  t.events.forEach((e, i) => {
    const at = `$.events[${i}]`;
    if (!index.has(e.track)) {
      throw invalidInput("report/timeline-track", `event "${e.name}" is on unknown track "${e.track}"`, {
        at: { jsonPath: `${at}.track` },
        fix: "list every track an event uses in Timeline.tracks",
      });
    }
    if (!EVENT_KINDS.includes(e.kind)) {
      throw invalidInput("report/timeline-kind", `event "${e.name}" has unknown kind "${String(e.kind)}"`, {
        at: { jsonPath: `${at}.kind` },
        fix: `use one of ${EVENT_KINDS.join(", ")}`,
      });
    }
    checkCycle(e.startCycle, `event "${e.name}" startCycle`, `${at}.startCycle`);
    checkCycle(e.durationCycles, `event "${e.name}" durationCycles`, `${at}.durationCycles`);
    if (e.startCycle + e.durationCycles > t.cycles) {
      throw invalidInput(
        "report/timeline-cycles",
        `event "${e.name}" ends at cycle ${e.startCycle + e.durationCycles}, after the run's ${t.cycles} cycles`,
        { at: { jsonPath: at }, fix },
      );
    }
  });
  return index;
}

/** Exact cycles → picoseconds (rounded half up), in bigint so that long runs stay exact. */
export function cyclesToPicoseconds(cycles: number, clockMhz: number): bigint {
  // The clock in Hz is an integer for any sensible MHz figure (up to 6 decimals).
  const hz = BigInt(Math.round(clockMhz * 1e6));
  return (BigInt(cycles) * 1_000_000_000_000n * 2n + hz) / (2n * hz);
}

/** Picoseconds → microseconds as a decimal string, trailing zeros dropped ("1.0025", "3"). */
export function picosecondsToMicrosText(ps: bigint): string {
  const whole = ps / 1_000_000n;
  const frac = (ps % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}
