import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  PROGRAM_ARTIFACTS,
  readProgramBin,
  readProgramJson,
  renderProgramArtifacts,
  renderProgramListing,
  renderProgramMemh,
  renderTraceIndexJson,
  writeProgramArtifacts,
} from "../../../src/codegen/artifacts/index.js";
import { AtomicDir } from "../../../src/util/atomic.js";
import { sha256Hex } from "../../../src/util/hash.js";
import { FIXTURE } from "./fixture.js";
import { withTempDir } from "./helpers.js";

async function writeInto(root: string, name: string) {
  const dir = await AtomicDir.create(join(root, name));
  const written = await writeProgramArtifacts(FIXTURE, dir);
  await dir.commit();
  return written;
}

describe("writeProgramArtifacts", () => {
  it("writes every artifact through an AtomicDir and reports sizes and hashes", async () => {
    await withTempDir(async (root) => {
      const written = await writeInto(root, "out");
      expect(written.map((w) => w.name)).toEqual([...PROGRAM_ARTIFACTS]);
      expect((await readdir(join(root, "out"))).sort()).toEqual([...PROGRAM_ARTIFACTS].sort());
      for (const w of written) {
        const bytes = await readFile(join(root, "out", w.name));
        expect(bytes.length).toBe(w.bytes);
        expect(sha256Hex(bytes)).toBe(w.sha256);
      }
      const dir = join(root, "out");
      expect(readProgramJson(await readFile(join(dir, "program.json"), "utf8"))).toEqual(FIXTURE);
      expect(readProgramBin(await readFile(join(dir, "program.bin")))).toEqual(FIXTURE);
      expect(await readFile(join(dir, "program.memh"), "utf8")).toBe(renderProgramMemh(FIXTURE));
      expect(await readFile(join(dir, "program.lst"), "utf8")).toBe(renderProgramListing(FIXTURE));
      expect(await readFile(join(dir, "trace-index.json"), "utf8")).toBe(renderTraceIndexJson(FIXTURE));
    });
  });

  it("writes byte-identical files on repeat", async () => {
    await withTempDir(async (root) => {
      const a = await writeInto(root, "a");
      const b = await writeInto(root, "b");
      expect(b).toEqual(a);
      for (const name of PROGRAM_ARTIFACTS) {
        expect(await readFile(join(root, "b", name))).toEqual(await readFile(join(root, "a", name)));
      }
    });
  });

  it("renders the same content for an equal program built separately", () => {
    const a = renderProgramArtifacts(FIXTURE);
    const b = renderProgramArtifacts(structuredClone(FIXTURE));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k)).toEqual(v);
  });
});
