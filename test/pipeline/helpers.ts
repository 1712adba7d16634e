/**
 * Test helpers for the pipeline: paths (repo, examples, the shared configs), temporary
 * directories removed after each test, the shared in-process CLI runner, and reading a whole
 * output directory into memory to compare bytes.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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

/** The shared in-process CLI runner (test/helpers/cli.ts): offline, from the repository root. */
export { type CliRun, runCli } from "../helpers/cli.js";

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
