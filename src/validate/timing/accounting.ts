/**
 * Where the time of a run went. Between two events the machine's state is constant; the recorder
 * attributes each such interval once (so the categories sum to the run's cycles):
 *
 * - work category (the time split): a GEMV/GEMM running → weights, kv or lm_head by what it streams;
 *   else the SFU running → sfu; else a host step running → host; else control (issue, waits,
 *   dispatch, MEMSET, MEMCPY, polling);
 * - binding resource (the per-layer breakdown): a GEMV/GEMM below its compute rate → weights/kv
 *   (it waits for its stream), at its rate → compute; then sfu, host, control as above;
 * - busy time of every unit, the host and each port, and stalls with their reason.
 *
 * It also collects the trace events the report writers turn into trace.json / trace.pccx.
 */
import type { TimelineEvent } from "../report/index.js";
import { BYTE_EPS, type ChannelState } from "./channels.js";
import type { Unit } from "./resources.js";
import { TIME_CATEGORIES, type TimeCategory } from "./types.js";

// Module-local copy: dev runners (tsx, vitest) turn an imported binding into a getter call, and
// this is read at every event.
const EPS = BYTE_EPS;

export type LayerKey = number | string;

export type HostState = "step" | "mmio" | "dm" | "poll" | "fifo_full" | "dma_queue" | "wait" | "done";

export interface RunningView {
  readonly unit: Unit;
  readonly layerKey: LayerKey;
  /** GEMV/GEMM: what it streams (undefined for other units). */
  readonly category: TimeCategory | undefined;
  readonly streaming: boolean;
  readonly rate: number;
  readonly maxRate: number;
  /**
   * The recorder's busy sums of this instruction's unit (overall, and in its layer), set at its
   * first interval: this runs at every event, and saves two Map look-ups each time.
   */
  cells?: { readonly busy: { v: number }; readonly engine: { v: number } };
}

/** What the recorder reads of the machine for one interval. */
export interface MachineView {
  readonly running: ReadonlyMap<Unit, RunningView>;
  readonly hostState: HostState;
  readonly hostLayer: LayerKey;
  /** Command FIFO empty, controller idle and no unit running. */
  readonly npuIdle: boolean;
  /** The controller holds an instruction whose unit is still busy with an async one. */
  readonly ctlUnitBlocked: boolean;
  readonly channels: readonly ChannelState[];
}

export interface LayerAcc {
  cycles: number;
  bytes: number;
  macs: number;
  /** Binding resource → cycles (keys: BOUND_KEYS). */
  readonly breakdown: Record<string, number>;
  readonly split: Record<TimeCategory, number>;
  /** Unit → busy cycles. */
  readonly engines: Tally;
}

const BOUND_KEYS = ["weights", "kv", "compute", "sfu", "host", "control"] as const;

const zeroSplit = (): Record<TimeCategory, number> =>
  Object.fromEntries(TIME_CATEGORIES.map((c) => [c, 0])) as Record<TimeCategory, number>;

/**
 * Sums by name. Each sum lives in its own small object updated in place: a Map holding the numbers
 * themselves would allocate a boxed number at every update (this runs at every event).
 */
export class Tally {
  private readonly m = new Map<string, { v: number }>();

  add(k: string, v: number): void {
    this.cell(k).v += v;
  }

  /** The sum of `k` (created at 0 when absent: call it only where it is then added to). */
  cell(k: string): { v: number } {
    let a = this.m.get(k);
    if (!a) {
      a = { v: 0 };
      this.m.set(k, a);
    }
    return a;
  }

  get(k: string): number {
    return this.m.get(k)?.v ?? 0;
  }

  keys(): string[] {
    return [...this.m.keys()].sort();
  }

  /** Entries sorted by name. */
  record(): Record<string, number> {
    return Object.fromEntries(this.keys().map((k) => [k, this.get(k)]));
  }
}

export class Recorder {
  readonly split = zeroSplit();
  readonly layers = new Map<LayerKey, LayerAcc>();
  readonly busy = new Tally();
  readonly counts = new Tally();
  /** engine → reason → cycles. */
  readonly stalls = new Map<string, Tally>();
  readonly events: TimelineEvent[] | undefined;
  l2Read = 0;
  l2Write = 0;
  constWrites = 0;
  hostBytes = 0;
  macs = 0;

  constructor(timeline: boolean) {
    this.events = timeline ? [] : undefined;
  }

  private lastKey: LayerKey | undefined;
  private lastAcc: LayerAcc | undefined;

