/** Shared helpers of the target tests: built-in files as JSON, error capture, an in-process CLI. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { PccxError } from "../../src/diag/index.js";
import { builtinTargetsDir } from "../../src/target/index.js";
import { type CliRun, runCli as runCliIn } from "../helpers/cli.js";
import { thrown as catchPccx } from "../helpers/errors.js";

export const BUILTINS = ["kv260-v002", "kv260-v002-ext", "kv260-v002-rtl"] as const;

/** Target JSON that tests edit freely (any depth, any field). */
// biome-ignore lint/suspicious/noExplicitAny: tests reach into arbitrary JSON to break it on purpose
export type EditableJson = Record<string, any>;

/** A fresh, mutable copy of a built-in target file's JSON. */
export function builtinJson(name: string): EditableJson {
  return JSON.parse(readFileSync(join(builtinTargetsDir(), `${name}.json`), "utf8"));
}

export function builtinText(name: string): string {
  return readFileSync(join(builtinTargetsDir(), `${name}.json`), "utf8");
}

/** Run `fn`, expect a PccxError, return it. */
export { catchPccx };

export function expectPccx(fn: () => unknown, code: string, exitCode: number): PccxError {
  const e = catchPccx(fn);
  expect(e.code).toBe(code);
  expect(e.exitCode).toBe(exitCode);
  return e;
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(): { dir: string; write(name: string, text: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "pccxc-target-"));
  return {
    dir,
    write(name, text) {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type { CliRun };

/**
 * `pccxc <argv>` in-process (test/helpers/cli.ts: captured output, offline), relative paths resolved
 * against `cwd` (default: the repository root).
 */
export function runCli(argv: readonly string[], cwd?: string): Promise<CliRun> {
  return runCliIn(argv, {}, cwd);
}
