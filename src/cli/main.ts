/**
 * The pccxc command line. `main` parses arguments, runs one command and returns the exit code; it
 * never throws and never prints a stack trace for a user error (set PCCXC_DEBUG=1 to see one for
 * an internal error). The bin entry and `src/cli/run.ts` call it unconditionally.
 */
import { Command, CommanderError } from "commander";
import { ExitCode, formatDiagnostic, isPccxError } from "../diag/index.js";
import { VERSION } from "../version.js";
import { registerCommands } from "./commands/index.js";
import { type CliIo, makeContext, processIo } from "./context.js";

export async function main(
  argv: readonly string[],
  io: CliIo = processIo,
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): Promise<number> {
  const ctx = makeContext(io, env, cwd);
  const program = new Command("pccxc")
    .description("Auto-Porting Pipeline for the pccx NPU (Hugging Face transformer -> pccx v002)")
    .version(VERSION, "-V, --version")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  registerCommands(program, ctx);
  program.commands.forEach(applyOverrides);
  const wantsJson = argv.includes("--json");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return ExitCode.OK;
  } catch (e) {
    return reportFailure(e, io, env, wantsJson && !ctx.jsonWritten);
  }
}

function applyOverrides(cmd: Command): void {
  cmd.exitOverride();
  cmd.commands.forEach(applyOverrides);
}

function reportFailure(
  e: unknown,
  io: CliIo,
  env: Record<string, string | undefined>,
  json: boolean,
): number {
  if (e instanceof CommanderError) {
    // help and version exit through here with code 0
    if (e.exitCode === 0) return ExitCode.OK;
    return ExitCode.USAGE;
  }
  if (isPccxError(e)) {
    io.stderr(`${formatDiagnostic(e.toDiagnostic())}\n`);
    if (json)
      io.stdout(`${JSON.stringify({ error: { ...e.toDiagnostic(), exitCode: e.exitCode } }, null, 2)}\n`);
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr(
    `internal error (a bug in pccxc, please report it): ${err.message}\n` +
      (env.PCCXC_DEBUG ? `${err.stack}\n` : "  (set PCCXC_DEBUG=1 for the stack trace)\n"),
  );
  if (json)
    io.stdout(`${JSON.stringify({ error: { code: "internal", message: err.message, exitCode: 70 } })}\n`);
  return ExitCode.INTERNAL;
}
