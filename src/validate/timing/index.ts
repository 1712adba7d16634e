/**
 * The timing simulator (docs/timing.md).
 *
 * Consumes: a Program (the command stream codegen produces), a Target (every rate, latency and
 * capacity: clocks, port widths/clocks/FIFOs, DDR peak × efficiency, GEMV/GEMM MAC rates and
 * latencies, SFU per-function latency and rate, MMIO and DataMover costs, host throughput, command
 * FIFO depth) and the segment runs to time (load, prefill chunks, decode tokens at a context).
 * Produces: per run its cycles and tok/s, the time split (weights, KV, LM head, SFU, host, control),
 * busy time and stalls per engine, bytes per port and memory level, per-layer rows, the bandwidth
 * roofline ratio and a Timeline for the trace writers; per simulation the prefill and decode rates
 * and a context-length sweep.
 */
export { type HostState, type LayerKey, Recorder } from "./accounting.js";
export { BYTE_EPS, type Command } from "./channels.js";
export { waterFill } from "./flow.js";
export { hostCost, hostElements } from "./host-cost.js";
export { isLmHead, layerKeys, TimingMachine } from "./machine.js";
export {
  type ChannelModel,
  type Engine,
  type TimingModel,
  timingModel,
  UNITS,
  type Unit,
} from "./resources.js";
export { boundOf, compareLayerKeys, layerRow } from "./result.js";
export { type BandwidthBound, bandwidthBound, runRoofline } from "./roofline.js";
export {
  contextSweep,
  DEFAULT_CONTEXT,
  DEFAULT_SWEEP,
  decodeRuns,
  defaultRuns,
  loadRuns,
  prefillChunk,
  prefillRuns,
  runTiming,
  type SegmentRunSpec,
  type TimingOptions,
  type TimingOutput,
  TimingSession,
} from "./run.js";
export {
  type ContextPoint,
  type EngineStats,
  type LayerTiming,
  type MemoryTraffic,
  type PhaseSummary,
  type PortStats,
  type RunOutput,
  type RunRoofline,
  type RunTiming,
  type StallRecord,
  TIME_CATEGORIES,
  type TimeCategory,
  type TimingResult,
} from "./types.js";
export { applyHostSets, patches, relocIndex, runVariables, Variables } from "./variables.js";
export { ConstCache, type Work, workOf } from "./work.js";
