import { describe, expect, it } from "vitest";
import {
  defaultWordSegments,
  formatReloc,
  renderProgramListing,
  renderProgramMemh,
} from "../../../src/codegen/artifacts/index.js";
import { PccxError } from "../../../src/diag/index.js";
import { disassemble, encode, parseMemh } from "../../../src/isa/index.js";
import { FIXTURE } from "./fixture.js";

const wordsOf = (segment: string) =>
  FIXTURE.segments
    .find((s) => s.name === segment)!
    .steps.flatMap((s) => (s.kind === "npu" ? [encode(s.instr)] : []));

describe("program.memh", () => {
  const memh = renderProgramMemh(FIXTURE);

  it("holds the load words then the decode words (prefill left out), one 16-digit lower-case word per line", () => {
    expect(defaultWordSegments(FIXTURE)).toEqual(["load", "decode"]);
    const f = parseMemh(memh);
    expect([...f.words]).toEqual([...wordsOf("load"), ...wordsOf("decode")]);
    const wordLines = memh.split("\n").filter((l) => l && !l.startsWith("//"));
    expect(wordLines.every((l) => /^[0-9a-f]{16}$/.test(l))).toBe(true);
    expect(wordLines).toHaveLength(9);
  });

  it("names each segment by a label comment src/isa's reader turns back into labels", () => {
    expect(parseMemh(memh).labels).toEqual([
      { name: "load", index: 0 },
      { name: "decode", index: 3 },
    ]);
    expect(memh).toContain("// segment decode: words 3..8 (6)");
    // the testbench side: a disassembly of the file shows the segments as labels
    const f = parseMemh(memh);
    expect(disassemble(f.words, { labels: f.labels })).toMatch(/^decode:\n {4}MEMCPY from_device=1/m);
  });

  it("takes any segment set, in the order given", () => {
    const f = parseMemh(renderProgramMemh(FIXTURE, { wordSegments: ["prefill", "load"] }));
    expect([...f.words]).toEqual([...wordsOf("prefill"), ...wordsOf("load")]);
    expect(f.labels).toEqual([
      { name: "prefill", index: 0 },
      { name: "load", index: 1 },
    ]);
  });

  it("rejects an unknown segment naming the ones that exist", () => {
    try {
      renderProgramMemh(FIXTURE, { wordSegments: ["decod"] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PccxError);
      expect((e as PccxError).code).toBe("artifacts/unknown-segment");
      expect((e as PccxError).fix).toContain("load, prefill, decode");
    }
  });
});

describe("program.lst", () => {
  const lst = renderProgramListing(FIXTURE);
  const lines = lst.split("\n");
  const line = (prefix: RegExp) => lines.find((l) => prefix.test(l))!;
  const decodeStart = lines.indexOf("segment decode (decode): 15 steps");

  it("has one line per step under a header per segment", () => {
    expect(lines).toContain("segment load (load): 4 steps");
    expect(lines).toContain("segment prefill (prefill, max pos 4032): 3 steps");
    expect(decodeStart).toBeGreaterThan(0);
    const stepLines = lines.filter((l) => /^ {2}\s*\d+ {2}(npu|dma|host|wait) /.test(l));
    expect(stepLines).toHaveLength(22);
  });

  it("shows an NPU step as index, word and src/isa disassembly, with layer, op, label and tensors on the right", () => {
    const gemv = lines[decodeStart + 6]!;
    expect(gemv).toMatch(
      /^ {3}5 {2}npu {3}0x0018000641008920 {2}GEMV dest_reg=768 src_addr=400 flags=accm size_ptr_addr=2 shape_ptr_addr=9 parallel_lane=4/,
    );
    expect(gemv).toMatch(
      /; L0 {2}layers\.0\.self_attn\.q_proj {2}"q_proj rows 0-63 k 0-63" {2}weights=l0\.q_proj {2}tensors: model\.layers\.0\.self_attn\.q_proj\.weight$/,
    );
  });

  it("marks relocated fields with their expression", () => {
    expect(lines[decodeStart + 4]).toContain("b_value=@kv_len[0] c_value=64");
    expect(lines[decodeStart + 1]).toContain("offset=@(128*token) bytes=128");
    expect(lines[decodeStart + 15]).toContain("bytes=@clamp(16*kv_len[0]+64,0,65536)");
    expect(lines[decodeStart + 8]).toContain("length=@min(pos+1,4096)");
    // unrelocated fields keep their values
    expect(lines[decodeStart + 9]).toContain("length=64");
  });

  it("shows DMA, host and wait details", () => {
    expect(line(/^ {3}4 {2}dma /)).toContain("port=hp2 region=weights_hp2 offset=4096 bytes=2048 tag=2");
    expect(line(/^ {2}12 {2}host /)).toContain(
      'silu(host_buf+0 64xbf16 rows=1 blocks=[64]) -> (host_buf+@(4*pos+256) 64xf32) approx="exact" dims=[64,1] eps=0.000001 inplace=false',
    );
    expect(line(/^ {2}11 {2}wait /)).toContain("dma port=acp_result tag=3");
    expect(line(/^ {2}3 {2}wait /)).toContain("npu-idle");
  });

  it("formats relocation expressions", () => {
    expect(formatReloc({ base: 0, terms: [{ variable: "kv_len[3]", stride: 1 }] })).toBe("@kv_len[3]");
    expect(formatReloc({ base: -4, terms: [{ variable: "pos", stride: -1 }] })).toBe("@(-pos-4)");
    expect(formatReloc({ base: 7, terms: [] })).toBe("@(7)");
    expect(
      formatReloc({
        base: 0,
        terms: [
          { variable: "a", stride: 2 },
          { variable: "b", stride: 1 },
        ],
        min: 1,
      }),
    ).toBe("@max(2*a+b,1)");
  });

  it("is deterministic", () => {
    expect(renderProgramListing(structuredClone(FIXTURE))).toBe(lst);
  });
});
