/**
 * Target schema, machine part: device, clocks, the L2 scratchpad and how each instruction class
 * addresses it, the constant cache, the compute engines (GEMM array, GEMV cores, SFU), the
 * activation cache and DDR.
 */
import { z } from "zod";
import { flag, fraction, intIn, nonNegInt, posInt, posNum, text, withDefault } from "./schema-common.js";

export const DeviceSchema = z
  .strictObject({
    board: text("Board, e.g. Xilinx Kria KV260"),
    part: text("FPGA part"),
    dsp48e2: posInt("DSP48E2 slices in the device"),
    bram36: posInt("36 Kb block RAMs in the device"),
    uram: posInt("UltraRAM blocks in the device"),
  })
  .describe("The FPGA device the NPU is built in");

export const ClocksSchema = z
  .strictObject({
    core_mhz: posNum("Core clock (GEMM, GEMV, SFU, L2, controller), MHz"),
    axi_mhz: posNum("AXI side clock (register pages, DataMover), MHz"),
  })
  .describe("Clock domains");

export const ADDRESS_UNITS = ["word", "element"] as const;

const addressing = (what: string) =>
  z
    .strictObject({
      unit: withDefault(
        z
          .enum(ADDRESS_UNITS)
          .describe("What one unit of the address field is: a 128-bit L2 word or a BF16 element index"),
        "word",
        "pccx-v002.md §7.1: every L2 address field is a 128-bit word address",
      ),
      reach_words: posInt(
        "Words from L2 word 0 that the address field can reach (before the backed-range check)",
      ),
      alignment_elements: withDefault(
        posInt("Required start alignment of a vector, in BF16 elements"),
        8,
        "pccx-v002.md §7.1: vectors start on word boundaries (8 BF16 per 128-bit word)",
      ),
    })
    .describe(`How ${what} addresses L2`);

export const L2Schema = z
  .strictObject({
    word_bytes: posInt("Bytes per L2 word (128-bit words: 16)"),
    address_bits: intIn(1, 30, "Bits of an L2 word address: the L2 address space is 2^address_bits words"),
    backed_first_word: nonNegInt("First word backed by URAM"),
    backed_words: posInt(
      "Words backed by URAM from backed_first_word; addresses outside are a compile error",
    ),
    npu_words_per_clk: posNum("Words per core clock the NPU port (port B) can read or write"),
    addressing: z
      .strictObject({
        gemv: addressing("GEMV (src_addr, dest_reg)"),
        gemm: addressing("GEMM (src_addr, dest_reg)"),
        memcpy: addressing("MEMCPY (src_addr, dest_addr)"),
        cvo: addressing("CVO (src_addr, dst_addr)"),
      })
      .describe("Address unit, reach and alignment per instruction class"),
    cvo_max_length_elements: posInt("Largest CVO length (element count) the SFU accepts"),
  })
  .describe("The software-managed L2 scratchpad");

export const ConstCacheBankSchema = z.strictObject({
  name: z.enum(["fmap_shape", "weight_shape"]).describe("Bank name"),
  code: intIn(0, 3, "MEMSET dest_cache value selecting this bank"),
  read: withDefault(
    flag("Whether the engines read this bank (false: MEMSET writes are ignored by today's RTL)"),
    true,
    "pccx-v002.md §1 MEMSET: both banks documented as read",
  ),
});

export const ConstCacheSchema = z
  .strictObject({
    banks: z.array(ConstCacheBankSchema).min(1, { error: "expected at least one bank" }).describe("Banks"),
    entries_per_bank: posInt("Entries per bank"),
    values_per_entry: posInt("Values per entry (a, b, c)"),
    value_bits: intIn(1, 32, "Width of one value in bits"),
  })
  .describe("Constant cache (shapes and loop bounds written by MEMSET)");

export const GemmSchema = z
  .strictObject({
    rows: posInt("Systolic array rows (PEs)"),
    cols: posInt("Systolic array columns (PEs)"),
    macs_per_pe_per_clk: posInt("INT4xINT8 MACs one PE (one DSP48E2) does per core clock"),
    fill_latency_clk: nonNegInt("Core clocks to fill the array before the first result"),
    weight_stationary: flag("Weights stay in the PEs while activations stream through"),
    max_output_elements_per_instruction: posInt(
      "If set, one instruction writes at most this many result elements (absent: M x N)",
    ).optional(),
  })
  .describe("The GEMM systolic array (prefill)");

export const GemvSchema = z
  .strictObject({
    cores: posInt("GEMV cores (parallel_lane = number of cores used, 0 = all)"),
    macs_per_clk_per_core: posInt("INT4xINT8 MACs per core per core clock"),
    max_rows_per_lane: posInt("Output rows one call covers per lane (core)"),
    reduction_stages: posInt("Adder-tree stages after the products"),
    pipeline_latency_clk: posInt("Core clocks from the first weight beat to the first result"),
  })
  .describe("The GEMV cores (decode)");

export const SfuSchema = z
  .strictObject({
    units: posInt("SFU units (CVO instructions run on them one at a time)"),
    result_fifo_elements: posInt("Result FIFO depth in elements"),
  })
  .describe("The special function unit that executes CVO");

export const ActivationCacheSchema = z
  .strictObject({
    elements: posInt("Activation elements one GEMV/GEMM instruction can hold (its K reach)"),
    k_accumulation_limit: posInt(
      "Largest K one GEMV/GEMM accumulates; larger K is split and merged with accm (§7.3)",
    ),
  })
  .describe("L1 / activation cache of the GEMV and GEMM engines");

export const DdrSchema = z
  .strictObject({
    type: text("Memory type, e.g. DDR4-2400"),
    bytes: posInt("Installed bytes"),
    bus_bits: posInt("Data bus width in bits"),
    peak_gbps: posNum("Peak bandwidth, GB/s (10^9 bytes/s)"),
    efficiency: fraction("Share of the peak the PL achieves in practice"),
    reserved_os_bytes: nonNegInt("Bytes kept for the OS and other drivers (not for weights or KV)"),
  })
  .describe("DDR shared by the PL and the ARM cores");
