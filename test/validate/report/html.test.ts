import { describe, expect, it } from "vitest";
import {
  inlineToHtml,
  markdownishToHtml,
  type ReportDoc,
  renderHtmlReport,
  renderMarkdownReport,
} from "../../../src/validate/report/index.js";
import { sampleReport } from "./fixtures.js";
import { parseXml } from "./xml.js";

describe("report.html", () => {
  const html = renderHtmlReport(sampleReport());

  it("is one balanced, self-contained page with both charts inline", () => {
    const doc = parseXml(html, "html");
    expect(html.startsWith("<!DOCTYPE html>\n<html")).toBe(true);
    const names = doc.elements.map((e) => e.name);
    expect(names.filter((n) => n === "svg").length).toBe(2);
    expect(names).toContain("style");
    // Nothing to fetch: no scripts, stylesheets, images, frames or external links.
    for (const bad of ["script", "link", "img", "iframe", "object", "embed"])
      expect(names).not.toContain(bad);
    expect(html).not.toMatch(/url\(|@import|src=|xmlns=/);
    const hrefs = doc.elements.filter((e) => e.attrs["href"] !== undefined).map((e) => e.attrs["href"]);
    expect(hrefs).toEqual(["#s1-summary", "#s2-per-layer", "#s3-roofline", "trace.json"]);
  });

  it("escapes the model's text everywhere", () => {
    expect(html).toContain(
      "<title>pccxc report: tiny-llama &lt;decode&gt; &amp; &quot;friends&quot;</title>",
    );
    expect(html).toContain("<h1>pccxc report: tiny-llama &lt;decode&gt; &amp; &quot;friends&quot;</h1>");
    const evil: ReportDoc = {
      title: "<script>alert(1)</script>",
      summary: [{ key: "<b>", value: "</td>" }],
      sections: [
        {
          title: "s",
          blocks: [
            { kind: "text", text: "<img src=x onerror=alert(1)> [x](javascript:alert(1))" },
            { kind: "table", table: { columns: [{ label: "<th>" }], rows: [["<tr>"]] } },
          ],
        },
      ],
    };
    const out = renderHtmlReport(evil);
    parseXml(out, "html");
    expect(out).not.toMatch(/<script|<img|<b>|href="javascript/);
    expect(out).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(out).toContain("<td>&lt;/td&gt;</td>");
  });

  it("renders the summary, the tables with numbers right-aligned and grouped, and captions", () => {
    expect(html).toContain('<tr><th scope="row">cycles per token</th><td class="num">768,000</td></tr>');
    expect(html).toContain('<td class="num">3,000,000</td>');
    expect(html).toContain("<caption>Cycles at 400 MHz.</caption>");
    expect(html).toContain("<figcaption>Points: achieved per layer.</figcaption>");
  });

  it("is deterministic and matches its golden file", async () => {
    expect(renderHtmlReport(sampleReport())).toBe(html);
    await expect(html).toMatchFileSnapshot("./__snapshots__/report.html");
  });
});

describe("report.md", () => {
  it("renders the same model as markdown, linking the chart files", async () => {
    const md = renderMarkdownReport(sampleReport());
    expect(md.startsWith('# pccxc report: tiny-llama \\<decode> & "friends"\n')).toBe(true);
    expect(md).toContain("| cycles per token | 768,000           |");
    expect(md).toContain("## Per layer\n");
    expect(md).toContain("![Time per layer](layers.svg)");
    expect(md).toContain("![Roofline: decode on pccx v002](roofline.svg)");
    expect(renderMarkdownReport(sampleReport())).toBe(md);
    await expect(md).toMatchFileSnapshot("./__snapshots__/report.md");
  });
});

describe("markdown-ish text", () => {
  it("handles inline code, bold, emphasis and links", () => {
    expect(inlineToHtml("use `a<b>` **now**, *really* and [docs](docs/x.md)")).toBe(
      'use <code>a&lt;b&gt;</code> <strong>now</strong>, <em>really</em> and <a href="docs/x.md">docs</a>',
    );
    expect(inlineToHtml("`**not bold**` 2*3*4")).toBe("<code>**not bold**</code> 2*3*4");
  });

  it("never links off the machine", () => {
    for (const url of [
      "https://x.org",
      "http://x",
      "//x.org/a",
      "javascript:alert(1)",
      "file:///etc/passwd",
    ]) {
      expect(inlineToHtml(`[t](${url})`)).not.toContain("href");
    }
  });

  it("builds paragraphs, lists and fenced code", () => {
    expect(markdownishToHtml("one\ntwo\n\n- a\n- b\n  more\n\n```\nx < y\n```\nend")).toBe(
      [
        "<p>one two</p>",
        "<ul><li>a</li><li>b more</li></ul>",
        "<pre><code>x &lt; y</code></pre>",
        "<p>end</p>",
      ].join("\n"),
    );
  });
});
