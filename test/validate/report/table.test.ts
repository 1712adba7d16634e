import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  breakdownCategories,
  layerRooflinePoints,
  layerTable,
  layerTimeChart,
  markdownTable,
  type Table,
  toCsv,
} from "../../../src/validate/report/index.js";
import { escapeMarkdownCell, humanCellText } from "../../../src/validate/report/table.js";
import { CLOCK_MHZ, sampleLayers } from "./fixtures.js";

/** RFC 4180 parser for the round-trip test (CRLF records, quoted fields with doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (text[i] === '"' && text[i + 1] === '"') {
          field += '"';
          i++;
        } else if (text[i] === '"') {
          i++;
          break;
        } else field += text[i];
      }
    } else if (text[i] === ",") {
      row.push(field);
      field = "";
      i++;
    } else if (text.startsWith("\r\n", i)) {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += 2;
    } else {
      if (text[i] === "\r" || text[i] === "\n" || text[i] === '"')
        throw new Error(`bare ${JSON.stringify(text[i])} at ${i}`);
      field += text[i];
      i++;
    }
  }
  if (field !== "" || row.length) throw new Error("last record not terminated by CRLF");
  return rows;
}

const t: Table = {
  columns: [{ label: "name" }, { label: "cycles" }, { label: "note" }],
  rows: [
    ["q_proj", 1234567, "a|b"],
    ["_private_", 2.5, null],
    ["k,v", 0, 'say "hi"\nbye'],
  ],
};

describe("markdown table", () => {
  it("renders a padded GFM table, numbers right-aligned and grouped, cells escaped", () => {
    expect(markdownTable(t)).toBe(
      [
        "| name        |    cycles | note         |",
        "| ----------- | --------: | ------------ |",
        "| q_proj      | 1,234,567 | a\\|b         |",
        "| \\_private\\_ |       2.5 |              |",
        '| k,v         |         0 | say "hi" bye |',
        "",
      ].join("\n"),
    );
  });

  it("escapes what would start formatting or break the row", () => {
    expect(escapeMarkdownCell("a*b* `c` [d] <e> \\ snake_case _em_")).toBe(
      "a\\*b\\* \\`c\\` \\[d\\] \\<e> \\\\ snake_case \\_em\\_",
    );
    expect(humanCellText(-1234.5)).toBe("-1,234.5");
    expect(humanCellText(1e21)).toBe("1e+21");
    expect(humanCellText(null)).toBe("");
  });
});

describe("CSV (RFC 4180)", () => {
  it("quotes commas, quotes and line breaks, ends every record with CRLF", () => {
    expect(toCsv(t)).toBe(
      'name,cycles,note\r\nq_proj,1234567,a|b\r\n_private_,2.5,\r\n"k,v",0,"say ""hi""\nbye"\r\n',
    );
  });

  it("round-trips arbitrary text through an RFC 4180 parser (property)", () => {
    const cell = fc.string({
      unit: fc.constantFrom("a", "b", ",", '"', "\r", "\n", " ", "é", "x"),
      maxLength: 8,
    });
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 2 }), { maxLength: 6 }), (rows) => {
        const table: Table = { columns: [{ label: "a" }, { label: "b,c" }], rows };
        expect(parseCsv(toCsv(table))).toEqual([["a", "b,c"], ...rows]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("layer views", () => {
  it("orders breakdown categories known-first", () => {
    expect(breakdownCategories(sampleLayers())).toEqual([
      "weights",
      "kv",
      "compute",
      "sfu",
      "host",
      "control",
    ]);
    expect(
      breakdownCategories([
        { layer: 0, cycles: 1, bytes: 0, bound: "control", breakdown: { zeta: 1, stall: 1, alpha: 1 } },
      ]),
    ).toEqual(["stall", "alpha", "zeta"]);
  });

  it("builds the layers table with derived time and intensity", () => {
    const table = layerTable(sampleLayers(), CLOCK_MHZ);
    expect(table.columns.map((c) => c.label)).toEqual([
      "layer",
      "cycles",
      "time_us",
      "bytes",
      "macs",
      "mac_per_byte",
      "bound",
      "weights_cycles",
      "kv_cycles",
      "compute_cycles",
      "sfu_cycles",
      "host_cycles",
      "control_cycles",
    ]);
    expect(table.rows[0]).toEqual([
      0,
      160000,
      400,
      3000000,
      5800000,
      1.933,
      "weights",
      140000,
      8000,
      6000,
      4000,
      0,
      2000,
    ]);
    expect(table.rows[3]!.slice(0, 7)).toEqual(["sampling", 30000, 75, 0, null, null, "host"]);
    expect(toCsv(table).split("\r\n")[4]).toBe("sampling,30000,75,0,,,host,0,0,0,0,30000,0");
  });

  it("builds the time chart in µs and roofline points in MAC/byte and MAC/s", () => {
    const chart = layerTimeChart(sampleLayers(), CLOCK_MHZ, "t");
    expect(chart.bars[0]).toEqual({ label: "layer 0", values: [350, 20, 15, 10, 0, 5] });
    expect(chart.bars[2]!.label).toBe("lm_head");
    const pts = layerRooflinePoints(sampleLayers(), CLOCK_MHZ, "decode");
    expect(pts.map((p) => p.name)).toEqual(["L0", "L1", "lm_head"]);
    expect(pts[0]!.intensity).toBeCloseTo(5.8 / 3, 10);
    expect(pts[0]!.performance).toBeCloseTo(5.8e6 / 400e-6, 0); // 160,000 cycles at 400 MHz = 400 µs
    expect(pts[0]!.group).toBe("decode");
  });
});
