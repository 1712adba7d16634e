/**
 * The explicit list of CLI commands (no directory scan: the set is deterministic and reviewed).
 * Each module adds its subcommand(s) to the program.
 */
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { registerInspect } from "./inspect.js";
import { registerIsa } from "./isa.js";
import { registerSchema } from "./schema.js";
import { registerTargets } from "./targets.js";

export function registerCommands(program: Command, ctx: CliContext): void {
  registerIsa(program, ctx);
  registerTargets(program, ctx);
  registerSchema(program, ctx);
  registerInspect(program, ctx);
}
