/**
 * The formula of every derived value, keyed by its path under `derived` (`*` stands for a port or
 * CVO function name). Shown as the provenance of derived values; a test checks that every value
 * deriveTarget produces has an entry here.
 */
export const DERIVED_FORMULAS: Readonly<Record<string, string>> = {
  "clocks.core_hz": "clocks.core_mhz x 10^6",
  "clocks.axi_hz": "clocks.axi_mhz x 10^6",
  "clocks.core_period_ns": "1000 / clocks.core_mhz",
  "clocks.axi_period_ns": "1000 / clocks.axi_mhz",
  "l2.elements_per_word": "l2.word_bytes / bytes of numeric.activation_l2 (bf16: 2)",
  "l2.address_space_words": "2^l2.address_bits",
  "l2.backed_end_word": "l2.backed_first_word + l2.backed_words (exclusive)",
  "l2.backed_bytes": "l2.backed_words x l2.word_bytes",
  "l2.usable_end_word.*": "min(l2.addressing.<class>.reach_words, backed_end_word) (exclusive)",
  "const_cache.banks": "count of const_cache.banks",
  "const_cache.entries": "banks x const_cache.entries_per_bank",
  "const_cache.values": "entries x const_cache.values_per_entry",
  "const_cache.value_max": "2^const_cache.value_bits - 1",
  "gemm.pes": "gemm.rows x gemm.cols",
  "gemm.macs_per_clk": "gemm.rows x gemm.cols x gemm.macs_per_pe_per_clk",
  "gemm.macs_per_s": "gemm.macs_per_clk x clocks.core_mhz x 10^6",
  "gemm.gmacs": "gemm.macs_per_s / 10^9",
  "gemm.max_k_per_instruction": "min(activation_cache.elements, activation_cache.k_accumulation_limit)",
  "gemv.macs_per_clk": "gemv.cores x gemv.macs_per_clk_per_core",
  "gemv.macs_per_s": "gemv.macs_per_clk x clocks.core_mhz x 10^6",
  "gemv.gmacs": "gemv.macs_per_s / 10^9",
  "gemv.max_rows_per_call": "gemv.cores x gemv.max_rows_per_lane",
  "gemv.max_k_per_instruction": "min(activation_cache.elements, activation_cache.k_accumulation_limit)",
  "*.feed.ports": "names of the ports whose feeds include the engine (a multiplexed port counts for each)",
  "*.feed.feed_bytes_per_s": "sum of ports.<p>.bytes_per_s over feed.ports",
  "*.feed.feed_gbps": "feed_bytes_per_s / 10^9",
  "*.feed.feed_gbps_ddr_capped": "min(feed_bytes_per_s, ddr.effective_bytes_per_s) / 10^9",
  "*.feed.demand_gbps":
    "macs_per_s x weight_bits / 8 / 10^9: weight bytes/s at full rate when each weight is used once (GEMV); a weight-stationary GEMM reuses a weight for M activation rows, so divide by M",
  "*.feed.feed_ratio":
    "feed_gbps_ddr_capped / demand_gbps (< 1: the engine waits for weights; GEMM: multiply by M)",
  "cvo.*.ns_per_element": "1000 / (isa.cvo_functions[].elements_per_clk x clocks.core_mhz)",
  "cvo.*.latency_ns": "isa.cvo_functions[].latency_clk x 1000 / clocks.core_mhz",
  "ports.*.bytes_per_beat": "ports[].width_bits / 8",
  "ports.*.bytes_per_s": "bytes_per_beat x ports[].clock_mhz x 10^6",
  "ports.*.gbps": "bytes_per_s / 10^9",
  "ports.*.bytes_per_core_clk": "bytes_per_beat x ports[].clock_mhz / clocks.core_mhz",
  "ports.*.int4_weights_per_core_clk": "bytes_per_core_clk x 8 / weight_bits",
  "ports.*.fifo_fill_ns": "ports[].fifo_bytes / bytes_per_s x 10^9",
  "ddr.peak_bytes_per_s": "ddr.peak_gbps x 10^9",
  "ddr.effective_gbps": "ddr.peak_gbps x ddr.efficiency",
  "ddr.effective_bytes_per_s": "ddr.peak_gbps x 10^9 x ddr.efficiency",
  "ddr.usable_bytes": "ddr.bytes - ddr.reserved_os_bytes",
  "datamover.max_command_bytes": "2^datamover.command.btt_bits - 1",
  "datamover.tags": "2^datamover.command.tag_bits",
  "host.elementwise_elements_per_s": "host.elementwise_elements_per_s x host.fallback_threads",
  "host.transcendental_elements_per_s": "host.transcendental_elements_per_s x host.fallback_threads",
  "host.sync_wait_ns":
    "poll: control.mmio_read_ns + control.poll_interval_ns / 2; interrupt: control.interrupt_ns",
  "host.l2_transfer_overhead_ns":
    "control.mmio_write_ns (MEMCPY) + control.datamover_issue_ns (ACP command) + host.sync_wait_ns",
  "host.l2_transfer_ns_per_byte":
    "10^9 / min(sum of bytes_per_s of the ports feeding l2, ddr.effective_bytes_per_s)",
  "numeric.weight_bits": "bits of numeric.weights.format (int4: 4)",
  "numeric.activation_bytes": "bytes of numeric.activation_l2 (bf16: 2)",
};

/** The formula for a derived path such as `ports.hp0.gbps` (segments after `derived.`). */
export function formulaFor(segs: readonly (string | number)[]): string | undefined {
  const exact = segs.filter((s) => typeof s === "string").join(".");
  if (DERIVED_FORMULAS[exact] !== undefined) return DERIVED_FORMULAS[exact];
  for (const [pattern, formula] of Object.entries(DERIVED_FORMULAS)) {
    const parts = pattern.split(".");
    const keys = segs.filter((s): s is string => typeof s === "string");
    if (parts.length === keys.length && parts.every((p, i) => p === "*" || p === keys[i])) return formula;
  }
  return undefined;
}
