/**
 * The timing model of a target: every rate, latency and capacity the timing simulator uses, read
 * once from the Target (file + derived values) and converted to core clocks. The simulator logic
 * never states a hardware number; it asks this model. Units: cycles are core clocks (the clock of
 * GEMV, GEMM, SFU, L2 and the controller), bytes per cycle are bytes per core clock.
 */
import { unsupported } from "../../diag/index.js";
import type { Target } from "../../target/index.js";

/** A unit an instruction runs on, as the target's opcode table names it. */
export type Unit = "gemv" | "gemm" | "dma" | "const_cache" | "sfu";
export const UNITS: readonly Unit[] = ["gemv", "gemm", "sfu", "dma", "const_cache"];

export type Engine = "gemv" | "gemm";

/** One DataMover channel and the port behind it. */
export interface ChannelModel {
  readonly name: string;
  readonly port: string;
  /** ddr_to_pl: DDR → port FIFO → consumer; pl_to_ddr: producer → port FIFO → DDR. */
  readonly direction: "in" | "out";
  /** Port rate: width × port clock, in bytes per core clock. */
  readonly bytesPerCycle: number;
  readonly fifoBytes: number;
  /** What consumes the port's data: engines and/or "l2". */
  readonly feeds: readonly string[];
}

export interface CvoModel {
  readonly latency: number;
  readonly elementsPerCycle: number;
}

export interface TimingModel {
  readonly target: Target;
  readonly clockMhz: number;
  /** Core clocks per nanosecond. */
  readonly cyclesPerNs: number;
  readonly channels: ReadonlyMap<string, ChannelModel>;
  /** DDR→PL channels feeding each engine, in target port order (the row split order, docs/program.md §4.3). */
  readonly feeds: Readonly<Record<Engine, readonly string[]>>;
  /** The channel carrying host→L2 data (MEMCPY 1,0) and the one carrying L2→host data (0,1). */
  readonly l2In?: string;
  readonly l2Out?: string;
  /** DDR bandwidth shared by every active stream: peak × efficiency, bytes per core clock. */
  readonly ddrBytesPerCycle: number;
  readonly ddrPeakBytesPerCycle: number;
  readonly unitOf: ReadonlyMap<string, Unit>;
  readonly gemv: {
    readonly cores: number;
    readonly macsPerCycleCore: number;
    readonly latency: number;
  };
  readonly gemm: { readonly macsPerCycle: number; readonly fillLatency: number };
  readonly cvo: ReadonlyMap<string, CvoModel>;
  readonly cvoByCode: ReadonlyMap<number, string>;
  readonly control: {
    readonly mmioWrite: number;
    readonly mmioRead: number;
    readonly dmIssue: number;
    /** Mean delay from a condition becoming true to the polling/interrupted driver noticing it. */
    readonly syncWait: number;
    readonly dispatch: number;
    readonly memset: number;
    readonly asyncSupported: boolean;
    readonly commandFifoDepth: number;
    readonly maxOutstanding: number;
  };
  readonly host: {
    /** Elements per core clock of the fallback threads together. */
    readonly elementwisePerCycle: number;
    readonly transcendentalPerCycle: number;
    readonly callOverhead: number;
  };
  readonly l2: {
    readonly wordBytes: number;
    readonly elementsPerWord: number;
    readonly activationBytes: number;
    readonly npuWordsPerCycle: number;
    readonly l2ToL2WordsPerCycle: number;
  };
  readonly scaleDtype: "bf16" | "f16" | "f32";
  readonly constBanks: ReadonlyMap<number, string>;
  readonly constBankRead: ReadonlyMap<string, boolean>;
}

const cache = new WeakMap<Target, TimingModel>();

function channelsOf(t: Target): Map<string, ChannelModel> {
  const f = t.file;
  const out = new Map<string, ChannelModel>();
  for (const ch of f.datamover.channels) {
    const port = f.ports.find((p) => p.name === ch.port);
    const d = t.derived.ports[ch.port];
    if (!port || !d) continue;
    out.set(ch.name, {
      name: ch.name,
      port: ch.port,
      direction: ch.direction === "ddr_to_pl" ? "in" : "out",
      bytesPerCycle: d.bytes_per_core_clk,
      fifoBytes: port.fifo_bytes,
      feeds: port.feeds,
    });
  }
  return out;
}

