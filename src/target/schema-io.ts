/**
 * Target schema, I/O part: the AXI ports that feed the engines, the DataMover channels and their
 * command/status formats, the NPU's MMIO page, and control-path latencies.
 */
import { z } from "zod";
import {
  bitIndex,
  flag,
  hexAddr,
  intIn,
  name,
  nonNegInt,
  posInt,
  posNum,
  withDefault,
} from "./schema-common.js";

export const PORT_KINDS = ["hp", "acp"] as const;
/** What a port's data goes into: an engine's weight stream, or L2 (host data through MEMCPY). */
export const PORT_SINKS = ["gemm", "gemv", "l2"] as const;

export const PortSchema = z
  .strictObject({
    name: name("Port name, e.g. hp0, acp"),
    kind: z.enum(PORT_KINDS).describe("AXI HP (high performance, non-coherent) or ACP (cache-coherent)"),
    width_bits: posInt("Data width in bits"),
    clock_mhz: posNum("Port clock, MHz"),
    fifo_bytes: posInt("FIFO between the port and its consumer, bytes"),
    feeds: z
      .array(z.enum(PORT_SINKS))
      .min(1, { error: "expected at least one consumer" })
      .describe("Which engine(s) consume the port's data (several: a multiplexed port)"),
    gemm_lane: z
      .enum(["upper", "lower"])
      .optional()
      .describe("For a port feeding the GEMM: which INT4 lane of the array it carries"),
  })
  .describe("One AXI port between DDR and the PL");

export const DataMoverChannelSchema = z.strictObject({
  name: name("Channel name used by dma steps, e.g. hp0, acp_fmap"),
  port: name("The port (ports[].name) the channel drives"),
  page: hexAddr("Physical address of the channel's 4 KiB register page"),
  direction: z.enum(["ddr_to_pl", "pl_to_ddr"]).describe("Data direction of the channel"),
});

export const DataMoverCommandSchema = z
  .strictObject({
    register_offset: hexAddr("Offset of the command register in the channel page"),
    word_bits: posInt("Bits of one command word"),
    btt_lsb: nonNegInt("Bit position of the byte count (bytes to transfer)"),
    btt_bits: intIn(1, 26, "Width of the byte count; one command moves at most 2^btt_bits - 1 bytes"),
    incr_bit: nonNegInt("Bit position of the burst type (1 = incrementing)"),
    eof_bit: nonNegInt("Bit position of end-of-frame"),
    address_lsb: nonNegInt("Bit position of the DDR start address"),
    address_bits: intIn(1, 52, "Width of the DDR start address"),
    tag_lsb: nonNegInt("Bit position of the command tag"),
    tag_bits: intIn(1, 8, "Width of the command tag (echoed in the status byte)"),
  })
  .describe("DataMover command word layout");

export const DataMoverStatusSchema = z
  .strictObject({
    register_offset: hexAddr("Offset of the status register in the channel page"),
    okay_bit: bitIndex(8, "Status byte: OKAY"),
    slverr_bit: bitIndex(8, "Status byte: SLVERR (slave error)"),
    decerr_bit: bitIndex(8, "Status byte: DECERR (decode error)"),
    interr_bit: bitIndex(8, "Status byte: INTERR (internal error, e.g. zero byte count)"),
    tag_lsb: bitIndex(8, "Status byte: lowest bit of the echoed tag"),
    tag_bits: intIn(1, 8, "Status byte: width of the echoed tag"),
  })
  .describe("DataMover status byte layout");

export const DataMoverSchema = z
  .strictObject({
    page_bytes: posInt("Bytes of one channel register page"),
    max_outstanding_commands: posInt("Commands a channel queues before the host must wait"),
    channels: z.array(DataMoverChannelSchema).min(1, { error: "expected at least one channel" }),
    command: DataMoverCommandSchema,
    status: DataMoverStatusSchema,
  })
  .describe("AXI DataMover channels that push DDR data into the ports");

export const MmioSchema = z
  .strictObject({
    npu_page: hexAddr("Physical address of the NPU's AXI-Lite register page"),
    page_bytes: posInt("Bytes of the NPU page"),
    instruction_offset: hexAddr("Offset the host writes one instruction word to"),
    instruction_store_bits: intIn(8, 128, "Width of the single store that writes one instruction"),
    status_offset: hexAddr("Offset of the status word"),
    status_bits: intIn(8, 64, "Width of the status word"),
    busy_bit: bitIndex(64, "Status bit: BUSY"),
    done_bit: bitIndex(64, "Status bit: DONE"),
    done_sticky: withDefault(
      flag("DONE stays set until the next instruction is written"),
      true,
      "pccx-v002.md §2 Status: DONE is sticky, cleared by the next instruction",
    ),
    command_fifo_depth: posInt("Instructions the command FIFO holds before back-pressuring the bus"),
  })
  .describe("The NPU's MMIO register page");

export const ControlSchema = z
  .strictObject({
    mmio_write_ns: posNum("Host cost of one 64-bit store to a PL register page (posted write)"),
    mmio_read_ns: posNum("Host cost of one read of a PL register (non-posted round trip)"),
    datamover_issue_ns: posNum("Host cost of issuing one DataMover command (its register writes)"),
    poll_interval_ns: posNum("Interval between status reads when the host waits by polling"),
    interrupt_ns: posNum("Latency from a PL interrupt to the waiting user-space driver"),
    sync: withDefault(
      z.enum(["poll", "interrupt"]).describe("How the driver waits for the NPU and DataMover"),
      "poll",
      "pccxc choice: polling beats a user-space interrupt (~10 us) for the short waits of decode",
    ),
    npu_dispatch_clk: nonNegInt("Core clocks from the command FIFO to an engine starting an instruction"),
    memset_clk: posInt("Core clocks one MEMSET (constant cache write) occupies the controller"),
    async_supported: withDefault(
      flag("Whether async=1 (fire and forget) is honoured by MEMCPY and CVO"),
      true,
      "pccx-v002.md §1 (async field of MEMCPY and CVO)",
    ),
  })
  .describe("Control-path latencies and behaviour");
