/**
 * Interrupts during a compile: on SIGINT (Ctrl-C) or SIGTERM the temporary output directory is
 * removed synchronously and the process exits with 128 + the signal number (130 for SIGINT), so an
 * interrupted compile never leaves a half-written output behind. The handlers are installed before
 * the temporary directory exists; a signal that arrives while it is being created removes it by its
 * name (src/util/atomic.ts names it `.<name>.tmp-<pid>-<random>` beside the output).
 *
 * A signal handler runs only when the event loop gets control, so the pipeline yields to it
 * (`yieldToSignals`) before each stage and between the long parts of a stage; a synchronous loop
 * inside one library call (codegen, the simulators) still delays the exit until it returns.
 */
import { readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Logger } from "../diag/log.js";

export const SIGNAL_EXIT: Readonly<Record<"SIGINT" | "SIGTERM", number>> = { SIGINT: 130, SIGTERM: 143 };

/** This process's temporary siblings of `finalPath`. */
function tempSiblings(finalPath: string): string[] {
  const prefix = `.${basename(finalPath)}.tmp-${process.pid}-`;
  try {
    return readdirSync(dirname(finalPath))
      .filter((n) => n.startsWith(prefix))
      .map((n) => join(dirname(finalPath), n));
  } catch {
    return [];
  }
}

/** Installs the handlers for an output at `finalPath`; returns a function that removes them. */
export function cleanupOnSignal(finalPath: string, logger: Logger): () => void {
  const handler = (signal: NodeJS.Signals) => {
    for (const p of tempSiblings(finalPath)) rmSync(p, { recursive: true, force: true });
    logger.warn(`interrupted by ${signal}: the partial output was removed`);
    process.exit(SIGNAL_EXIT[signal as keyof typeof SIGNAL_EXIT] ?? 130);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/** Lets pending signal handlers (and other I/O callbacks) run: the pipeline calls it between steps. */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
