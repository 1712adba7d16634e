/** The example configs ship with the project (examples/configs), so this suite always runs. */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseConfigText, SUPPORTED_MODEL_TYPES } from "../../../src/parser/config/index.js";
import { SUPPORTED_FAMILIES } from "../../helpers/families.js";

const dir = fileURLToPath(new URL("../../../examples/configs", import.meta.url));
const names = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe("examples/configs", () => {
  it("has one real config per supported family", () => {
    const families = new Set(
      names.map(
        (n) => parseConfigText(readFileSync(`${dir}/${n}/config.json`, "utf8"), "config.json").text.family,
      ),
    );
    expect([...families].sort()).toEqual(SUPPORTED_FAMILIES);
    expect(SUPPORTED_MODEL_TYPES).toContain("gemma3_text");
  });

  for (const n of names) {
    it(`parses ${n} deterministically`, () => {
      const t = readFileSync(`${dir}/${n}/config.json`, "utf8");
      const a = parseConfigText(t, "config.json");
      expect(a.text.num_hidden_layers).toBeGreaterThan(0);
      expect(a.text.layer_types).toHaveLength(a.text.num_hidden_layers);
      expect(JSON.stringify(parseConfigText(t, "config.json"))).toBe(JSON.stringify(a));
    });
  }
});
