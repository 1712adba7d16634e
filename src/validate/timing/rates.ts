/**
 * The rates of every stream between two events, and the time to the next threshold.
 *
 * Each channel with bytes to move asks for a cap: its port rate, or — when its FIFO is full — the
 * rate its consumer drains it (a PL→DDR channel whose FIFO is empty asks for the rate its producer
 * fills it). The DDR bandwidth is shared among the caps fairly (water filling). An instruction
 * streams at its compute rate unless one of its FIFOs is empty (PL→DDR: full); then it goes at the
 * rate that FIFO is fed. Caps and instruction rates depend on each other; a few rounds of the two
 * settle them, and the final flows are clamped so that no FIFO overfills or underflows.
 */
import { BYTE_EPS, type ChannelState } from "./channels.js";
import { waterFillInto } from "./flow.js";
import type { Running } from "./npu.js";

// Module-local copy: dev runners (tsx, vitest) turn an imported binding into a getter call, and
// this is read at every event.
const EPS = BYTE_EPS;

const ROUNDS = 4;

function cap(ch: ChannelState): number {
  if (!ch.pending()) return 0;
  const level = ch.level();
  if (ch.m.direction === "in") {
    return level < ch.m.fifoBytes - EPS ? ch.m.bytesPerCycle : Math.min(ch.m.bytesPerCycle, ch.partRate());
  }
  return level > EPS ? ch.m.bytesPerCycle : Math.min(ch.m.bytesPerCycle, ch.partRate());
}

function limit(r: Running): number {
  let rate = r.maxRate;
  for (const p of r.parts) {
    const ch = p.ch;
    if (ch.m.direction === "in") {
      if (ch.level() <= EPS) rate = Math.min(rate, ch.flow / p.total);
    } else {
      if (ch.taken >= ch.issued - EPS) rate = 0;
      else if (ch.level() >= ch.m.fifoBytes - EPS) rate = Math.min(rate, ch.flow / p.total);
    }
  }
  return rate;
}

/** Scratch arrays of solveRates, sized to the channel count (no allocation per event). */
export interface RateScratch {
  readonly caps: Float64Array;
  readonly alloc: Float64Array;
  readonly order: Int32Array;
}

export function rateScratch(n: number): RateScratch {
  return { caps: new Float64Array(n), alloc: new Float64Array(n), order: new Int32Array(n) };
}

/** Sets `flow` of every channel and `rate` of every streaming instruction. */
export function solveRates(
  channels: readonly ChannelState[],
  streaming: readonly Running[],
  ddr: number,
  sc: RateScratch,
): void {
  for (const r of streaming) r.rate = r.maxRate;
  const n = channels.length;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < n; i++) sc.caps[i] = cap(channels[i]!);
    waterFillInto(sc.caps, ddr, sc.alloc, sc.order);
    for (let i = 0; i < n; i++) channels[i]!.flow = sc.alloc[i]!;
    let changed = false;
    for (const r of streaming) {
      const next = limit(r);
      if (next !== r.rate) changed = true;
      r.rate = next;
    }
    if (!changed) break;
  }
  for (const ch of channels) {
    const level = ch.level();
    if (ch.m.direction === "in" && level >= ch.m.fifoBytes - EPS) ch.flow = Math.min(ch.flow, ch.partRate());
    if (ch.m.direction === "out" && level <= EPS) ch.flow = Math.min(ch.flow, ch.partRate());
  }
}

const RATE_EPS = 1e-12;

/** Cycles until the next fluid threshold: a FIFO fills or empties, a command or a stream ends. */
export function nextThreshold(channels: readonly ChannelState[], streaming: readonly Running[]): number {
  let dt = Number.POSITIVE_INFINITY;
  for (const ch of channels) {
    dt = Math.min(dt, ch.timeToCommandEnd());
    const level = ch.level();
    const inflow = ch.m.direction === "in" ? ch.flow : ch.partRate();
    const outflow = ch.m.direction === "in" ? ch.partRate() : ch.flow;
    const net = inflow - outflow;
    if (net > RATE_EPS && level < ch.m.fifoBytes - EPS) dt = Math.min(dt, (ch.m.fifoBytes - level) / net);
    if (net < -RATE_EPS && level > EPS) dt = Math.min(dt, level / -net);
    if (ch.m.direction === "out" && ch.part && inflow > RATE_EPS) {
      dt = Math.min(dt, Math.max(0, (ch.issued - ch.taken) / inflow));
    }
  }
  for (const r of streaming) if (r.rate > RATE_EPS) dt = Math.min(dt, (1 - r.x) / r.rate);
  return dt;
}
