/**
 * Interrupting a compile: the CLI runs in a child process (node + the tsx loader), gets SIGINT or
 * SIGTERM once a given stage has started, and must exit promptly with 130 / 143, leaving neither
 * the output directory nor its temporary sibling behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SIGNAL_EXIT } from "../../src/pipeline/interrupt.js";
import { REPO_ROOT, TINY_DIR, tempDir } from "./helpers.js";

interface Interrupted {
  readonly code: number | null;
  readonly stderr: string;
  /** Milliseconds from the signal to the exit. */
  readonly latencyMs: number;
  /** Whether the marker appeared (the signal was sent) before the process ended. */
  readonly signalled: boolean;
}

/** Spawns `pccxc compile <model> -o <out>` and sends `signal` when stderr shows `marker`. */
function compileAndInterrupt(
  out: string,
  marker: string,
  signal: "SIGINT" | "SIGTERM",
): Promise<Interrupted> {
  const args = ["--import", "tsx", "src/cli/run.ts", "compile", join(TINY_DIR, "llama"), "-o", out];
  const child: ChildProcess = spawn(process.execPath, [...args, "--validate", "on"], {
    cwd: REPO_ROOT,
    env: { ...process.env, HF_HUB_OFFLINE: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  let sentAt = 0;
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (sentAt === 0 && stderr.includes(marker)) {
      sentAt = performance.now();
      child.kill(signal);
    }
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) =>
      resolve({ code, stderr, latencyMs: performance.now() - sentAt, signalled: sentAt > 0 }),
    );
  });
}

describe("an interrupted compile", () => {
  it("SIGINT during codegen and SIGTERM during validation: exit 130 / 143, nothing left behind", async () => {
    const { dir, cleanup } = await tempDir("pccxc-interrupt-");
    try {
      const [int, term] = await Promise.all([
        // "context: …" is logged by the layout stage, just before codegen
        compileAndInterrupt(join(dir, "a"), "context:", "SIGINT"),
        compileAndInterrupt(join(dir, "b"), "validation prompt:", "SIGTERM"),
      ]);
      for (const [r, signal] of [
        [int, "SIGINT"],
        [term, "SIGTERM"],
      ] as const) {
        expect(r.signalled, r.stderr).toBe(true);
        expect(r.code, r.stderr).toBe(SIGNAL_EXIT[signal]);
        expect(r.stderr).toContain(`interrupted by ${signal}: the partial output was removed`);
        // prompt: a stage yields to the event loop between its long steps (~1 s; loose bound for a busy machine)
        expect(r.latencyMs).toBeLessThan(4000);
        console.info(`${signal}: exited ${r.latencyMs.toFixed(0)} ms after the signal`);
      }
      expect(SIGNAL_EXIT).toEqual({ SIGINT: 130, SIGTERM: 143 });
      // neither output directory nor a `.a.tmp-<pid>-…` sibling
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await cleanup();
    }
  }, 60_000);
});
