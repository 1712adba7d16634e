import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import {
  assemble,
  columnsOf,
  decode,
  decodeBulk,
  encode,
  encodeBulk,
  formatWord,
  instrAt,
  type LooseInstr,
  pairsToWords,
  wordsToPairs,
} from "../../src/isa/index.js";
import {
  fixtureVectors,
  loadVectors,
  REPO_ROOT,
  refEncode,
  SHARED_VECTORS,
  sharedAvailable,
  type Vector,
} from "./helpers.js";

function checkVectors(vectors: readonly Vector[]) {
  it("has the seven smoke-program vectors", () => {
    expect(vectors).toHaveLength(7);
  });

  it.each(vectors.map((v) => [v.word, v] as const))("encodes %s from its fields", (_w, v) => {
    const word = encode({ opcode: v.opcode, fields: v.fields } as LooseInstr);
    expect(formatWord(word)).toBe(v.word);
    // and the independent reference encoder agrees with the hardware
    expect(refEncode(v)).toBe(BigInt(v.word));
  });

  it.each(vectors.map((v) => [v.word, v] as const))("decodes %s to its fields", (_w, v) => {
    expect(decode(BigInt(v.word))).toEqual({ opcode: v.opcode, fields: v.fields });
  });

  it("round-trips all vectors through the bulk paths", () => {
    const words = BigUint64Array.from(vectors.map((v) => BigInt(v.word)));
    const cols = decodeBulk(wordsToPairs(words));
    expect(cols.invalid).toBe(0);
    expect(vectors.map((_, i) => instrAt(cols, i))).toEqual(
      vectors.map((v) => ({ opcode: v.opcode, fields: v.fields })),
    );
    const back = pairsToWords(encodeBulk(cols));
    expect(Array.from(back)).toEqual(Array.from(words));
    const fromInstrs = pairsToWords(encodeBulk(columnsOf(vectors as unknown as LooseInstr[])));
    expect(Array.from(fromInstrs)).toEqual(Array.from(words));
  });
}

describe("hardware vectors (committed fixture test/isa/fixtures/vectors.json)", () => {
  checkVectors(fixtureVectors);
});

if (!sharedAvailable)
  console.warn(`skipped: ../shared vectors (${SHARED_VECTORS} not found); the fixture copy still ran`);
describe.skipIf(!sharedAvailable)("hardware vectors (../shared/isa-vectors.json)", () => {
  const shared = sharedAvailable ? loadVectors(SHARED_VECTORS) : [];
  it("the committed fixture equals the shared file", () => {
    expect(fixtureVectors).toEqual(shared);
  });
  checkVectors(shared);
});

describe("the smoke example program", () => {
  it("assembles examples/programs/smoke.pccxasm to the seven vector words, with its labels", async () => {
    const src = await readFile(`${REPO_ROOT}/examples/programs/smoke.pccxasm`, "utf8");
    const p = assemble(src, { file: "smoke.pccxasm" });
    expect(Array.from(p.words, formatWord)).toEqual(fixtureVectors.map((v) => v.word));
    expect(p.labels).toEqual([
      { name: "shapes", index: 0 },
      { name: "load", index: 2 },
      { name: "compute", index: 3 },
      { name: "store", index: 6 },
      { name: "end", index: 7 },
    ]);
  });
});