  layer(key: LayerKey): LayerAcc {
    if (key === this.lastKey && this.lastAcc) return this.lastAcc;
    let l = this.layers.get(key);
    if (!l) {
      const breakdown: Record<string, number> = {};
      for (const b of BOUND_KEYS) breakdown[b] = 0;
      l = { cycles: 0, bytes: 0, macs: 0, breakdown, split: zeroSplit(), engines: new Tally() };
      this.layers.set(key, l);
    }
    this.lastKey = key;
    this.lastAcc = l;
    return l;
  }

  count(engine: string): void {
    this.counts.add(engine, 1);
  }

  private stall(engine: string, reason: string, cycles: number): void {
    if (!(cycles > 0)) return;
    let m = this.stalls.get(engine);
    if (!m) {
      m = new Tally();
      this.stalls.set(engine, m);
    }
    m.add(reason, cycles);
  }

  /** Attributes `dt` cycles of the state `v`. */
  interval(dt: number, v: MachineView): void {
    if (dt <= 0) return;
    const mm = v.running.get("gemv") ?? v.running.get("gemm");
    const sfu = v.running.get("sfu");
    const hs = v.hostState;
    let cat: TimeCategory = "control";
    let key: LayerKey;
    let bound: string = "control";
    if (mm) {
      cat = mm.category ?? "weights";
      key = mm.layerKey;
      const starved = mm.streaming && mm.rate < mm.maxRate * (1 - 1e-9);
      bound = starved ? (cat === "kv" ? "kv" : "weights") : "compute";
    } else if (sfu) {
      cat = "sfu";
      key = sfu.layerKey;
      bound = "sfu";
    } else if (hs === "step") {
      cat = "host";
      key = v.hostLayer;
      bound = "host";
    } else {
      const other = v.running.size > 0 ? (v.running.values().next().value as RunningView) : undefined;
      key = other?.layerKey ?? v.hostLayer;
    }
    this.split[cat] += dt;
    const l = this.layer(key);
    l.cycles += dt;
    l.split[cat] += dt;
    l.breakdown[bound]! += dt;
    for (const r of v.running.values()) {
      const unit = r.unit;
      let cells = r.cells;
      if (!cells) {
        cells = { busy: this.busy.cell(unit), engine: this.layer(r.layerKey).engines.cell(unit) };
        r.cells = cells;
      }
      cells.busy.v += dt;
      cells.engine.v += dt;
      if (r.streaming && r.category !== undefined && r.rate < r.maxRate) {
        this.stall(unit, r.category === "kv" ? "kv" : "weights", dt * (1 - r.rate / r.maxRate));
      }
    }
    this.hostInterval(dt, v, hs);
    for (const ch of v.channels) this.channelInterval(dt, ch);
  }

  private hostInterval(dt: number, v: MachineView, hs: HostState): void {
    if (hs === "step" || hs === "mmio" || hs === "dm" || hs === "poll") this.busy.add("host", dt);
    // mmio: the host's register writes (instruction stores and DataMover commands)
    if (hs === "mmio" || hs === "dm") this.busy.add("mmio", dt);
    if (hs === "fifo_full" || hs === "dma_queue" || hs === "wait") this.stall("host", hs, dt);
    if (v.npuIdle && hs !== "done") {
      this.stall("npu", hs === "step" ? "host" : hs === "wait" || hs === "poll" ? "wait" : "issue", dt);
    }
    if (v.ctlUnitBlocked) this.stall("npu", "unit_busy", dt);
  }

  private channelInterval(dt: number, ch: ChannelState): void {
    if (!ch.pending()) return;
    const rate = ch.m.bytesPerCycle;
    if (ch.flow >= rate * (1 - 1e-9)) return;
    const level = ch.level();
    const full = ch.m.direction === "in" ? level >= ch.m.fifoBytes - EPS : false;
    const starved = ch.m.direction === "out" && level <= EPS;
    if (starved) return; // waiting for the MEMCPY that feeds it: not the port's limit
    this.stall(ch.name, full ? "fifo_full" : "ddr_share", dt * (1 - ch.flow / rate));
  }

  event(e: TimelineEvent): void {
    this.events?.push(e);
  }

  /** Stalls sorted by engine, then reason. */
  stallList(): { engine: string; reason: string; cycles: number }[] {
    const out: { engine: string; reason: string; cycles: number }[] = [];
    for (const engine of [...this.stalls.keys()].sort()) {
      const m = this.stalls.get(engine)!;
      for (const reason of m.keys()) out.push({ engine, reason, cycles: m.get(reason) });
    }
    return out;
  }
}
