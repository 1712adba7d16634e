/**
 * The explicit list of CLI commands (no directory scan: the set is deterministic and reviewed).
 * Each module adds its subcommand(s) to the program.
 */
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { registerBatch } from "./batch.js";
import { registerCompile } from "./compile.js";
import { registerCosim } from "./cosim.js";
import { registerDev } from "./dev.js";
import { registerExport } from "./export.js";
import { registerInspect } from "./inspect.js";
import { registerIsa } from "./isa.js";
import { registerPlan } from "./plan.js";
import { registerSchema } from "./schema.js";
import { registerSimulate } from "./simulate.js";
import { registerTargets } from "./targets.js";

export function registerCommands(program: Command, ctx: CliContext): void {
  registerCompile(program, ctx);
  registerPlan(program, ctx);
  registerBatch(program, ctx);
  registerIsa(program, ctx);
  registerTargets(program, ctx);
  registerSchema(program, ctx);
  registerInspect(program, ctx);
  registerSimulate(program, ctx);
  registerExport(program, ctx);
  registerDev(program, ctx);
  registerCosim(program, ctx);
}
