/** Runs the CLI in-process with captured stdout/stderr (no TTY, offline by default). */
import type { CliIo } from "../../src/cli/context.js";
import { main } from "../../src/cli/main.js";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  cwd: string = process.cwd(),
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    stderrIsTTY: false,
  };
  const code = await main(args, io, { HF_HUB_OFFLINE: "1", ...env }, cwd);
  return { code, stdout, stderr };
}
