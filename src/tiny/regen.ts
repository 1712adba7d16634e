/**
 * Regenerate the committed tiny models (examples/tiny/<family>) exactly as the README's
 * `pccxc dev tiny` commands do: `npx tsx src/tiny/regen.ts`; `--check` writes to a temporary
 * directory and reports (exit 1) any example whose bytes differ.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { TINY_EXAMPLES } from "./examples.js";
import { generateTiny, TINY_FILES } from "./generate.js";

export async function runTinyRegen(argv: readonly string[]): Promise<number> {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const check = argv.includes("--check");
  const tmp = check ? mkdtempSync(join(tmpdir(), "pccxc-tiny-")) : "";
  let stale = 0;
  try {
    for (const e of TINY_EXAMPLES) {
      const dest = join(root, "examples/tiny", e.family);
      const out = check ? join(tmp, e.family) : dest;
      await generateTiny(join(root, e.source), out, { force: true });
      const same =
        !check || TINY_FILES.every((f) => readFileSync(join(out, f)).equals(readFileSync(join(dest, f))));
      if (!same) stale++;
      process.stderr.write(
        `examples/tiny/${e.family}: ${check ? (same ? "up to date" : "STALE") : "written"}\n`,
      );
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  return stale > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runTinyRegen(process.argv.slice(2));
}
