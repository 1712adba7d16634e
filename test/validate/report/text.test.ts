import { describe, expect, it } from "vitest";
import { niceTicks } from "../../../src/validate/report/svg.js";
import {
  escapeXml,
  fmtCoord,
  formatQuantity,
  formatSi,
  trimNumber,
} from "../../../src/validate/report/text.js";

describe("text helpers", () => {
  it("escapes the five XML characters and replaces code points XML cannot carry", () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(escapeXml("a\u0000b\u001Fc\td\n\uD800e")).toBe("a\uFFFDb\uFFFDc\td\n\uFFFDe");
    expect(escapeXml("😀 ok")).toBe("😀 ok");
  });

  it("formats coordinates with at most two decimals and no negative zero", () => {
    expect([fmtCoord(1.005), fmtCoord(-0.001), fmtCoord(12), fmtCoord(12.3456)]).toEqual([
      "1",
      "0",
      "12",
      "12.35",
    ]);
  });

  it("formats SI quantities with three significant digits", () => {
    expect([
      formatSi(0),
      formatSi(0.5),
      formatSi(0.00125),
      formatSi(1),
      formatSi(1000),
      formatSi(51.2e9),
    ]).toEqual(["0", "0.5", "0.00125", "1", "1k", "51.2G"]);
    expect(formatSi(999_900)).toBe("1M");
    expect(formatSi(819.2e9)).toBe("819G");
    expect(formatQuantity(19.2e9, "B/s")).toBe("19.2 GB/s");
    expect(trimNumber(123.456)).toBe("123");
  });

  it("picks round linear ticks covering the maximum", () => {
    expect(niceTicks(40)).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(1050)).toEqual([0, 500, 1000, 1500]);
    expect(niceTicks(0.7)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});
