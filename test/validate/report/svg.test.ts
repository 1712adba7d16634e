import { describe, expect, it } from "vitest";
import { PccxError } from "../../../src/diag/index.js";
import {
  layerTimeChart,
  type RooflineChart,
  renderRooflineSvg,
  renderStackedBarsSvg,
  type StackedBarChart,
} from "../../../src/validate/report/index.js";
import { CLOCK_MHZ, sampleLayers, sampleRoofline } from "./fixtures.js";
import { parseXml, type XmlElement } from "./xml.js";

const SVG_TAGS = new Set(["svg", "title", "rect", "text", "line", "circle", "g"]);

function checkSelfContained(svg: string): ReturnType<typeof parseXml> {
  const doc = parseXml(svg);
  expect(doc.elements[0]!.name).toBe("svg");
  for (const e of doc.elements) expect(SVG_TAGS.has(e.name), e.name).toBe(true);
  // The namespace is the only URL; nothing is fetched (no href, no url(), no @import, no script).
  expect(svg.match(/https?:\/\//g)).toEqual(["http://"]);
  expect(svg).not.toMatch(/href|url\(|@import|<script/i);
  return doc;
}

const lines = (els: readonly XmlElement[], stroke: string) =>
  els.filter((e) => e.name === "line" && e.attrs["stroke"] === stroke && e.attrs["stroke-width"] === "2.5");

describe("roofline SVG", () => {
  it("is well-formed, self-contained and labelled", () => {
    const svg = renderRooflineSvg(sampleRoofline());
    const doc = checkSelfContained(svg);
    const texts = doc.texts;
    expect(texts).toContain("Roofline: decode on pccx v002");
    expect(texts).toContain("Arithmetic intensity (MAC/byte)");
    expect(texts).toContain("Performance (MAC/s)");
    expect(texts).toContain("HP2+HP3 (GEMV): 8 GB/s");
    expect(texts).toContain("GEMV: 51.2 GMAC/s");
    expect(texts).toContain("decode");
    // Decade tick labels on both axes.
    for (const tick of ["1", "10", "100", "1G", "10G", "100G", "1T"]) expect(texts).toContain(tick);
    // Coincident points share one label.
    expect(texts).toContain("L0, L1, lm_head");
    expect(doc.elements.filter((e) => e.name === "circle" && e.attrs["r"] === "4.5").length).toBe(3);
  });

  it("draws each bandwidth roof up to its ridge with the top compute roof", () => {
    const chart: RooflineChart = {
      title: "t",
      bandwidthRoofs: [{ name: "bw", bytesPerSecond: 1e9 }],
      computeRoofs: [{ name: "peak", macPerSecond: 1e11 }],
      points: [],
    };
    const doc = parseXml(renderRooflineSvg(chart));
    const [diag] = lines(doc.elements, "#0072B2");
    const [flat] = lines(doc.elements, "#E69F00");
    expect(diag && flat).toBeTruthy();
    // The ridge is at 100 MAC/byte: the diagonal ends where the horizontal roof starts.
    expect([diag!.attrs["x2"], diag!.attrs["y2"]]).toEqual([flat!.attrs["x1"], flat!.attrs["y1"]]);
    expect(flat!.attrs["stroke-dasharray"]).toBe("7 4");
    // Slope 1 in log-log: one decade right is one decade up, so dx/dy matches the axes' decade sizes.
    const dx = Number(diag!.attrs["x2"]) - Number(diag!.attrs["x1"]);
    const dy = Number(diag!.attrs["y1"]) - Number(diag!.attrs["y2"]);
    expect(dx).toBeGreaterThan(0);
    expect(dy).toBeGreaterThan(0);
  });

  it("escapes text and lists points it cannot plot on log axes", () => {
    const svg = renderRooflineSvg({
      ...sampleRoofline(),
      title: 'a <b> & "c"',
      points: [
        { name: "ok<1>", intensity: 2, performance: 1e10 },
        { name: "idle & zero", intensity: 0, performance: 0 },
      ],
    });
    const doc = checkSelfContained(svg);
    expect(svg).toContain("a &lt;b&gt; &amp; &quot;c&quot;");
    expect(doc.texts).toContain("ok<1>");
    expect(doc.texts).toContain("Not plotted (zero or negative values): idle & zero");
  });

  it("rejects a non-positive roof", () => {
    const bad = { ...sampleRoofline(), computeRoofs: [{ name: "x", macPerSecond: 0 }] };
    expect(() => renderRooflineSvg(bad)).toThrow(PccxError);
  });

  it("is deterministic and matches its golden file", async () => {
    const svg = renderRooflineSvg(sampleRoofline());
    expect(renderRooflineSvg(sampleRoofline())).toBe(svg);
    await expect(svg).toMatchFileSnapshot("./__snapshots__/roofline.svg");
  });

  it("omits the namespace when inlined in HTML", () => {
    const svg = renderRooflineSvg(sampleRoofline(), { standalone: false });
    expect(svg).not.toContain("xmlns");
    expect(parseXml(svg).elements[0]!.name).toBe("svg");
  });
});

describe("stacked bar SVG", () => {
  const chart: StackedBarChart = {
    title: "Time per layer",
    categories: ["weights", "compute"],
    bars: [
      { label: "layer 0", values: [30, 10] },
      { label: "a very long layer name that does not fit <x>", values: [0, 20] },
    ],
    valueLabel: "time (µs)",
  };

  it("is well-formed, with legend, axis label and bars proportional to their values", () => {
    const doc = checkSelfContained(renderStackedBarsSvg(chart));
    expect(doc.texts).toEqual(
      expect.arrayContaining(["Time per layer", "weights", "compute", "time (µs)", "layer 0"]),
    );
    expect(doc.texts).toContain("a very long layer name that…");
    const segs = doc.elements.filter((e) => e.name === "rect" && e.attrs["height"] === "13");
    expect(segs.length).toBe(3); // the zero value draws nothing
    const [w0, w1, w2] = segs.map((s) => Number(s.attrs["width"]));
    expect(w0! / w1!).toBeCloseTo(3, 2);
    expect(w2! / w1!).toBeCloseTo(2, 2);
    // Segments of a bar touch: the second starts where the first ends.
    expect(Number(segs[0]!.attrs["x"]) + w0!).toBeCloseTo(Number(segs[1]!.attrs["x"]), 1);
    // Ticks from 0 to the rounded maximum; totals printed after each bar; tooltips per segment.
    expect(doc.texts).toEqual(expect.arrayContaining(["0", "10", "20", "30", "40", "layer 0 · weights: 30"]));
    expect(doc.texts.filter((x) => x === "40" || x === "20").length).toBe(4);
  });

  it("uses the fixed category colours of the layer chart", () => {
    const doc = parseXml(renderStackedBarsSvg(layerTimeChart(sampleLayers(), CLOCK_MHZ, "t")));
    const fills = new Set(doc.elements.filter((e) => e.name === "rect").map((e) => e.attrs["fill"]));
    expect(fills.has("#0072B2")).toBe(true); // weights
    expect(fills.has("#D55E00")).toBe(true); // host
  });

  it("rejects a bar with the wrong number of values or a negative value", () => {
    const short = { ...chart, bars: [{ label: "x", values: [1] }] };
    expect(() => renderStackedBarsSvg(short)).toThrow(/1 values for 2 categories/);
    const neg = { ...chart, bars: [{ label: "x", values: [1, -1] }] };
    expect(() => renderStackedBarsSvg(neg)).toThrow(/must be finite and >= 0/);
  });

  it("is deterministic and matches its golden file", async () => {
    const svg = renderStackedBarsSvg(layerTimeChart(sampleLayers(), CLOCK_MHZ, "Time per layer"));
    expect(renderStackedBarsSvg(layerTimeChart(sampleLayers(), CLOCK_MHZ, "Time per layer"))).toBe(svg);
    await expect(svg).toMatchFileSnapshot("./__snapshots__/layers.svg");
  });
});
