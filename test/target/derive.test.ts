import { describe, expect, it } from "vitest";
import { deriveTarget, formulaFor, loadTarget, targetFromJson } from "../../src/target/index.js";
import { leaves } from "../../src/target/json-path.js";
import { BUILTINS, builtinJson } from "./helpers.js";

describe("derived values", () => {
  const t = loadTarget("kv260-v002");
  const d = t.derived;

  it("HP port: 128 bit x 250 MHz = 4 GB/s, 10 bytes = 20 INT4 weights per 400 MHz core clock", () => {
    expect(d.ports.hp0).toEqual({
      bytes_per_beat: 16,
      bytes_per_s: 4e9,
      gbps: 4,
      bytes_per_core_clk: 10,
      int4_weights_per_core_clk: 20,
      fifo_fill_ns: 16384,
    });
  });

  it("GEMV: 4 x 32 MAC/clk x 400 MHz = 51.2 GMAC/s, fed 8 GB/s by HP2+HP3 of the 25.6 GB/s it could use", () => {
    expect(d.gemv.macs_per_clk).toBe(128);
    expect(d.gemv.macs_per_s).toBe(51.2e9);
    expect(d.gemv.gmacs).toBe(51.2);
    expect(d.gemv.max_rows_per_call).toBe(2048);
    expect(d.gemv.feed).toEqual({
      ports: ["hp2", "hp3"],
      feed_bytes_per_s: 8e9,
      feed_gbps: 8,
      feed_gbps_ddr_capped: 8,
      demand_gbps: 25.6,
      feed_ratio: 0.3125,
    });
  });

  it("GEMM: 32 x 32 x 2 = 2,048 MAC/clk = 819.2 GMAC/s", () => {
    expect(d.gemm.pes).toBe(1024);
    expect(d.gemm.macs_per_clk).toBe(2048);
    expect(d.gemm.gmacs).toBe(819.2);
    expect(d.gemm.feed.ports).toEqual(["hp0", "hp1"]);
  });

  it("clocks, L2, constant cache, DDR, DataMover", () => {
    expect(d.clocks).toEqual({ core_hz: 4e8, axi_hz: 2.5e8, core_period_ns: 2.5, axi_period_ns: 4 });
    expect(d.l2.backed_bytes).toBe(1_835_008);
    expect(d.l2.elements_per_word).toBe(8);
    expect(d.l2.usable_end_word).toEqual({ gemv: 114688, gemm: 114688, memcpy: 114688, cvo: 114688 });
    expect(d.const_cache).toEqual({ banks: 2, entries: 128, values: 384, value_max: 65535 });
    expect(d.ddr.effective_gbps).toBe(15.36);
    expect(d.ddr.usable_bytes).toBe(3 * 2 ** 30);
    expect(d.datamover).toEqual({ max_command_bytes: 2 ** 23 - 1, tags: 16 });
    expect(d.gemm.max_k_per_instruction).toBe(2048);
  });

  it("CVO time per element and latency in ns; host costs composed from control latencies", () => {
    expect(d.cvo.GELU).toEqual({ ns_per_element: 2.5, latency_ns: 30 });
    expect(d.host.sync_wait_ns).toBe(400 + 500);
    expect(d.host.l2_transfer_overhead_ns).toBe(150 + 300 + 900);
    expect(d.host.l2_transfer_ns_per_byte).toBe(0.25);
  });

  it("the ext target doubles the GEMV feed, capped by DDR", () => {
    const ext = loadTarget("kv260-v002-ext").derived;
    expect(ext.gemv.feed.feed_gbps).toBe(16);
    expect(ext.gemv.feed.feed_gbps_ddr_capped).toBe(15.36);
    expect(ext.cvo.SILU?.latency_ns).toBe(30);
  });

  it("the rtl target: CVO reaches 16,384 words, K per instruction 1,024", () => {
    const rtl = loadTarget("kv260-v002-rtl").derived;
    expect(rtl.l2.usable_end_word.cvo).toBe(16384);
    expect(rtl.l2.usable_end_word.gemv).toBe(114688);
    expect(rtl.gemv.max_k_per_instruction).toBe(1024);
  });

  it("interrupt sync uses the interrupt latency", () => {
    const j = builtinJson("kv260-v002");
    j.control.sync = "interrupt";
    j.sources["$.control.sync"] = "test";
    expect(targetFromJson(j).derived.host.sync_wait_ns).toBe(10000);
  });

  it("is a pure function of the file", () => {
    expect(deriveTarget(t.file)).toEqual(d);
  });

  it("every derived value of every target has a formula", () => {
    for (const name of BUILTINS) {
      for (const [segs] of leaves(loadTarget(name).derived)) {
        expect(formulaFor(segs), segs.join(".")).toBeTruthy();
      }
    }
  });
});
