/**
 * Runs the CLI in-process with captured stdout/stderr (no TTY, offline by default), from the
 * repository root unless told otherwise. The one in-process runner every test folder uses.
 */
import type { CliIo } from "../../src/cli/context.js";
import { main } from "../../src/cli/main.js";
import { REPO_ROOT } from "./paths.js";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  /** Pretend stderr is a terminal (progress bars are drawn); default false. */
  readonly stderrIsTTY?: boolean;
}

/** `pccxc <args>` with `env` added to HF_HUB_OFFLINE=1, relative paths resolved against `cwd`. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  cwd: string = REPO_ROOT,
  opts: CliRunOptions = {},
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
    stderrIsTTY: opts.stderrIsTTY ?? false,
  };
  const code = await main(args, io, { HF_HUB_OFFLINE: "1", ...env }, cwd);
  return { code, stdout, stderr };
}
