/**
 * Regenerates the committed files derived from the target schema:
 *   schemas/target.schema.json   (same bytes as `pccxc schema target`)
 *   docs/targets.md              (the section between the generated-reference markers)
 * Run `npx tsx src/target/regen.ts` after changing the schema; test/target/generated.test.ts
 * fails until the committed copies match.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../util/atomic.js";
import { prettyJson } from "../util/json.js";
import { renderFieldReference, spliceReference } from "./reference.js";
import { targetJsonSchema } from "./schema.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

await writeFileAtomic(`${root}schemas/target.schema.json`, prettyJson(targetJsonSchema()));
const docPath = `${root}docs/targets.md`;
await writeFileAtomic(docPath, spliceReference(await readFile(docPath, "utf8"), renderFieldReference()));
process.stdout.write("wrote schemas/target.schema.json and docs/targets.md\n");
