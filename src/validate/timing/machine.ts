/**
 * The event-driven timing machine for one segment run. The host driver replays the steps in order
 * (host.ts); the NPU executes the instructions it wrote (npu.ts); DataMover channels move bytes
 * through the port FIFOs (channels.ts) at rates shared under the DDR cap (rates.ts). Time jumps
 * from event to event: a timer (an MMIO store, a dispatch, a fixed-length instruction, a host step,
 * a poll) ends, or a fluid threshold is reached (a FIFO fills or empties, a command completes, an
 * instruction's stream ends). Between events every rate is constant, so the run is exact for the
 * model, and its cost grows with the number of steps, not with bytes or cycles.
 */
import type { Program, Segment } from "../../codegen/program.js";
import { invalidInput } from "../../diag/index.js";
import { type LayerKey, type MachineView, Recorder } from "./accounting.js";
import { BYTE_EPS, ChannelState, type Command } from "./channels.js";
import { HostDriver } from "./host.js";
import { internal, Npu, Running } from "./npu.js";
import { nextThreshold, rateScratch, solveRates } from "./rates.js";
import type { TimingModel, Unit } from "./resources.js";
import type { Variables } from "./variables.js";
import type { ConstCache } from "./work.js";
import { WorkCache } from "./work-cache.js";

// Module-local copy: dev runners (tsx, vitest) turn an imported binding into a getter call, and
// this is read at every event.
const EPS = BYTE_EPS;

/** Events in a row without progress (see progressMark) before the run is declared deadlocked. */
export const MAX_EVENTS_WITHOUT_PROGRESS = 200_000;

const CTL_CODE: Readonly<Record<Npu["ctl"]["kind"], number>> = { idle: 0, dispatch: 1, blocked: 2, sync: 3 };

/** The controller's idle state (one shared object: it is set after every instruction). */
const CTL_IDLE: Npu["ctl"] = { kind: "idle" };

const headsCache = new WeakMap<Segment, Uint8Array>();

/** The per-step isLmHead memo of a segment, shared by every run of it. */
function headTable(seg: Segment): Uint8Array {
  let t = headsCache.get(seg);
  if (!t) {
    t = new Uint8Array(seg.steps.length);
    headsCache.set(seg, t);
  }
  return t;
}

const keysCache = new WeakMap<Segment, LayerKey[]>();

/** Steps outside any layer: "embed" before the first layer step, "lm_head" after the last, else "other". */
export function layerKeys(seg: Segment): LayerKey[] {
  let keys = keysCache.get(seg);
  if (!keys) {
    keys = computeKeys(seg);
    keysCache.set(seg, keys);
  }
  return keys;
}

function computeKeys(seg: Segment): LayerKey[] {
  const idx = seg.steps.map((s) => s.origin.layer);
  const first = idx.findIndex((l) => l !== undefined);
  let last = -1;
  idx.forEach((l, i) => {
    if (l !== undefined) last = i;
  });
  return idx.map((l, i) => l ?? (first < 0 ? "other" : i < first ? "embed" : i > last ? "lm_head" : "other"));
}

const HEAD_TENSOR = /(^|\.)(lm_head|embed_tokens)\.weight(@lm_head)?$/;
const HEAD_LABEL = /^(lm_head|logits)/;

/**
 * Whether a GEMV/GEMM step computes the LM head: its label names the logits or it streams the head
 * tensor (`lm_head.weight`, or the tied `embed_tokens.weight`, which a matmul only reads as the head).
 */
export function isLmHead(origin: { readonly label: string; readonly tensors?: readonly string[] }): boolean {
  let v = headCache.get(origin);
  if (v === undefined) {
    v = HEAD_LABEL.test(origin.label) || (origin.tensors ?? []).some((t) => HEAD_TENSOR.test(t));
    headCache.set(origin, v);
  }
  return v;
}

const headCache = new WeakMap<object, boolean>();

export class TimingMachine implements MachineView {
  now = 0;
  readonly npu: Npu;
  readonly chans = new Map<string, ChannelState>();
  readonly channels: ChannelState[];
  readonly host: HostDriver;
  readonly rec: Recorder;
  readonly keys: readonly LayerKey[];
  /** Scratch: commands completed by the current advance. */
  private readonly done: Command[] = [];
  /** Per step: 0 not known yet, 1 the LM head, 2 not (see lmHead). */
  private readonly heads: Uint8Array;
  /** The progress mark of the last event (see progressMark); -1: none yet. */
  private readonly mark = new Float64Array(6).fill(-1);

