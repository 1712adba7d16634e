import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  C_HEADER_BANNER,
  GENERATED_FILES,
  regenerate,
  renderFieldDoc,
  spliceGenerated,
  V002,
} from "../../src/isa/index.js";
import { REPO_ROOT } from "./helpers.js";

describe("committed generated files are up to date (run `npx tsx src/isa/regen.ts` if not)", () => {
  it.each(GENERATED_FILES.map((f) => [f.path, f] as const))("%s", async (path, f) => {
    const committed = await readFile(join(REPO_ROOT, path), "utf8");
    expect(committed).toBe(await f.render(REPO_ROOT));
  });

  it("regenerate --check reports nothing stale", async () => {
    const r = await regenerate(REPO_ROOT, { check: true });
    expect(r.filter((x) => x.stale)).toEqual([]);
  });

  it("the header and the docs say they are generated", async () => {
    const h = await readFile(join(REPO_ROOT, "src/isa/generated/pccx_isa.h"), "utf8");
    expect(h.split("\n")[0]).toContain(C_HEADER_BANNER);
    const doc = await readFile(join(REPO_ROOT, "docs/isa.md"), "utf8");
    expect(doc).toContain("<!-- BEGIN GENERATED: isa-fields -->");
    expect(doc).toContain("<!-- END GENERATED: isa-fields -->");
  });
});

describe("the docs field table", () => {
  it("lists every field of every opcode with its bit range and flag bits as sub-rows", () => {
    const doc = renderFieldDoc();
    for (const op of V002.opcodes) {
      for (const f of op.fields) {
        const bits = f.width === 1 ? `${f.lsb}` : `${f.lsb + f.width - 1}:${f.lsb}`;
        const name = f.kind === "reserved" ? "*reserved*" : `\`${f.name}\``;
        expect(doc).toContain(`| ${bits} | ${f.width} | ${name} | ${f.kind} |`);
        if (f.kind === "flags") {
          for (const b of f.bits.filter((x) => x.kind === "flag")) {
            expect(doc).toContain(`| ${f.lsb + b.lsb} | 1 | ↳ \`${f.name}.${b.name}\` | flag |`);
          }
        }
      }
    }
  });

  it("splices between the markers only", () => {
    const doc = "a\n<!-- BEGIN GENERATED: x -->\nold\n<!-- END GENERATED: x -->\nb\n";
    expect(spliceGenerated(doc, "x", "new\n")).toBe(
      "a\n<!-- BEGIN GENERATED: x -->\nnew\n<!-- END GENERATED: x -->\nb\n",
    );
    expect(() => spliceGenerated("no markers", "x", "")).toThrow(/markers/);
  });
});
