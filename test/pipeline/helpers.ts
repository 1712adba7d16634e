/**
 * Test helpers for the pipeline: paths (repo, examples, the shared configs), temporary
 * directories removed after each test, an in-process CLI runner with a fake io, and reading a
 * whole output directory into memory to compare bytes.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const TINY_DIR = join(REPO_ROOT, "examples/tiny");
export const SHARED_CONFIGS = fileURLToPath(new URL("../../../shared/configs", import.meta.url));
export const sharedAvailable = existsSync(SHARED_CONFIGS);

/** A fresh directory under the OS temp dir; `cleanup()` removes it. */
export async function tempDir(
  prefix = "pccxc-pipeline-",
): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pccxc <argv>` in-process with a fake, non-TTY io. */
export async function runCli(argv: readonly string[], cwd: string = REPO_ROOT): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: (t: string) => {
      stdout += t;
    },
    stderr: (t: string) => {
      stderr += t;
    },
    stderrIsTTY: false,
  };
  const code = await main(argv, io, { HF_HUB_OFFLINE: "1" }, cwd);
  return { code, stdout, stderr };
}

/** Every file under `dir` (relative "/" paths) with its bytes. */
export async function readTree(dir: string, prefix = ""): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of await readTree(dir, rel)) out.set(k, v);
    else out.set(rel, await readFile(join(dir, rel)));
  }
  return out;
}
