/**
 * src/stubs — the generated C driver.
 * Consumes: a Program (src/codegen) and its Target, optionally the weight image (for the manifest's
 * checksums). Produces: the files of `<out>/driver/` — pccx_model.h/.c (the program as C tables),
 * the model-independent runtime and host operations, the HAL contract pccx_hal.h with its Linux UIO,
 * Xilinx standalone and simulation implementations, pccx_isa.h, main.c and a Makefile.
 * See docs/driver.md.
 */

export { BSP_STUB_HEADERS } from "./c/hal-baremetal.js";
export { C_FLAGS, C_SOURCES } from "./c/makefile.js";
export { STATUS_CODES, type StatusCode } from "./c/status.js";
export { cComment, cString } from "./c-text.js";
export { generateDriver, HAL_SOURCES, writeDriver } from "./generate.js";
export { portEnum, portNames, renderHalHeader } from "./hal-header.js";
export { hostCallVars, kvFacts, renderHostFnsHeader, STRING_ENUMS } from "./host-fns.js";
export { renderModelHeader, renderModelTables } from "./model-files.js";
export { buildTables, type CTables } from "./tables.js";
export { type DriverBundle, type DriverOptions, HAL_KINDS, type HalKind, type KvGeometry } from "./types.js";
