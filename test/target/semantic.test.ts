import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtinTargetsDir, loadTarget, targetFromJson } from "../../src/target/index.js";
import { builtinNameProblem } from "../../src/target/load.js";
import { builtinJson, type EditableJson, expectPccx } from "./helpers.js";

/** The error for a modified copy of kv260-v002, which must be `target/inconsistent` (exit 2). */
function inconsistent(edit: (d: EditableJson) => void) {
  const d = builtinJson("kv260-v002");
  edit(d);
  const e = expectPccx(() => targetFromJson(d, "t.json"), "target/inconsistent", 2);
  return [e.message, ...e.notes].join("\n");
}

describe("semantic checks", () => {
  it("the base target passes them", () => {
    expect(() => targetFromJson(builtinJson("kv260-v002"), "t.json")).not.toThrow();
  });

  it("L2 backed words must fit the 2^17-word address space", () => {
    const msg = inconsistent((d) => {
      d.l2.backed_words = 131073;
    });
    expect(msg).toContain(
      "t.json at $.l2.backed_words: backed range ends past the 131072-word address space",
    );
    // exactly the space is fine
    const ok = builtinJson("kv260-v002");
    ok.l2.backed_words = 131072;
    expect(targetFromJson(ok).derived.l2.backed_bytes).toBe(131072 * 16);
  });

  it("a DataMover channel must drive a port that exists", () => {
    expect(
      inconsistent((d) => {
        d.datamover.channels[2].port = "hp7";
      }),
    ).toContain('t.json at $.datamover.channels[2].port: no port named "hp7" in $.ports');
  });

  it("each engine must be fed by some port", () => {
    expect(
      inconsistent((d) => {
        d.ports[2].feeds = ["gemm"];
        d.ports[3].feeds = ["gemm"];
      }),
    ).toContain("no port feeds the gemv");
  });

  it("CVO codes are unique, and extension codes lie in 8..15", () => {
    expect(
      inconsistent((d) => {
        d.isa.cvo_functions.push({ ...d.isa.cvo_functions[0], name: "EXP2" });
      }),
    ).toContain("t.json at $.isa.cvo_functions[8].code: duplicate code: also used at index 0");
    expect(
      inconsistent((d) => {
        d.isa.cvo_functions[7].extension = true;
      }),
    ).toContain("$.isa.cvo_functions[7].code: an extension must use a reserved code 8..15, got 7");
    expect(
      inconsistent((d) => {
        d.isa.cvo_functions.push({ ...d.isa.cvo_functions[0], code: 9, name: "EXP2" });
      }),
    ).toContain("a documented v002 function has a code 0..7");
  });

  it("GEMV rows per call must fit a 16-bit constant-cache value", () => {
    expect(
      inconsistent((d) => {
        d.gemv.max_rows_per_lane = 20000;
      }),
    ).toContain(
      "cores x max_rows_per_lane = 80000 rows per call does not fit a 16-bit shape value (max 65535)",
    );
  });

  it("register fields must fit their words and not overlap", () => {
    expect(
      inconsistent((d) => {
        d.datamover.command.tag_lsb = 70;
      }),
    ).toContain("$.datamover.command.tag_lsb: field of 4 bit(s) at bit 70 does not fit 72 bits");
    expect(
      inconsistent((d) => {
        d.datamover.status.interr_bit = 3;
      }),
    ).toContain("$.datamover.status.tag_lsb: overlaps interr_bit at bit 3");
    expect(
      inconsistent((d) => {
        d.mmio.done_bit = 0;
      }),
    ).toContain("BUSY and DONE share a bit");
  });

  it("pages must not overlap the NPU page and must be aligned", () => {
    const msg = inconsistent((d) => {
      d.datamover.channels[0].page = "0xA000_0000";
      d.datamover.channels[1].page = "0xA000_2100";
    });
    expect(msg).toContain("$.datamover.channels[0].page: overlaps the NPU's own register page");
    expect(msg).toContain("$.datamover.channels[1].page: not aligned to the 4096-byte page size");
  });

  it("the KV cache default must be one of the listed formats; group scales need a group size", () => {
    expect(
      inconsistent((d) => {
        d.numeric.kv_cache.default = "bf16";
      }),
    ).toContain("$.numeric.kv_cache.default: not one of the listed dtypes (int4, int8)");
    expect(
      inconsistent((d) => {
        d.numeric.weights.scale_granularity = "group";
      }),
    ).toContain("scale_granularity is group: group_size is required");
  });

  it("the GEMM array must fit the device's DSP48E2 slices", () => {
    expect(
      inconsistent((d) => {
        d.gemm.rows = 64;
      }),
    ).toContain("rows x cols = 2048 PEs need more DSP48E2 than the device has");
  });

  it("MEMCPY host directions need an l2 port with the right channel", () => {
    expect(
      inconsistent((d) => {
        d.datamover.channels = d.datamover.channels.filter((c: { name: string }) => c.name !== "acp_result");
      }),
    ).toContain("l2_to_host needs a pl_to_ddr DataMover channel on an l2 port");
  });

  it("word-addressed classes must align to whole words", () => {
    expect(
      inconsistent((d) => {
        d.l2.addressing.gemv.alignment_elements = 4;
      }),
    ).toContain("word addresses can only start on a word: expected a multiple of 8 elements");
  });

  it("a built-in's name must equal its file name", () => {
    const file = loadTarget("kv260-v002").file;
    const inBuiltins = {
      label: "targets/other.json",
      path: join(builtinTargetsDir(), "other.json"),
      text: "",
    };
    const problems = builtinNameProblem(file, inBuiltins);
    expect(problems.map((p) => p.message)).toEqual([
      'a built-in target\'s name must equal its file name "other"',
    ]);
    const elsewhere = { label: "other.json", path: join(tmpdir(), "other.json"), text: "" };
    expect(builtinNameProblem(file, elsewhere)).toEqual([]);
  });
});
