/**
 * The NPU side of the timing machine: the command FIFO the host writes into (its depth
 * back-pressures the host's MMIO stores), the controller that takes instructions in order, spends
 * the dispatch latency and hands each to its unit, and the units (GEMV, GEMM, SFU, MEMCPY engine,
 * constant cache), each running one instruction at a time. A synchronous instruction holds the
 * controller until it completes; an async one (async=1 on a target that honours it) frees the
 * controller at once, and the next instruction for the same unit waits for the unit.
 */
import type { NpuStep } from "../../codegen/program.js";
import { PccxError } from "../../diag/index.js";
import type { LayerKey, RunningView } from "./accounting.js";
import type { ChannelState, Part } from "./channels.js";
import type { TimingModel, Unit } from "./resources.js";
import type { TimeCategory } from "./types.js";
import type { FieldMap, Work } from "./work.js";

/** An instruction in the command FIFO: its step and fields as relocated when the host wrote it. */
export interface Queued {
  readonly step: NpuStep;
  readonly index: number;
  readonly fields: FieldMap;
  readonly layerKey: LayerKey;
  readonly writtenAt: number;
}

/** An instruction executing on a unit. */
export class Running implements RunningView {
  streaming: boolean;
  /** Progress of the streaming phase, 0..1, and its rate (fraction per cycle). */
  x = 0;
  rate = 0;
  readonly maxRate: number;
  /** End of the fixed part or of the tail (valid when not streaming). */
  until: number;
  category: TimeCategory | undefined;
  readonly parts: readonly (Part & { readonly from: number })[];
  /** Equivalent cycles spent waiting for the stream. */
  stalled = 0;
  cells: RunningView["cells"];

  constructor(
    readonly q: Queued,
    readonly work: Work,
    readonly start: number,
    channels: ReadonlyMap<string, ChannelState>,
  ) {
    this.parts = work.parts.map((p) => {
      const ch = channels.get(p.channel);
      if (!ch) throw internal(`instruction streams from unknown channel ${p.channel}`);
      if (ch.part) throw internal(`channel ${p.channel} already feeds another instruction`);
      return { ch, total: p.bytes, from: ch.taken, run: this };
    });
    this.streaming = this.parts.length > 0;
    this.maxRate = this.streaming ? 1 / work.streamCycles : 0;
    this.until = this.streaming ? Number.POSITIVE_INFINITY : start + work.fixed + work.tail;
    for (const p of this.parts) p.ch.part = p;
  }

  get layerKey(): LayerKey {
    return this.q.layerKey;
  }

  get unit(): Unit {
    return this.work.unit;
  }

  /** Ends the streaming phase: releases the channels and starts the tail. */
  endStream(now: number): void {
    this.x = 1;
    this.rate = 0;
    this.streaming = false;
    for (const p of this.parts) p.ch.part = undefined;
    this.until = now + this.work.tail;
  }
}

export function internal(message: string): PccxError {
  return new PccxError("timing/internal", 70, `timing simulator: ${message}`, {
    fix: "this is a bug in pccxc's timing simulator; report it with the program",
  });
}

type CtlState =
  | { readonly kind: "idle" }
  | { readonly kind: "dispatch"; readonly q: Queued; readonly until: number }
  | { readonly kind: "blocked"; readonly q: Queued; readonly work: Work }
  | { readonly kind: "sync"; readonly unit: Unit };

/** The command FIFO, the controller and the units. */
export class Npu {
  readonly fifo: Queued[] = [];
  ctl: CtlState = { kind: "idle" };
  readonly running = new Map<Unit, Running>();
  /** The running instructions in their streaming phase. */
  streaming: Running[] = [];

  constructor(readonly m: TimingModel) {}

  fifoFull(): boolean {
    return this.fifo.length >= this.m.control.commandFifoDepth;
  }

  idle(): boolean {
    return this.fifo.length === 0 && this.ctl.kind === "idle" && this.running.size === 0;
  }

  /** Earliest fixed-time event of the NPU (dispatch end, fixed part or tail end). */
  nextTimer(): number {
    let t = this.ctl.kind === "dispatch" ? this.ctl.until : Number.POSITIVE_INFINITY;
    for (const r of this.running.values()) if (!r.streaming && r.until < t) t = r.until;
    return t;
  }
}
