import { describe, expect, it } from "vitest";
import { loadTarget, parseOverride } from "../../src/target/index.js";
import { expectPccx } from "./helpers.js";

describe("overrides (--set path=value)", () => {
  const base = loadTarget("kv260-v002");

  it("parse the value as JSON when possible, else as a string", () => {
    expect(parseOverride("ddr.efficiency=0.85")).toEqual({ path: "ddr.efficiency", value: 0.85 });
    expect(parseOverride('ports[hp2].feeds=["gemv"]')).toEqual({ path: "ports[hp2].feeds", value: ["gemv"] });
    expect(parseOverride("mmio.npu_page=0xB000_0000")).toEqual({
      path: "mmio.npu_page",
      value: "0xB000_0000",
    });
    expect(parseOverride("control.sync=interrupt")).toEqual({ path: "control.sync", value: "interrupt" });
  });

  it("change the value, the derived values and the fingerprint, and are recorded as the source", () => {
    const t = loadTarget("kv260-v002", ["ddr.efficiency=0.85"]);
    expect(t.file.ddr.efficiency).toBe(0.85);
    expect(t.derived.ddr.effective_gbps).toBe(16.32);
    expect(t.hash).not.toBe(base.hash);
    expect(t.fingerprint.startsWith("kv260-v002@")).toBe(true);
    expect(t.provenance.get("$.ddr.efficiency")).toEqual({
      kind: "override",
      source: "--set ddr.efficiency=0.85",
    });
    expect(t.file.sources["$.ddr.efficiency"]).toBe("command-line override (ddr.efficiency=0.85)");
    // the base is untouched
    expect(loadTarget("kv260-v002").file.ddr.efficiency).toBe(0.8);
  });

  it("setting the value it already has keeps the fingerprint", () => {
    expect(loadTarget("kv260-v002", ["ddr.efficiency=0.8"]).hash).toBe(base.hash);
  });

  it("select array items by name and accept $. paths and parsed objects", () => {
    const t = loadTarget("kv260-v002", [
      "ports[hp2].width_bits=256",
      { path: "$.ports[3].feeds", value: ["gemv", "gemm"] },
      "mmio.npu_page=0xB000_0000",
    ]);
    expect(t.derived.ports.hp2?.gbps).toBe(8);
    expect(t.derived.gemv.feed.feed_gbps).toBe(12);
    expect(t.derived.gemm.feed.ports).toEqual(["hp0", "hp1", "hp3"]);
    expect(t.file.mmio.npu_page).toBe(0xb000_0000);
    expect(t.provenance.get("$.ports[2].width_bits")?.kind).toBe("override");
  });

  it("can set an optional field the file leaves out", () => {
    const t = loadTarget("kv260-v002", ["gemm.max_output_elements_per_instruction=32"]);
    expect(t.file.gemm.max_output_elements_per_instruction).toBe(32);
  });

  it("are validated like file values, blamed on the override", () => {
    const e = expectPccx(() => loadTarget("kv260-v002", ["ddr.efficiency=1.5"]), "target/invalid", 2);
    expect(e.message).toBe(
      "--set ddr.efficiency=1.5 at $.ddr.efficiency: expected a number in (0, 1], got 1.5",
    );
    const s = expectPccx(
      () => loadTarget("kv260-v002", ['ports[hp2].feeds=["gemm"]', 'ports[hp3].feeds=["gemm"]']),
      "target/inconsistent",
      2,
    );
    expect(s.message).toContain("no port feeds the gemv");
  });

  it("reject malformed overrides and unknown paths as usage errors (exit 1)", () => {
    expectPccx(() => loadTarget("kv260-v002", ["ddr.efficiency"]), "target/override", 1);
    const e = expectPccx(() => loadTarget("kv260-v002", ["ddr.effciency=0.9"]), "target/override", 1);
    expect(e.message).toContain('did you mean "efficiency"?');
    const n = expectPccx(() => loadTarget("kv260-v002", ["ports[hp9].width_bits=64"]), "target/override", 1);
    expect(n.message).toContain('no item named "hp9"');
    expectPccx(() => loadTarget("kv260-v002", ["sources.x=1"]), "target/override", 1);
    expectPccx(() => loadTarget("kv260-v002", ["name=other"]), "target/override", 1);
  });
});
