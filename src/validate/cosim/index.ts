/**
 * Co-simulation of the generated C driver against the functional simulator (docs/driver.md).
 * Consumes: a Program, its Target and weight image, a prompt. Produces: a CosimReport — the
 * driver's tokens against the simulator's (and the golden reference's when given), the driver's
 * and the simulator's event logs compared line by line, the log checked step by step against the
 * program, and the simulator's faults. The simulator side serves the simulation HAL's protocol.
 */
export { type ConformanceInput, type ConformanceResult, checkConformance } from "./conformance.js";
export { type DmCommand, decodeDmCommand, encodeDmCommand, okayStatus } from "./datamover.js";
export { BUFFER_BASE, CosimExecutor, type ExecutorOptions } from "./executor.js";
export {
  dmLine,
  encodeMessage,
  encodeResponse,
  HEADER_BYTES,
  type Message,
  MessageReader,
  npuLine,
  Op,
  PROTOCOL_VERSION,
  REQUESTS,
  RESPONSE_HEADER_BYTES,
} from "./protocol.js";
export {
  type CosimNumeric,
  type CosimOptions,
  type CosimPass,
  type CosimReport,
  runCosim,
  runDriverProcess,
} from "./run.js";
export { handle, type ServeResult, serve } from "./server.js";
export { compileDriver, findToolchain, hasTool, QEMU_SYSROOT, type Toolchain } from "./toolchain.js";
