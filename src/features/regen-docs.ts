/**
 * Regenerate the generated sections of docs/features.md (feature table, measured error bounds):
 * `npx tsx src/features/regen-docs.ts`; `--check` only reports a stale page and exits 1.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { renderFeatureDoc } from "./doc.js";

export function runRegenDocs(argv: readonly string[]): number {
  const path = fileURLToPath(new URL("../../docs/features.md", import.meta.url));
  const before = readFileSync(path, "utf8");
  const after = renderFeatureDoc(before);
  const stale = after !== before;
  if (stale && !argv.includes("--check")) writeFileSync(path, after);
  process.stderr.write(
    `docs/features.md: ${stale ? (argv.includes("--check") ? "STALE" : "rewritten") : "up to date"}\n`,
  );
  return stale && argv.includes("--check") ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = runRegenDocs(process.argv.slice(2));
}
