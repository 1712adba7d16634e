import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SCHEMAS } from "../../src/cli/commands/schema.js";
import { prettyJson } from "../../src/util/json.js";
import { runCli } from "../helpers/cli.js";

describe("committed JSON Schemas", () => {
  for (const name of Object.keys(SCHEMAS)) {
    it(`schemas/${name}.schema.json matches the code (regenerate: npx tsx src/cli/regen-schemas.ts)`, async () => {
      const committed = readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), "utf8");
      expect(committed).toBe(prettyJson(SCHEMAS[name]!.build()));
      const r = await runCli(["schema", name]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(committed);
    });
  }

  it("lists the schemas and rejects an unknown name with exit 1", async () => {
    const list = await runCli(["schema", "--json"]);
    expect(JSON.parse(list.stdout).schemas).toEqual(Object.keys(SCHEMAS));
    const bad = await runCli(["schema", "nope"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown schema "nope"');
  });
});
