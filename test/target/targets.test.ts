import { describe, expect, it } from "vitest";
import { formatPath, listBuiltinTargets, loadTarget, TargetFileSchema } from "../../src/target/index.js";
import { leaves } from "../../src/target/json-path.js";
import { BUILTINS, builtinJson } from "./helpers.js";

const HEX = /^0x[0-9a-fA-F_]+$/;

describe("built-in targets", () => {
  it("lists exactly the shipped targets", () => {
    expect(listBuiltinTargets()).toEqual([...BUILTINS]);
  });

  it.each(BUILTINS)("%s loads and its name equals its file name", (name) => {
    const t = loadTarget(name);
    expect(t.file.name).toBe(name);
    expect(t.label).toBe(`targets/${name}.json`);
    expect(t.fingerprint).toMatch(new RegExp(`^${name}@[0-9a-f]{16}$`));
  });

  it("the base file alone is accepted by the zod schema as written", () => {
    const r = TargetFileSchema.safeParse(builtinJson("kv260-v002"));
    expect(r.success).toBe(true);
  });

  it("every number (and hex address) written in each file has a source in that file", () => {
    for (const name of BUILTINS) {
      const raw = builtinJson(name);
      const sources = raw.sources as Record<string, string>;
      for (const [segs, v] of leaves(raw)) {
        if (segs[0] === "sources") continue;
        if (typeof v === "number" || (typeof v === "string" && HEX.test(v))) {
          const p = formatPath(segs);
          expect(sources[p], `${name}: ${p} has no source`).toMatch(/\S/);
        }
      }
    }
  });

  it("every numeric value of every loaded target has a non-empty provenance source", () => {
    for (const name of BUILTINS) {
      const t = loadTarget(name);
      let numbers = 0;
      for (const [segs, v] of leaves(t.file)) {
        if (typeof v !== "number" || segs[0] === "sources") continue;
        numbers++;
        const p = t.provenance.get(formatPath(segs));
        expect(p?.source, `${name}: ${formatPath(segs)}`).toMatch(/\S/);
      }
      expect(numbers).toBeGreaterThan(100);
    }
  });

  it("estimates say so and give a reason", () => {
    const raw = builtinJson("kv260-v002");
    const estimates = Object.entries(raw.sources as Record<string, string>).filter(([, s]) =>
      s.startsWith("pccxc estimate"),
    );
    expect(estimates.length).toBeGreaterThan(8);
    for (const [, s] of estimates) expect(s.length).toBeGreaterThan("pccxc estimate: ".length + 20);
    expect(raw.sources["$.control.mmio_write_ns"]).toMatch(/^pccxc estimate: /);
  });

  it("kv260-v002 holds the documented machine (§2, §7)", () => {
    const f = loadTarget("kv260-v002").file;
    expect(f.clocks).toEqual({ core_mhz: 400, axi_mhz: 250 });
    expect(f.l2.backed_words).toBe(114688);
    expect(Object.values(f.l2.addressing).map((a) => a.unit)).toEqual(["word", "word", "word", "word"]);
    expect(f.ports.filter((p) => p.feeds.includes("gemm")).map((p) => p.name)).toEqual(["hp0", "hp1"]);
    expect(f.ports.filter((p) => p.feeds.includes("gemv")).map((p) => p.name)).toEqual(["hp2", "hp3"]);
    expect(f.mmio.npu_page).toBe(0xa000_0000);
    expect(f.datamover.channels.map((c) => [c.name, c.page])).toEqual([
      ["hp0", 0xa000_1000],
      ["hp1", 0xa000_2000],
      ["hp2", 0xa000_3000],
      ["hp3", 0xa000_4000],
      ["acp_fmap", 0xa000_5000],
      ["acp_result", 0xa000_6000],
    ]);
    expect(f.datamover.status).toMatchObject({
      okay_bit: 7,
      slverr_bit: 6,
      decerr_bit: 5,
      interr_bit: 4,
      tag_bits: 4,
    });
    expect(f.isa.cvo_functions.find((c) => c.name === "GELU")?.formula).toBe("x*sigmoid(1.702*x)");
    expect(f.isa.cvo_functions.every((c) => !c.extension && c.code <= 7)).toBe(true);
    expect(f.numeric.kv_cache.default).toBe("int4");
  });

  it("kv260-v002-ext adds extension codes 8-15 and feeds the GEMV from all four HP ports", () => {
    const f = loadTarget("kv260-v002-ext").file;
    const ext = f.isa.cvo_functions.filter((c) => c.extension);
    expect(ext.map((c) => [c.name, c.code])).toEqual([
      ["SILU", 8],
      ["MUL", 9],
      ["ADD", 10],
      ["TANH", 11],
      ["MAX", 12],
      ["SQUARE", 13],
      ["ROPE_ROTATE", 14],
    ]);
    expect(ext.find((c) => c.name === "MUL")?.operands).toBe("binary_dst");
    expect(f.isa.cvo_functions).toHaveLength(15);
    expect(f.ports.filter((p) => p.feeds.includes("gemv")).map((p) => p.name)).toEqual([
      "hp0",
      "hp1",
      "hp2",
      "hp3",
    ]);
    // the rest is inherited unchanged
    const base = loadTarget("kv260-v002").file;
    expect(f.ddr).toEqual(base.ddr);
    expect(f.ports[0]!.width_bits).toBe(128);
  });

  it("kv260-v002-rtl records today's RTL (§8)", () => {
    const f = loadTarget("kv260-v002-rtl").file;
    expect(f.l2.addressing.cvo).toEqual({ unit: "element", reach_words: 16384, alignment_elements: 8 });
    expect(f.l2.addressing.gemv.unit).toBe("word");
    expect(f.l2.cvo_max_length_elements).toBe(2048);
    expect(f.activation_cache.k_accumulation_limit).toBe(1024);
    expect(f.memcpy.directions).toEqual(["host_to_l2", "l2_to_host"]);
    expect(f.memcpy.aux_addr_supported).toBe(false);
    expect(f.const_cache.banks.map((b) => [b.name, b.read])).toEqual([
      ["fmap_shape", true],
      ["weight_shape", false],
    ]);
    expect(f.gemm.max_output_elements_per_instruction).toBe(32);
    expect(f.control.async_supported).toBe(false);
    expect(f.notes.length).toBeGreaterThan(3);
  });

  it("a loaded target is frozen", () => {
    const t = loadTarget("kv260-v002");
    expect(() => {
      (t.file.clocks as { core_mhz: number }).core_mhz = 1;
    }).toThrow(TypeError);
    expect(Object.isFrozen(t.derived.ports)).toBe(true);
  });
});
