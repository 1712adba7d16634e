/**
 * Derived values: computed once from a validated target file, so that no later stage repeats an
 * arithmetic on hardware facts (bytes per cycle, GB/s, MAC/s, capacities, clock periods). Every
 * derived value has its formula in DERIVED_FORMULAS, shown by `pccxc targets show --explain`.
 * Units: GB/s and GMAC/s are decimal (10^9); byte sizes are exact.
 */
import type { Port, TargetFile } from "./schema.js";

export interface PortDerived {
  readonly bytes_per_beat: number;
  readonly bytes_per_s: number;
  readonly gbps: number;
  readonly bytes_per_core_clk: number;
  readonly int4_weights_per_core_clk: number;
  readonly fifo_fill_ns: number;
}

export interface EngineFeed {
  readonly ports: readonly string[];
  readonly feed_bytes_per_s: number;
  readonly feed_gbps: number;
  readonly feed_gbps_ddr_capped: number;
  /** Weight bytes/s the engine consumes when every MAC is busy. */
  readonly demand_gbps: number;
  /** feed_gbps_ddr_capped / demand_gbps: below 1 the engine waits for weights. */
  readonly feed_ratio: number;
}

export interface DerivedTarget {
  readonly clocks: { core_hz: number; axi_hz: number; core_period_ns: number; axi_period_ns: number };
  readonly l2: {
    elements_per_word: number;
    address_space_words: number;
    backed_end_word: number;
    backed_bytes: number;
    /** Exclusive end word each instruction class can use: min(reach, backed end). */
    usable_end_word: Readonly<Record<"gemv" | "gemm" | "memcpy" | "cvo", number>>;
  };
  readonly const_cache: { banks: number; entries: number; values: number; value_max: number };
  readonly gemm: {
    pes: number;
    macs_per_clk: number;
    macs_per_s: number;
    gmacs: number;
    max_k_per_instruction: number;
    feed: EngineFeed;
  };
  readonly gemv: {
    macs_per_clk: number;
    macs_per_s: number;
    gmacs: number;
    max_rows_per_call: number;
    max_k_per_instruction: number;
    feed: EngineFeed;
  };
  readonly cvo: Readonly<Record<string, { ns_per_element: number; latency_ns: number }>>;
  readonly ports: Readonly<Record<string, PortDerived>>;
  readonly ddr: {
    peak_bytes_per_s: number;
    effective_gbps: number;
    effective_bytes_per_s: number;
    usable_bytes: number;
  };
  readonly datamover: { max_command_bytes: number; tags: number };
  readonly host: {
    elementwise_elements_per_s: number;
    transcendental_elements_per_s: number;
    sync_wait_ns: number;
    l2_transfer_overhead_ns: number;
    l2_transfer_ns_per_byte: number;
  };
  readonly numeric: { weight_bits: number; activation_bytes: number };
}

/** 12 significant digits: 19.2 * 0.8 is 15.36, not 15.360000000000001. Deterministic either way. */
export const tidy = (x: number): number => Number(x.toPrecision(12));

const WEIGHT_BITS = { int4: 4 } as const;
const ACTIVATION_BYTES = { bf16: 2 } as const;

function portDerived(p: Port, coreMhz: number, weightBits: number): PortDerived {
  const bytesPerBeat = p.width_bits / 8;
  const bytesPerS = bytesPerBeat * p.clock_mhz * 1e6;
  const perCore = (bytesPerBeat * p.clock_mhz) / coreMhz;
  return {
    bytes_per_beat: bytesPerBeat,
    bytes_per_s: tidy(bytesPerS),
    gbps: tidy(bytesPerS / 1e9),
    bytes_per_core_clk: tidy(perCore),
    int4_weights_per_core_clk: tidy((perCore * 8) / weightBits),
    fifo_fill_ns: tidy((p.fifo_bytes / bytesPerS) * 1e9),
  };
}

function engineFeed(
  f: TargetFile,
  engine: "gemm" | "gemv",
  ports: Record<string, PortDerived>,
  macsPerS: number,
  ddrBytesPerS: number,
  weightBits: number,
): EngineFeed {
  const names = f.ports.filter((p) => p.feeds.includes(engine)).map((p) => p.name);
  const bytesPerS = names.reduce((s, n) => s + (ports[n]?.bytes_per_s ?? 0), 0);
  const capped = Math.min(bytesPerS, ddrBytesPerS);
  const demand = (macsPerS * weightBits) / 8;
  return {
    ports: names,
    feed_bytes_per_s: tidy(bytesPerS),
    feed_gbps: tidy(bytesPerS / 1e9),
    feed_gbps_ddr_capped: tidy(capped / 1e9),
    demand_gbps: tidy(demand / 1e9),
    feed_ratio: tidy(capped / demand),
  };
}