  constructor(
    readonly m: TimingModel,
    readonly program: Program,
    readonly seg: Segment,
    readonly vars: Variables,
    readonly consts: ConstCache,
    timeline: boolean,
    /** Works of this segment kept from earlier runs (TimingSession passes one per segment). */
    private readonly works = new WorkCache(m, timeline),
  ) {
    this.npu = new Npu(m);
    for (const c of m.channels.values()) this.chans.set(c.name, new ChannelState(c));
    this.channels = [...this.chans.values()];
    this.rec = new Recorder(timeline);
    this.keys = layerKeys(seg);
    this.heads = headTable(seg);
    this.host = new HostDriver(this);
  }

  get running(): ReadonlyMap<Unit, Running> {
    return this.npu.running;
  }
  get hostState() {
    return this.host.state();
  }
  get hostLayer(): LayerKey {
    return this.keys[Math.min(this.host.idx, this.keys.length - 1)] ?? "other";
  }
  get npuIdle(): boolean {
    return this.npu.idle();
  }
  get ctlUnitBlocked(): boolean {
    return this.npu.ctl.kind === "blocked";
  }

  /** Runs the segment to completion; returns its length in cycles. */
  run(): number {
    let zeroSteps = 0;
    let idleEvents = 0;
    const scratch = rateScratch(this.channels.length);
    for (;;) {
      this.settle();
      const streaming = this.npu.streaming;
      solveRates(this.channels, streaming, this.m.ddrBytesPerCycle, scratch);
      const t = Math.min(this.host.nextTimer(), this.npu.nextTimer());
      const dt = Math.min(t - this.now, nextThreshold(this.channels, streaming));
      if (dt === Number.POSITIVE_INFINITY) {
        if (this.host.done() && this.npu.idle()) return this.now;
        throw this.deadlock();
      }
      zeroSteps = dt <= 0 ? zeroSteps + 1 : 0;
      if (zeroSteps > 10_000) throw internal(`no progress at cycle ${this.now} (step ${this.host.idx})`);
      // Hard guard: events that neither move the host on, complete a command nor change the NPU
      // queue are bounded, so a modelling bug can never spin forever.
      if (this.progressMark()) {
        idleEvents = 0;
      } else if (++idleEvents > MAX_EVENTS_WITHOUT_PROGRESS) {
        throw this.deadlock(`${MAX_EVENTS_WITHOUT_PROGRESS} events without progress`);
      }
      this.rec.interval(Math.max(0, dt), this);
      this.advance(Math.max(0, dt), streaming);
    }
  }

  /** Moves every flow and stream by `dt` cycles, then completes what reached its end. */
  private advance(dt: number, streaming: readonly Running[]): void {
    const t1 = this.now + dt;
    for (const ch of this.channels) ch.advance(dt, this.now);
    for (const r of streaming) {
      const dx = r.rate * dt;
      r.x = Math.min(1, r.x + dx);
      r.stalled += dt * (1 - r.rate / r.maxRate);
      for (const p of r.parts)
        p.ch.taken = Math.min(
          p.from + r.x * p.total,
          p.ch.m.direction === "in" ? p.ch.delivered : p.ch.issued,
        );
    }
    this.now = t1;
    for (const ch of this.channels) {
      if (ch.m.direction === "out" && ch.delivered > ch.taken) ch.delivered = ch.taken;
      if (Math.abs(ch.level()) <= EPS) ch.taken = ch.delivered;
      ch.settle(t1, this.done);
      if (this.done.length > 0) {
        for (const c of this.done) this.commandDone(ch, c, t1);
        this.done.length = 0;
      }
    }
    let ended = false;
    for (const r of streaming) {
      let left = 0;
      for (const p of r.parts) left = Math.max(left, (1 - r.x) * p.total);
      if (r.x >= 1 || left <= EPS) {
        for (const p of r.parts) p.ch.taken = p.from + p.total;
        r.endStream(this.now);
        ended = true;
      }
    }
    if (ended) this.npu.streaming = streaming.filter((r) => r.streaming);
  }

  private commandDone(ch: ChannelState, c: Command, at: number): void {
    if (!this.rec.events) return;
    this.rec.event({
      track: ch.name,
      name: c.label,
      startCycle: Math.round(c.startedAt ?? at),
      durationCycles: Math.max(0, Math.round(at) - Math.round(c.startedAt ?? at)),
      kind: ch.m.direction === "in" ? "dma_read" : "dma_write",
      ...(typeof c.layerKey === "number" ? { layer: c.layerKey } : {}),
      args: { bytes: c.bytes, region_kind: c.kind, tag: c.tag },
    });
  }

