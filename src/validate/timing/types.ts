/**
 * What the timing simulator reports: per segment run (a load, a prefill chunk, one decode token)
 * its cycles, where the time went, busy time and stalls per engine, bytes per port and memory
 * level, the per-layer rows and the bandwidth roofline; for the whole simulation the prefill and
 * decode rates and the context sweep. Plain data (JSON-serialisable), cycles on the core clock.
 */
import type { SegmentKind } from "../../codegen/program.js";
import type { LayerRow, Timeline } from "../report/index.js";

/** Where a run's wall time went, by kind of work (the categories sum to the run's cycles). */
export const TIME_CATEGORIES = ["weights", "kv", "lm_head", "sfu", "host", "control"] as const;
export type TimeCategory = (typeof TIME_CATEGORIES)[number];

/** Busy time of one engine or resource. */
export interface EngineStats {
  /** Cycles the engine was busy (executing an instruction, a host step, a transfer). */
  readonly busy: number;
  /** Instructions, host steps or DMA commands it ran. */
  readonly count: number;
}

/** Cycles one engine spent unable to progress, and why. */
export interface StallRecord {
  readonly engine: string;
  /**
   * weights / kv: an engine waiting for its stream; fifo_full: the host's MMIO store back-pressured
   * by the full command FIFO, or a port throttled by its full FIFO; dma_queue: the host waiting for
   * room in a DataMover command queue; wait: blocked in (or idle because of) a wait step; host: the
   * NPU idle while the host computes; issue: the NPU idle while the host issues commands;
   * unit_busy: dispatch waiting for a unit still running an async instruction; ddr_share: a port
   * below its rate because other streams share the DDR.
   */
  readonly reason: string;
  readonly cycles: number;
}

/** Bytes and occupancy of one DataMover channel (and its port). */
export interface PortStats {
  readonly port: string;
  readonly direction: "in" | "out";
  readonly bytes: number;
  readonly commands: number;
  /** Cycles with a transfer in progress. */
  readonly busy: number;
  /** Bytes by DDR region kind (weights, kv, embedding, buffer, ...). */
  readonly byKind: Readonly<Record<string, number>>;
}

/** Bytes moved at each level of the memory hierarchy. */
export interface MemoryTraffic {
  readonly ddrRead: number;
  readonly ddrWrite: number;
  readonly l2Read: number;
  readonly l2Write: number;
  readonly constWrites: number;
  /** Bytes of DDR buffers host steps read and write (by their operands' visible elements). */
  readonly host: number;
}

/** One layer (or "embed" / "lm_head" / "other") of one run. */
export interface LayerTiming {
  readonly layer: number | string;
  readonly cycles: number;
  /** DDR bytes of the DMA commands the layer's steps issued. */
  readonly bytes: number;
  readonly macs: number;
  /** Binding resource per interval: weights, kv, compute, sfu, host, control (sums to cycles). */
  readonly breakdown: Readonly<Record<string, number>>;
  readonly split: Readonly<Record<TimeCategory, number>>;
  readonly engines: Readonly<Record<string, number>>;
}

/** The bandwidth roofline of a run: the time its bytes need at the ports' and DDR's rates. */
export interface RunRoofline {
  /** Bytes moved between DDR and the PL (all DataMover channels) — counted from the program. */
  readonly bytes: number;
  /** max(bytes / DDR effective rate, max over ports of port bytes / port rate), cycles. */
  readonly boundCycles: number;
  /** Which limit gives boundCycles: "ddr" or a port name. */
  readonly limit: string;
  /** boundCycles / cycles: 1 means the run moved its bytes as fast as the memory system allows. */
  readonly ratio: number;
  /** Achieved DDR bandwidth, bytes/s. */
  readonly bytesPerSecond: number;
}

export interface RunTiming {
  readonly segment: string;
  readonly kind: SegmentKind;
  /** Driver variables the run started with (pos, token, ...). */
  readonly variables: Readonly<Record<string, number>>;
  /** Tokens the run processes (decode 1, prefill the chunk, load 0). */
  readonly tokens: number;
  readonly cycles: number;
  readonly seconds: number;
  /** tokens / seconds (0 for a load run). */
  readonly tokensPerSecond: number;
  readonly split: Readonly<Record<TimeCategory, number>>;
  readonly engines: Readonly<Record<string, EngineStats>>;
  readonly stalls: readonly StallRecord[];
  readonly ports: Readonly<Record<string, PortStats>>;
  readonly memory: MemoryTraffic;
  readonly layers: readonly LayerTiming[];
  readonly roofline: RunRoofline;
  readonly counts: {
    readonly steps: number;
    readonly npu: number;
    readonly dma: number;
    readonly host: number;
    readonly waits: number;
    readonly macs: number;
  };
}

/** One point of a context-length sweep (decode at kv position context − 1). */
export interface ContextPoint {
  readonly context: number;
  readonly cycles: number;
  readonly tokensPerSecond: number;
  /** DDR bytes of the token, and those of them read from KV regions. */
  readonly bytes: number;
  readonly kvBytes: number;
  readonly rooflineRatio: number;
}

export interface PhaseSummary {
  readonly runs: number;
  readonly tokens: number;
  readonly cycles: number;
  readonly seconds: number;
  readonly tokensPerSecond: number;
}

export interface TimingResult {
  readonly model: string;
  readonly target: string;
  readonly clockMhz: number;
  readonly runs: readonly RunTiming[];
  readonly load?: PhaseSummary;
  readonly prefill?: PhaseSummary;
  readonly decode?: PhaseSummary;
  readonly sweep?: readonly ContextPoint[];
}

/** A run's full output: its figures, the layer rows the report writers take, and its timeline. */
export interface RunOutput {
  readonly timing: RunTiming;
  readonly layerRows: readonly LayerRow[];
  readonly timeline?: Timeline;
}
