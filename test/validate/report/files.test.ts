import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AtomicDir } from "../../../src/util/atomic.js";
import {
  type ReportDoc,
  readPccxTrace,
  renderChromeTrace,
  renderHtmlReport,
  renderReportFiles,
} from "../../../src/validate/report/index.js";
import { ARCH, CLOCK_MHZ, sampleLayers, sampleReport, sampleTimeline } from "./fixtures.js";

describe("renderReportFiles", () => {
  const input = {
    timeline: sampleTimeline(),
    pccxArch: ARCH,
    doc: sampleReport(),
    layers: { rows: sampleLayers(), clockMhz: CLOCK_MHZ },
  };

  it("renders the standard files and each named chart, in a fixed order", () => {
    const files = renderReportFiles(input);
    expect([...files.keys()]).toEqual([
      "trace.json",
      "trace.pccx",
      "report.html",
      "report.md",
      "layers.svg",
      "roofline.svg",
      "layers.csv",
    ]);
    expect(files.get("trace.json")).toBe(renderChromeTrace(sampleTimeline()));
    expect(files.get("report.html")).toBe(renderHtmlReport(sampleReport()));
    expect(readPccxTrace(files.get("trace.pccx") as Uint8Array).records.length).toBe(
      sampleTimeline().events.length,
    );
    expect(files.get("roofline.svg")).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(String(files.get("layers.csv")).startsWith("layer,cycles,time_us,")).toBe(true);
  });

  it("writes byte-identical directories on two runs", async () => {
    const root = await mkdtemp(join(tmpdir(), "pccxc-report-"));
    try {
      const contents: string[] = [];
      for (const name of ["a", "b"]) {
        const dir = await AtomicDir.create(join(root, name));
        for (const [file, data] of renderReportFiles(input)) await dir.write(file, data);
        await dir.commit();
        const names = (await readdir(join(root, name))).sort();
        const bytes = await Promise.all(names.map((n) => readFile(join(root, name, n))));
        contents.push(names.map((n, i) => `${n}:${bytes[i]!.toString("base64")}`).join("\n"));
      }
      expect(contents[0]).toBe(contents[1]);
      expect(contents[0]!.split("\n").length).toBe(7);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("refuses two files with one name", () => {
    const doc: ReportDoc = {
      ...sampleReport(),
      sections: [
        {
          title: "x",
          blocks: [
            {
              kind: "bars",
              chart: { title: "t", categories: [], bars: [], valueLabel: "v" },
              file: "report.md",
            },
          ],
        },
      ],
    };
    expect(() => renderReportFiles({ doc })).toThrow(/both named "report.md"/);
  });
});
