import { afterAll, describe, expect, it } from "vitest";
import { loadTarget, targetFromJson } from "../../src/target/index.js";
import { builtinJson, expectPccx, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("every number carries a source", () => {
  it("a number without a source is rejected with the path to add", () => {
    const d = builtinJson("kv260-v002");
    delete d.sources["$.gemv.cores"];
    const e = expectPccx(() => targetFromJson(d, "t.json"), "target/unsourced", 2);
    expect(e.message).toBe(
      't.json at $.gemv.cores: number 4 has no source: add "$.gemv.cores": "<citation, or pccxc estimate: reasoning>" to $.sources',
    );
  });

  it("a hex address without a source is rejected too", () => {
    const d = builtinJson("kv260-v002");
    delete d.sources["$.mmio.npu_page"];
    expect(() => targetFromJson(d, "t.json")).toThrow(/\$\.mmio\.npu_page: number 2684354560 has no source/);
  });

  it("a source naming no value is rejected; a non-canonical path too", () => {
    const d = builtinJson("kv260-v002");
    d.sources["$.gemv.coress"] = "typo";
    const e = expectPccx(() => targetFromJson(d, "t.json"), "target/unsourced", 2);
    expect(e.message).toContain('"$.gemv.coress" names no value in the target');
    const d2 = builtinJson("kv260-v002");
    d2.sources["gemv.cores"] = "no $";
    expect(() => targetFromJson(d2, "t.json")).toThrow(/"gemv.cores" is not a canonical JSON path/);
  });

  it("a file that extends another must source the numbers it changes", () => {
    const child = tmp.write(
      "child.json",
      JSON.stringify({ name: "child", extends: "kv260-v002", ddr: { efficiency: 0.9 } }, null, 2),
    );
    const e = expectPccx(() => loadTarget(child, [], { cwd: tmp.dir }), "target/unsourced", 2);
    expect(e.message).toContain(
      "child.json at $.ddr.efficiency: number 0.9 is set here but its source comes from targets/kv260-v002.json",
    );
    expect(e.at?.line).toBe(5);
    const ok = tmp.write(
      "child-ok.json",
      JSON.stringify({
        name: "child-ok",
        extends: "kv260-v002",
        ddr: { efficiency: 0.9 },
        sources: { "$.ddr.efficiency": "what-if: a better memory controller" },
      }),
    );
    const t = loadTarget(ok, [], { cwd: tmp.dir });
    expect(t.file.ddr.efficiency).toBe(0.9);
    expect(t.provenance.get("$.ddr.efficiency")).toEqual({
      kind: "target-file",
      file: "child-ok.json",
      source: "what-if: a better memory controller",
    });
    // untouched values keep the base's source
    expect(t.provenance.get("$.ddr.peak_gbps")?.file).toBe("targets/kv260-v002.json");
  });

  it("sources of a child file use the child's own item numbering", () => {
    const ext = builtinJson("kv260-v002-ext");
    // in the file SILU is item 0; in the merged target it is item 8
    expect(ext.sources["$.isa.cvo_functions[0].code"]).toMatch(/SiLU/);
    const t = loadTarget("kv260-v002-ext");
    expect(t.file.isa.cvo_functions[8]!.name).toBe("SILU");
    expect(t.provenance.get("$.isa.cvo_functions[8].code")?.source).toMatch(/SiLU/);
    expect(t.provenance.get("$.isa.cvo_functions[0].code")?.source).toBe(
      "pccx-v002.md §1 CVO cvo_func (EXP 0)",
    );
  });
});
