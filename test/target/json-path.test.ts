import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatPath, type PathSeg, parsePath } from "../../src/target/json-path.js";
import { locatePath, parseJsonText } from "../../src/target/json-text.js";

const seg = fc.oneof(
  fc.nat({ max: 999 }),
  fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/),
  fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)),
);

describe("JSON paths", () => {
  it("format and parse round-trip (property)", () => {
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 6 }), (segs: PathSeg[]) => {
        const back = parsePath(formatPath(segs)).map((s) =>
          "key" in s ? s.key : "index" in s ? s.index : s.byName,
        );
        expect(back).toEqual(segs);
      }),
      { numRuns: 200 },
    );
  });

  it("accepts name selectors and a missing $.", () => {
    expect(parsePath("ports[hp2].width_bits")).toEqual([
      { key: "ports" },
      { byName: "hp2" },
      { key: "width_bits" },
    ]);
    expect(formatPath(["sources", "$.a"])).toBe('$.sources["$.a"]');
    expect(() => parsePath("a[1")).toThrow(/unclosed/);
  });

  it("locates each value of random JSON at the line where it is written (property)", () => {
    const json = fc.dictionary(
      fc.stringMatching(/^[a-z]{1,5}$/),
      fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }), fc.constant(null)),
      { minKeys: 1, maxKeys: 6 },
    );
    fc.assert(
      fc.property(json, (obj) => {
        const text = JSON.stringify({ root: obj }, null, 2);
        expect(parseJsonText(text, "x.json")).toEqual({ root: obj });
        const lines = text.split("\n");
        for (const k of Object.keys(obj)) {
          const pos = locatePath(text, ["root", k]);
          expect(lines[pos!.line - 1]).toContain(`"${k}":`);
        }
      }),
      { numRuns: 60 },
    );
  });
});
