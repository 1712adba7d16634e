import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatBin,
  formatFromPath,
  formatMemh,
  parseBin,
  parseMemh,
  readWordFile,
  resolveFormat,
  writeWordFile,
} from "../../src/isa/index.js";
import { thrown } from "../helpers/errors.js";
import { arbAnyWord, fixtureVectors, RUNS } from "./helpers.js";

const W = fixtureVectors.map((v) => BigInt(v.word));

describe(".memh", () => {
  it("writes one 16-digit lower-case hex word per line, no 0x, with label comments", () => {
    const text = formatMemh(W.slice(0, 3), {
      labels: [
        { name: "a", index: 0 },
        { name: "z", index: 3 },
      ],
      header: ["h"],
    });
    expect(text).toBe(
      ["// h", "// a:", ...fixtureVectors.slice(0, 3).map((v) => v.word.slice(2)), "// z:", ""].join("\n"),
    );
    expect(formatMemh([])).toBe("");
  });

  it("reads what it writes, labels included (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(arbAnyWord, { maxLength: 30 }), (words) => {
        const labels = [
          { name: "first", index: 0 },
          { name: "last", index: words.length },
        ];
        const back = parseMemh(formatMemh(words, { labels }));
        expect(Array.from(back.words)).toEqual(words);
        expect(back.labels).toEqual(labels);
      }),
      RUNS,
    );
  });

  it("accepts // comments, blank lines, upper case and CRLF; records line numbers", () => {
    const text = "// program\r\n\r\n3030001000100090 // first\r\n  2800C80000000006\r\n";
    const f = parseMemh(text, "p.memh");
    expect(Array.from(f.words)).toEqual([W[0], W[2]]);
    expect(f.at(1)).toEqual({ file: "p.memh", line: 4 });
    expect(f.labels).toEqual([]);
  });

  it.each([
    ["@0010", 1, 1],
    ["3030001000100090\n0x3030001000100090", 2, 1],
    ["3030001000100090 3090004000400040", 1, 1],
    ["303000100010009", 1, 1],
    ["  /* c */ 3030001000100090", 1, 3],
    ["303000100010009g", 1, 1],
  ])("rejects %j at line %i column %i", (text, line, column) => {
    const e = thrown(() => parseMemh(text, "p.memh"));
    expect(e.code).toBe("isa/memh-syntax");
    expect(e.exitCode).toBe(2);
    expect(e.at).toEqual({ file: "p.memh", line, column });
    expect(e.message).toContain("is not a 64-bit word of 16 hex digits");
  });
});

describe(".bin", () => {
  it("is raw little-endian 64-bit words", () => {
    const bytes = formatBin([0x0102030405060708n]);
    expect(Array.from(bytes)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(Array.from(parseBin(formatBin(W)).words)).toEqual(W);
    expect(parseBin(new Uint8Array(0)).words.length).toBe(0);
  });

  it("rejects lengths that are not a multiple of 8, naming the offset", () => {
    for (const n of [1, 7, 9, 15]) {
      const e = thrown(() => parseBin(new Uint8Array(n), "p.bin"));
      expect(e.code).toBe("isa/bin-length");
      expect(e.message).toBe(`${n} bytes is not a whole number of 64-bit words`);
      expect(e.at).toEqual({ file: "p.bin", byteOffset: n - (n % 8) });
    }
  });

  it("locates words by byte offset", () => {
    expect(parseBin(formatBin(W), "p.bin").at(3)).toEqual({ file: "p.bin", byteOffset: 24 });
  });
});

describe("files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pccxc-isa-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes atomically and reads back both formats", async () => {
    await writeWordFile(join(dir, "p.memh"), W, "memh", { labels: [{ name: "x", index: 1 }] });
    await writeWordFile(join(dir, "p.bin"), W, "bin");
    expect((await readdir(dir)).sort()).toEqual(["p.bin", "p.memh"]); // no temporary files left
    const m = await readWordFile(join(dir, "p.memh"), "memh");
    expect(Array.from(m.words)).toEqual(W);
    expect(m.labels).toEqual([{ name: "x", index: 1 }]);
    expect(Array.from((await readWordFile(join(dir, "p.bin"), "bin")).words)).toEqual(W);
    expect((await readFile(join(dir, "p.bin"))).length).toBe(W.length * 8);
  });

  it("a missing file is an I/O error (exit 4)", async () => {
    await expect(readWordFile(join(dir, "missing.memh"), "memh")).rejects.toMatchObject({
      code: "isa/read-failed",
      exitCode: 4,
    });
  });

  it("picks the format from the extension unless given", async () => {
    expect(formatFromPath("a/b.MEMH")).toBe("memh");
    expect(formatFromPath("x.hex")).toBe("memh");
    expect(formatFromPath("x.bin")).toBe("bin");
    expect(formatFromPath("x.txt")).toBeUndefined();
    expect(resolveFormat("x.txt", "bin")).toBe("bin");
    expect(thrown(() => resolveFormat("x.txt", undefined))).toMatchObject({
      code: "isa/bad-format",
      exitCode: 1,
    });
    expect(thrown(() => resolveFormat("x.bin", "elf"))).toMatchObject({
      code: "isa/bad-format",
      exitCode: 1,
    });
    await writeFile(join(dir, "odd.bin"), new Uint8Array(12));
    await expect(readWordFile(join(dir, "odd.bin"), "bin")).rejects.toMatchObject({ code: "isa/bin-length" });
  });
});