/** The timing model of a target (memoised: a Target is frozen). */
export function timingModel(t: Target): TimingModel {
  const hit = cache.get(t);
  if (hit) return hit;
  const f = t.file;
  const d = t.derived;
  const hz = d.clocks.core_hz;
  const perNs = hz / 1e9;
  const channels = channelsOf(t);
  const feeding = (engine: string) =>
    f.ports
      .filter((p) => p.feeds.includes(engine as "gemv"))
      .flatMap((p) =>
        [...channels.values()].filter((c) => c.port === p.name && c.direction === "in").map((c) => c.name),
      );
  const l2Ch = (dir: "in" | "out") =>
    [...channels.values()].find((c) => c.feeds.includes("l2") && c.direction === dir)?.name;
  const unitOf = new Map<string, Unit>();
  for (const op of f.isa.opcodes) unitOf.set(op.mnemonic, op.unit);
  const cvo = new Map<string, CvoModel>();
  const cvoByCode = new Map<number, string>();
  for (const fn of f.isa.cvo_functions) {
    cvo.set(fn.name, { latency: fn.latency_clk, elementsPerCycle: fn.elements_per_clk });
    cvoByCode.set(fn.code, fn.name);
  }
  const feeds = { gemv: feeding("gemv"), gemm: feeding("gemm") };
  if (feeds.gemv.length === 0 && feeds.gemm.length === 0) {
    throw unsupported("timing/target", `target ${f.name} has no DataMover channel feeding an engine`);
  }
  const l2In = l2Ch("in");
  const l2Out = l2Ch("out");
  const model: TimingModel = {
    target: t,
    clockMhz: f.clocks.core_mhz,
    cyclesPerNs: perNs,
    channels,
    feeds,
    ...(l2In ? { l2In } : {}),
    ...(l2Out ? { l2Out } : {}),
    ddrBytesPerCycle: d.ddr.effective_bytes_per_s / hz,
    ddrPeakBytesPerCycle: d.ddr.peak_bytes_per_s / hz,
    unitOf,
    gemv: {
      cores: f.gemv.cores,
      macsPerCycleCore: f.gemv.macs_per_clk_per_core,
      latency: f.gemv.pipeline_latency_clk,
    },
    gemm: { macsPerCycle: d.gemm.macs_per_clk, fillLatency: f.gemm.fill_latency_clk },
    cvo,
    cvoByCode,
    control: {
      mmioWrite: f.control.mmio_write_ns * perNs,
      mmioRead: f.control.mmio_read_ns * perNs,
      dmIssue: f.control.datamover_issue_ns * perNs,
      syncWait: d.host.sync_wait_ns * perNs,
      dispatch: f.control.npu_dispatch_clk,
      memset: f.control.memset_clk,
      asyncSupported: f.control.async_supported,
      commandFifoDepth: f.mmio.command_fifo_depth,
      maxOutstanding: f.datamover.max_outstanding_commands,
    },
    host: {
      elementwisePerCycle: d.host.elementwise_elements_per_s / hz,
      transcendentalPerCycle: d.host.transcendental_elements_per_s / hz,
      callOverhead: f.host.call_overhead_ns * perNs,
    },
    l2: {
      wordBytes: f.l2.word_bytes,
      elementsPerWord: d.l2.elements_per_word,
      activationBytes: d.numeric.activation_bytes,
      npuWordsPerCycle: f.l2.npu_words_per_clk,
      l2ToL2WordsPerCycle: f.memcpy.l2_to_l2_words_per_clk,
    },
    scaleDtype: f.numeric.weights.scale_dtype,
    constBanks: new Map(f.const_cache.banks.map((b) => [b.code, b.name])),
    constBankRead: new Map(f.const_cache.banks.map((b) => [b.name, b.read])),
  };
  cache.set(t, model);
  return model;
}