  /** Processes every discrete change possible at `now`, until nothing changes. */
  private settle(): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const changed = this.finishUnits() || this.controller() || this.host.step();
      if (!changed) return;
    }
    throw internal(`endless settle at cycle ${this.now}`);
  }

  private finishUnits(): boolean {
    let changed = false;
    for (const r of this.npu.running.values()) {
      if (r.streaming || r.until > this.now) continue;
      const unit = r.work.unit;
      this.npu.running.delete(unit);
      const ctl = this.npu.ctl;
      if (ctl.kind === "sync" && ctl.unit === unit) this.npu.ctl = CTL_IDLE;
      changed = true;
      if (!this.rec.events) continue;
      this.rec.event({
        track: unit,
        name: r.work.what,
        startCycle: Math.round(r.start),
        durationCycles: Math.max(0, Math.round(this.now) - Math.round(r.start)),
        kind: "compute",
        ...(typeof r.layerKey === "number" ? { layer: r.layerKey } : {}),
        args: {
          label: r.q.step.origin.label,
          step: r.q.index,
          ...(r.stalled > 0.5 ? { stalled_cycles: Math.round(r.stalled) } : {}),
        },
      });
    }
    return changed;
  }

  private controller(): boolean {
    const npu = this.npu;
    const ctl = npu.ctl;
    if (ctl.kind === "idle") {
      const q = npu.fifo.shift();
      if (!q) return false;
      npu.ctl = { kind: "dispatch", q, until: this.now + this.m.control.dispatch };
      return true;
    }
    if (ctl.kind === "dispatch") {
      if (ctl.until > this.now) return false;
      const work = this.works.work(ctl.q.index, ctl.q.step.instr, ctl.q.fields, this.consts);
      npu.ctl = { kind: "blocked", q: ctl.q, work };
      return true;
    }
    if (ctl.kind === "blocked") {
      if (npu.running.has(ctl.work.unit)) return false;
      this.start(ctl.q, ctl.work);
      return true;
    }
    return false;
  }

  private start(q: Running["q"], work: Running["work"]): void {
    if (work.constWrite) {
      const c = work.constWrite;
      this.consts.write(c.bank, c.entry, c.values);
      this.rec.constWrites++;
    }
    const r = new Running(q, work, this.now, this.chans);
    if (work.unit === "gemv" || work.unit === "gemm") r.category = this.category(r);
    this.npu.running.set(work.unit, r);
    if (r.streaming) this.npu.streaming.push(r);
    this.npu.ctl = work.async ? CTL_IDLE : { kind: "sync", unit: work.unit };
    this.rec.count(work.unit);
    this.rec.macs += work.macs;
    this.rec.l2Read += work.l2Read;
    this.rec.l2Write += work.l2Write;
    this.rec.layer(q.layerKey).macs += work.macs;
  }

  private category(r: Running): Running["category"] {
    if (this.lmHead(r.q.index, r.q.step.origin)) return "lm_head";
    for (const p of r.parts) if (p.ch.kindAt(p.from) === "kv") return "kv";
    return "weights";
  }

  /** isLmHead of step i, memoised per segment (read at every GEMV/GEMM start of every run). */
  private lmHead(i: number, origin: Segment["steps"][number]["origin"]): boolean {
    const v = this.heads[i];
    if (v !== 0) return v === 1;
    const head = isLmHead(origin);
    this.heads[i] = head ? 1 : 2;
    return head;
  }

  /**
   * Whether the run made progress since the last event: the host step, the completed commands, the
   * NPU queue, controller state and units (held as numbers: this runs at every event).
   */
  private progressMark(): boolean {
    let done = 0;
    for (const ch of this.channels) done += ch.completed();
    const npu = this.npu;
    const m = this.mark;
    const ctl = CTL_CODE[npu.ctl.kind];
    if (
      m[0] === this.host.idx &&
      m[1] === done &&
      m[2] === npu.fifo.length &&
      m[3] === ctl &&
      m[4] === npu.running.size &&
      m[5] === npu.streaming.length
    )
      return false;
    m[0] = this.host.idx;
    m[1] = done;
    m[2] = npu.fifo.length;
    m[3] = ctl;
    m[4] = npu.running.size;
    m[5] = npu.streaming.length;
    return true;
  }

  private deadlock(why = "nothing can progress"): Error {
    const h = this.host;
    const step = this.seg.steps[h.idx];
    return invalidInput(
      "timing/deadlock",
      `segment ${this.seg.name}: ${why} at cycle ${Math.round(this.now)}: the host is ${h.state()} at step ${h.idx}` +
        `${step ? ` (${step.kind} ${step.origin.label})` : ""}, the NPU is ${this.npu.ctl.kind}` +
        ` with ${this.npu.fifo.length} queued instruction(s)`,
      {
        fix: "a wait or a full queue that only later steps could release: run the functional simulator (pccxc simulate --functional) for the fault",
      },
    );
  }
}
