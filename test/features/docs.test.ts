import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILTIN_FEATURES, renderFeatureDoc } from "../../src/features/index.js";
import { ROOT } from "./helpers.js";

describe("docs/features.md", () => {
  const doc = readFileSync(join(ROOT, "docs/features.md"), "utf8");

  it("its generated sections (plugin table, measured error bounds) are current", () => {
    expect(renderFeatureDoc(doc), "docs/features.md is stale: run npx tsx src/features/regen-docs.ts").toBe(
      doc,
    );
  });

  it("documents every built-in plugin in the verdict-rule table", () => {
    const rules = doc.slice(
      doc.indexOf("### Verdict rules per target"),
      doc.indexOf("### Measured error bounds"),
    );
    for (const p of BUILTIN_FEATURES) expect(rules, p.id).toContain(`| ${p.id} |`);
  });
});
