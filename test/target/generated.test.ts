import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { targetJsonSchema } from "../../src/target/index.js";
import {
  REFERENCE_BEGIN,
  REFERENCE_END,
  renderFieldReference,
  spliceReference,
} from "../../src/target/reference.js";
import { prettyJson } from "../../src/util/json.js";

const read = (rel: string) => readFileSync(new URL(`../../${rel}`, import.meta.url), "utf8");

describe("generated files are current (regenerate: npx tsx src/target/regen.ts)", () => {
  it("schemas/target.schema.json matches the zod schema (input mode)", () => {
    expect(read("schemas/target.schema.json")).toBe(prettyJson(targetJsonSchema()));
  });

  it("docs/targets.md's field reference matches the schema", () => {
    const doc = read("docs/targets.md");
    expect(doc).toContain(REFERENCE_BEGIN);
    expect(doc).toContain(REFERENCE_END);
    expect(spliceReference(doc, renderFieldReference())).toBe(doc);
  });

  it("the reference documents every field with its default's source", () => {
    const ref = renderFieldReference();
    expect(ref).toContain("| `ports[].width_bits` | integer > 0 | Data width in bits | required |");
    expect(ref).toContain("| `ddr.efficiency` | number in (0, 1] |");
    expect(ref).toMatch(/`isa\.cvo_functions\[\]\.elements_per_clk` .*`1` \(pccx-v002\.md §2 SFU/);
    expect(ref).toContain("| `gemv.gmacs` | gemv.macs_per_s / 10^9 |");
  });

  it("every schema default has a recorded source", () => {
    const missing: string[] = [];
    // a schema node, or (isProps) a `properties` map whose keys are field names
    const walk = (n: unknown, path: string, isProps = false) => {
      if (n === null || typeof n !== "object") return;
      const o = n as Record<string, unknown>;
      if (!isProps && "default" in o && typeof o["x-default-source"] !== "string") missing.push(path);
      for (const [k, v] of Object.entries(o)) walk(v, `${path}/${k}`, !isProps && k === "properties");
    };
    walk(targetJsonSchema(), "");
    expect(missing).toEqual([]);
  });
});
