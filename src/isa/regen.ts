/**
 * Regenerate the files derived from the instruction table (C header, docs/isa.md field table,
 * examples/programs/smoke.memh): `npx tsx src/isa/regen.ts`; `--check` only reports stale files
 * and exits 1 if any.
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { regenerate } from "./generated-files.js";

export async function runRegen(argv: readonly string[]): Promise<number> {
  const check = argv.includes("--check");
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const results = await regenerate(root, { check });
  for (const r of results) {
    const state = r.stale ? (check ? "STALE" : "rewritten") : "up to date";
    process.stderr.write(`${r.path}: ${state}\n`);
  }
  return check && results.some((r) => r.stale) ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runRegen(process.argv.slice(2));
}
