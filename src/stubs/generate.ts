/**
 * generateDriver: a Program and its Target → the files of `<out>/driver/` (docs/driver.md). Pure
 * and deterministic: the same program, target and options give byte-identical files.
 */
import type { Program } from "../codegen/program.js";
import { renderCHeader } from "../isa/index.js";
import type { Target } from "../target/index.js";
import { AtomicDir } from "../util/atomic.js";
import { HAL_BAREMETAL_C } from "./c/hal-baremetal.js";
import { HAL_SIM_C } from "./c/hal-sim.js";
import { HAL_UIO_C } from "./c/hal-uio.js";
import { HOST_OPS_BASE } from "./c/host-ops.js";
import { HOST_OPS_ELEMENTWISE } from "./c/host-ops-elementwise.js";
import { HOST_OPS_H } from "./c/host-ops-h.js";
import { HOST_OPS_KV } from "./c/host-ops-kv.js";
import { HOST_OPS_ROUTE } from "./c/host-ops-route.js";
import { HOST_OPS_TABLES } from "./c/host-ops-tables.js";
import { MAIN_C } from "./c/main.js";
import { MAKEFILE } from "./c/makefile.js";
import { PROGRAM_H } from "./c/program-h.js";
import { RUNTIME_C } from "./c/runtime.js";
import { renderStatusHeader } from "./c/status.js";
import { renderHalHeader } from "./hal-header.js";
import { renderHostFnsHeader } from "./host-fns.js";
import { renderModelHeader, renderModelTables } from "./model-files.js";
import { buildTables } from "./tables.js";
import type { DriverBundle, DriverOptions, HalKind } from "./types.js";

/** pccx_host_ops.c: its five parts in order. */
const HOST_OPS_C = HOST_OPS_BASE + HOST_OPS_ELEMENTWISE + HOST_OPS_KV + HOST_OPS_TABLES + HOST_OPS_ROUTE;

export const HAL_SOURCES: Readonly<Record<HalKind, string>> = {
  uio: HAL_UIO_C,
  baremetal: HAL_BAREMETAL_C,
  sim: HAL_SIM_C,
};

/** The ISA options of a target: its CVO extension codes by name (for pccx_isa.h and encoding). */
function cvoExtensions(t: Target): Record<string, number> {
  return Object.fromEntries(t.file.isa.cvo_functions.filter((c) => c.extension).map((c) => [c.name, c.code]));
}

export function generateDriver(p: Program, t: Target, opts: DriverOptions = {}): DriverBundle {
  const tables = buildTables(p, t, opts);
  const ext = cvoExtensions(t);
  const files = new Map<string, string>([
    ["Makefile", MAKEFILE],
    ["main.c", MAIN_C],
    ["pccx_hal.h", renderHalHeader(t)],
    ["pccx_hal_baremetal.c", HAL_SOURCES.baremetal],
    ["pccx_hal_sim.c", HAL_SOURCES.sim],
    ["pccx_hal_uio.c", HAL_SOURCES.uio],
    ["pccx_host_fns.h", renderHostFnsHeader(t)],
    ["pccx_host_ops.c", HOST_OPS_C],
    ["pccx_host_ops.h", HOST_OPS_H],
    ["pccx_isa.h", renderCHeader(Object.keys(ext).length ? { cvoExtensions: ext } : undefined)],
    ["pccx_model.c", renderModelTables(tables)],
    ["pccx_model.h", renderModelHeader(tables)],
    ["pccx_program.h", PROGRAM_H],
    ["pccx_runtime.c", RUNTIME_C],
    ["pccx_status.h", renderStatusHeader()],
  ]);
  return { files };
}

/** Writes a bundle into `dir` atomically (the directory is replaced as a whole). */
export async function writeDriver(bundle: DriverBundle, dir: string): Promise<void> {
  const d = await AtomicDir.create(dir);
  try {
    for (const [rel, text] of bundle.files) await d.write(rel, text);
    await d.commit();
  } catch (e) {
    await d.abort();
    throw e;
  }
}
