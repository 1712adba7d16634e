import { describe, expect, it } from "vitest";
import { loadTarget } from "../../src/target/index.js";

describe("provenance", () => {
  it("file values name their file and source line", () => {
    const t = loadTarget("kv260-v002");
    expect(t.provenance.get("$.gemv.cores")).toEqual({
      kind: "target-file",
      file: "targets/kv260-v002.json",
      source: "pccx-v002.md §2 GEMV (4 cores)",
    });
    expect(t.provenance.get("$.control.interrupt_ns")?.source).toMatch(/^pccxc estimate: /);
  });

  it("schema defaults carry the default's reason", () => {
    const t = loadTarget("kv260-v002");
    expect(t.provenance.get("$.isa.cvo_functions[3].elements_per_clk")).toEqual({
      kind: "schema-default",
      source: "pccx-v002.md §2 SFU: one unit, 1 BF16 element/clk",
    });
    expect(t.provenance.get("$.l2.addressing.cvo.unit")?.kind).toBe("schema-default");
    expect(t.provenance.get("$.l2.addressing.cvo.unit")?.source).toContain("§7.1");
  });

  it("a variant's own values, inherited values and a default it overrides", () => {
    const t = loadTarget("kv260-v002-rtl");
    expect(t.provenance.get("$.l2.addressing.cvo.unit")).toEqual({
      kind: "target-file",
      file: "targets/kv260-v002-rtl.json",
      source: "pccx-v002.md §8 (CVO src/dst are element indices; the bridge uses addr>>3)",
    });
    expect(t.provenance.get("$.l2.addressing.gemv.reach_words")?.file).toBe("targets/kv260-v002.json");
    expect(t.provenance.get("$.const_cache.banks[1].read")?.file).toBe("targets/kv260-v002-rtl.json");
    expect(t.provenance.get("$.const_cache.banks[0].read")?.kind).toBe("schema-default");
  });

  it("derived values carry their formula; overrides the command line", () => {
    const t = loadTarget("kv260-v002", ["clocks.core_mhz=500"]);
    expect(t.provenance.get("derived.gemv.gmacs")).toEqual({
      kind: "derived",
      source: "gemv.macs_per_s / 10^9",
    });
    expect(t.provenance.get("derived.ports.hp1.gbps")?.kind).toBe("derived");
    expect(t.provenance.get("$.clocks.core_mhz")).toEqual({
      kind: "override",
      source: "--set clocks.core_mhz=500",
    });
    expect(t.derived.gemv.gmacs).toBe(64);
  });

  it("covers every value of the file and of the derived values", () => {
    const t = loadTarget("kv260-v002-ext");
    const kinds = new Set([...t.provenance.values()].map((p) => p.kind));
    expect(kinds).toEqual(new Set(["target-file", "schema-default", "derived"]));
    expect(t.provenance.size).toBeGreaterThan(300);
  });
});
