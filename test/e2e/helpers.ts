/**
 * Helpers of the end-to-end tests: the committed tiny models, whether a C compiler is installed
 * (co-simulation needs one), and re-exports of the pipeline test helpers.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { TINY_DIR } from "../pipeline/helpers.js";

export {
  REPO_ROOT,
  readTree,
  runCli,
  SHARED_CONFIGS,
  sharedAvailable,
  TINY_DIR,
  tempDir,
} from "../pipeline/helpers.js";

/** Families with a committed tiny model (a folder with config.json and model.safetensors). */
export const TINY_FAMILIES: readonly string[] = readdirSync(TINY_DIR)
  .filter(
    (d) => existsSync(join(TINY_DIR, d, "config.json")) && existsSync(join(TINY_DIR, d, "model.safetensors")),
  )
  .sort();

export function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
