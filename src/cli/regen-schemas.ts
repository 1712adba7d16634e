/**
 * Writes schemas/<name>.schema.json for every schema `pccxc schema` knows (the committed copies a
 * test compares with the code). Run: npx tsx src/cli/regen-schemas.ts
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { prettyJson } from "../util/json.js";
import { SCHEMAS } from "./commands/schema.js";

const dir = fileURLToPath(new URL("../../schemas/", import.meta.url));
for (const [name, s] of Object.entries(SCHEMAS)) {
  writeFileSync(`${dir}${name}.schema.json`, prettyJson(s.build()));
  process.stderr.write(`wrote schemas/${name}.schema.json\n`);
}