/** The only place derivations live. Pure: same file, same values. */
export function deriveTarget(f: TargetFile): DerivedTarget {
  const coreHz = f.clocks.core_mhz * 1e6;
  const weightBits = WEIGHT_BITS[f.numeric.weights.format];
  const actBytes = ACTIVATION_BYTES[f.numeric.activation_l2];
  const ports: Record<string, PortDerived> = {};
  for (const p of f.ports) ports[p.name] = portDerived(p, f.clocks.core_mhz, weightBits);

  const ddrPeak = f.ddr.peak_gbps * 1e9;
  const ddrEff = tidy(ddrPeak * f.ddr.efficiency);
  const backedEnd = f.l2.backed_first_word + f.l2.backed_words;
  const usable = (reach: number) => Math.min(reach, backedEnd);
  const a = f.l2.addressing;
  const maxK = Math.min(f.activation_cache.elements, f.activation_cache.k_accumulation_limit);

  const gemmMacsClk = f.gemm.rows * f.gemm.cols * f.gemm.macs_per_pe_per_clk;
  const gemvMacsClk = f.gemv.cores * f.gemv.macs_per_clk_per_core;
  const cvo: Record<string, { ns_per_element: number; latency_ns: number }> = {};
  for (const fn of f.isa.cvo_functions) {
    cvo[fn.name] = {
      ns_per_element: tidy(1e9 / (fn.elements_per_clk * coreHz)),
      latency_ns: tidy((fn.latency_clk * 1e9) / coreHz),
    };
  }

  const l2Ports = f.ports.filter((p) => p.feeds.includes("l2"));
  const l2BytesPerS = Math.min(
    l2Ports.reduce((s, p) => s + (ports[p.name]?.bytes_per_s ?? 0), 0),
    ddrEff,
  );
  const c = f.control;
  const syncWait = c.sync === "poll" ? c.mmio_read_ns + c.poll_interval_ns / 2 : c.interrupt_ns;
  const threads = f.host.fallback_threads;

  return {
    clocks: {
      core_hz: tidy(coreHz),
      axi_hz: tidy(f.clocks.axi_mhz * 1e6),
      core_period_ns: tidy(1e3 / f.clocks.core_mhz),
      axi_period_ns: tidy(1e3 / f.clocks.axi_mhz),
    },
    l2: {
      elements_per_word: f.l2.word_bytes / actBytes,
      address_space_words: 2 ** f.l2.address_bits,
      backed_end_word: backedEnd,
      backed_bytes: f.l2.backed_words * f.l2.word_bytes,
      usable_end_word: {
        gemv: usable(a.gemv.reach_words),
        gemm: usable(a.gemm.reach_words),
        memcpy: usable(a.memcpy.reach_words),
        cvo: usable(a.cvo.reach_words),
      },
    },
    const_cache: {
      banks: f.const_cache.banks.length,
      entries: f.const_cache.banks.length * f.const_cache.entries_per_bank,
      values: f.const_cache.banks.length * f.const_cache.entries_per_bank * f.const_cache.values_per_entry,
      value_max: 2 ** f.const_cache.value_bits - 1,
    },
    gemm: {
      pes: f.gemm.rows * f.gemm.cols,
      macs_per_clk: gemmMacsClk,
      macs_per_s: tidy(gemmMacsClk * coreHz),
      gmacs: tidy((gemmMacsClk * coreHz) / 1e9),
      max_k_per_instruction: maxK,
      feed: engineFeed(f, "gemm", ports, gemmMacsClk * coreHz, ddrEff, weightBits),
    },
    gemv: {
      macs_per_clk: gemvMacsClk,
      macs_per_s: tidy(gemvMacsClk * coreHz),
      gmacs: tidy((gemvMacsClk * coreHz) / 1e9),
      max_rows_per_call: f.gemv.cores * f.gemv.max_rows_per_lane,
      max_k_per_instruction: maxK,
      feed: engineFeed(f, "gemv", ports, gemvMacsClk * coreHz, ddrEff, weightBits),
    },
    cvo,
    ports,
    ddr: {
      peak_bytes_per_s: tidy(ddrPeak),
      effective_gbps: tidy(ddrEff / 1e9),
      effective_bytes_per_s: ddrEff,
      usable_bytes: f.ddr.bytes - f.ddr.reserved_os_bytes,
    },
    datamover: {
      max_command_bytes: 2 ** f.datamover.command.btt_bits - 1,
      tags: 2 ** f.datamover.command.tag_bits,
    },
    host: {
      elementwise_elements_per_s: tidy(f.host.elementwise_elements_per_s * threads),
      transcendental_elements_per_s: tidy(f.host.transcendental_elements_per_s * threads),
      sync_wait_ns: tidy(syncWait),
      l2_transfer_overhead_ns: tidy(c.mmio_write_ns + c.datamover_issue_ns + syncWait),
      l2_transfer_ns_per_byte: l2BytesPerS > 0 ? tidy(1e9 / l2BytesPerS) : 0,
    },
    numeric: { weight_bits: weightBits, activation_bytes: actBytes },
  };
}
