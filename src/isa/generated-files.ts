/**
 * The committed files derived from the instruction table, and how to regenerate or check them:
 * the C header src/isa/generated/pccx_isa.h, the field table inside docs/isa.md and the example
 * program examples/programs/smoke.memh (assembled from smoke.pccxasm). `npx tsx src/isa/regen.ts`
 * rewrites them; the tests regenerate and diff them.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.js";
import { assemble } from "./asm.js";
import { renderCHeader } from "./cheader.js";
import { FIELD_DOC_MARKER, renderFieldDoc, spliceGenerated } from "./fielddoc.js";
import { formatMemh, memhHeaderFor } from "./wordfile.js";

export interface GeneratedFile {
  /** Path relative to the repository root. */
  readonly path: string;
  /** The file's expected content, given the repository root (some read a source or the current file). */
  render(root: string): Promise<string>;
}

export const C_HEADER_PATH = "src/isa/generated/pccx_isa.h";
export const ISA_DOC_PATH = "docs/isa.md";
export const SMOKE_ASM_PATH = "examples/programs/smoke.pccxasm";
export const SMOKE_MEMH_PATH = "examples/programs/smoke.memh";

export const GENERATED_FILES: readonly GeneratedFile[] = [
  { path: C_HEADER_PATH, render: async () => renderCHeader() },
  {
    path: ISA_DOC_PATH,
    render: async (root) => {
      const doc = await readFile(join(root, ISA_DOC_PATH), "utf8");
      return spliceGenerated(doc, FIELD_DOC_MARKER, renderFieldDoc());
    },
  },
  {
    path: SMOKE_MEMH_PATH,
    render: async (root) => {
      const src = await readFile(join(root, SMOKE_ASM_PATH), "utf8");
      const p = assemble(src, { file: SMOKE_ASM_PATH });
      return formatMemh(p.words, { labels: p.labels, header: memhHeaderFor(SMOKE_ASM_PATH) });
    },
  },
];

export interface RegenResult {
  readonly path: string;
  /** True when the file on disk differed from (or lacked) the generated content. */
  readonly stale: boolean;
}

/** Regenerate every file (or, with `check`, only compare) under the repository `root`. */
export async function regenerate(root: string, opts: { check?: boolean } = {}): Promise<RegenResult[]> {
  const results: RegenResult[] = [];
  for (const f of GENERATED_FILES) {
    const want = await f.render(root);
    const have = await readFile(join(root, f.path), "utf8").catch(() => undefined);
    const stale = have !== want;
    if (stale && !opts.check) await writeFileAtomic(join(root, f.path), want);
    results.push({ path: f.path, stale });
  }
  return results;
}
