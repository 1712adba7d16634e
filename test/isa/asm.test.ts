import { describe, expect, it } from "vitest";
import { formatDiagnostic, PccxError } from "../../src/diag/index.js";
import {
  assemble,
  assembleLine,
  decode,
  disassemble,
  formatInstr,
  formatWord,
  V002,
} from "../../src/isa/index.js";
import { thrown } from "../helpers/errors.js";
import { fixtureVectors, RESERVED_OP_HEX, RESERVED_OP_WORD } from "./helpers.js";

const W = fixtureVectors.map((v) => BigInt(v.word));
const [MEMSET3, , MEMCPY_IN, GEMM, GEMV, CVO] = W as [bigint, bigint, bigint, bigint, bigint, bigint, bigint];

const asmError = (text: string) => thrown(() => assemble(text, { file: "t.pccxasm" }));

describe("assembler syntax", () => {
  it("accepts fields in any order, hex, case-insensitive mnemonics and enum names, commas, spaces", () => {
    const lines = [
      "cvo src_addr=0x300, dst_addr = 896 length=64 cvo_func=reduce_sum",
      "GEMM parallel_lane=4 shape_ptr_addr=3 size_ptr_addr=1 flags=w_scale src_addr=300 dest_reg=0x200",
      "GEMV dest_reg=768 src_addr=400 flags = accm shape_ptr_addr=9 size_ptr_addr=2 parallel_lane=4",
    ];
    expect(Array.from(assemble(lines.join("\n")).words)).toEqual([CVO, GEMM, GEMV]);
  });

  it("omitted fields are 0; flags join with | or +, mix names and numbers", () => {
    const zero = decode(assembleLine("GEMV"));
    expect(zero.fields).toEqual({
      dest_reg: 0,
      src_addr: 0,
      flags: { findemax: 0, accm: 0, w_scale: 0 },
      size_ptr_addr: 0,
      shape_ptr_addr: 0,
      parallel_lane: 0,
    });
    const a = assembleLine("GEMV flags=accm|w_scale");
    expect(assembleLine("GEMV flags=w_scale+accm")).toBe(a);
    expect(assembleLine("GEMV flags = accm | w_scale")).toBe(a);
    expect(decode(a).fields).toMatchObject({ flags: { findemax: 0, accm: 1, w_scale: 1 } });
    expect(assembleLine("MEMSET dest_cache=weight_shape")).toBe(assembleLine("MEMSET dest_cache=1"));
  });

  it("comments (; and #), blank lines, labels alone or before an instruction, CRLF", () => {
    const src = [
      "# header comment",
      "",
      "top: MEMSET dest_cache=fmap_shape dest_addr=3 a_value=1 b_value=1 c_value=9 ; trailing",
      "mid:",
      "also_mid:",
      "  MEMCPY from_device=1 dest_addr=100 shape_ptr_addr=3  # host -> L2",
      "end:",
    ].join("\r\n");
    const p = assemble(src);
    expect(Array.from(p.words)).toEqual([MEMSET3, MEMCPY_IN]);
    expect(p.labels).toEqual([
      { name: "top", index: 0 },
      { name: "mid", index: 1 },
      { name: "also_mid", index: 1 },
      { name: "end", index: 2 },
    ]);
    expect(p.lines).toEqual([3, 6]);
  });

  it(".word emits a raw word, valid or not", () => {
    const p = assemble(`.word ${RESERVED_OP_HEX}\n.WORD 12\n.word 0xffff_ffff_ffff_ffff`);
    expect(Array.from(p.words)).toEqual([RESERVED_OP_WORD, 12n, (1n << 64n) - 1n]);
  });
});

describe("assembler errors carry file:line:column and the offending token", () => {
  const cases: [string, string, string, number, number, string][] = [
    // source, code, message part, line, column, token
    [
      "\n  GEMV dest_reg=131072",
      "isa/field-range",
      "GEMV field dest_reg = 131072 is out of range",
      2,
      17,
      '"131072"',
    ],
    ["FOO x=1", "isa/asm-unknown-mnemonic", "unknown mnemonic", 1, 1, '"FOO"'],
    ["GEMV dst_reg=1", "isa/asm-unknown-field", 'GEMV has no field "dst_reg"', 1, 6, '"dst_reg"'],
    [
      "GEMV flags=accm|sub_emax",
      "isa/asm-unknown-flag",
      'GEMV flags has no flag "sub_emax"',
      1,
      17,
      '"sub_emax"',
    ],
    [
      "GEMV src_addr=1 src_addr=2",
      "isa/asm-duplicate-field",
      "field src_addr is given twice",
      1,
      17,
      '"src_addr"',
    ],
    ["GEMV src_addr 1", "isa/asm-syntax", 'expected "=" after src_addr', 1, 15, '"1"'],
    ["GEMV src_addr=", "isa/asm-syntax", "expected a value for src_addr", 1, 15, "end of the line"],
    ["GEMV src_addr=@1", "isa/asm-syntax", "unexpected character", 1, 15, '"@"'],
    [
      "CVO cvo_func=SILU",
      "isa/bad-name",
      'CVO field cvo_func = "SILU" is not a known value',
      1,
      14,
      '"SILU"',
    ],
    ["CVO cvo_func=9", "isa/reserved-value", "CVO field cvo_func = 9 (0x9) is reserved", 1, 14, '"9"'],
    ["MEMSET dest_cache=2", "isa/reserved-value", "MEMSET field dest_cache = 2 is reserved", 1, 19, '"2"'],
    ["MEMSET dest_cache=bank9", "isa/bad-name", 'dest_cache = "bank9" is not a known name', 1, 19, '"bank9"'],
    [
      "MEMCPY from_device=1 to_device=1",
      "isa/reserved-combination",
      "direction host→host is reserved",
      1,
      1,
      '"MEMCPY"',
    ],
    ["a: GEMV\na: GEMV", "isa/asm-duplicate-label", "label a is already defined on line 1", 2, 1, '"a"'],
    [".word 0x10000000000000000", "isa/word-range", ".word value does not fit 64 bits", 1, 7, '"0x1'],
    ["GEMV dest_reg=99999999999999999999", "isa/field-range", "number too large", 1, 15, '"9999'],
  ];
  it.each(cases)("%j → %s", (src, code, message, line, column, token) => {
    const e = asmError(src);
    expect(e.code).toBe(code);
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(message);
    expect(e.message).toContain(token);
    expect(e.at).toEqual({ file: "t.pccxasm", line, column });
    expect(formatDiagnostic(e.toDiagnostic())).toContain(`--> t.pccxasm:${line}:${column}`);
  });
});

describe("disassembler", () => {
  it("prints every field in table order with labels, index and word; reassembles exactly", () => {
    const labels = [
      { name: "start", index: 0 },
      { name: "end", index: W.length },
    ];
    const text = disassemble(W, { labels, header: ["smoke"] });
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("; smoke");
    expect(lines[1]).toBe("start:");
    expect(lines[2]).toMatch(
      /^ {4}MEMSET dest_cache=fmap_shape dest_addr=3 a_value=1 b_value=1 c_value=9 +; 0: 0x3030001000100090$/,
    );
    expect(lines.filter((l) => l.includes("    GEMM dest_reg=512 src_addr=300 flags=w_scale "))).toHaveLength(
      1,
    );
    expect(lines.at(-1)).toBe("end:");
    const p = assemble(text);
    expect(Array.from(p.words)).toEqual(W);
    expect(p.labels).toEqual(labels);
  });

  it("lists every opcode's fields in the table's order", () => {
    for (const v of fixtureVectors) {
      const line = disassemble([BigInt(v.word)]).trim();
      const names = [...line.matchAll(/ ([a-z_]+)=/g)].map((m) => m[1]);
      const op = V002.opcodes.find((o) => o.mnemonic === v.opcode)!;
      expect(names).toEqual(op.fields.filter((f) => f.kind !== "reserved").map((f) => f.name));
    }
  });

  it("strict mode fails on the first invalid word with its location; lenient shows .word and the problem", () => {
    const memsetReserved = V002.opcodes[3].fields.find((f) => f.kind === "reserved")!;
    const bad = [MEMSET3, RESERVED_OP_WORD, MEMSET3 | (1n << BigInt(memsetReserved.lsb))];
    let err: unknown;
    try {
      disassemble(bad, { at: (i) => ({ file: "p.memh", line: i + 10 }) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PccxError);
    expect((err as PccxError).message).toBe(
      `word 1 (${RESERVED_OP_HEX}): opcode 0x5 is reserved (SPARSE_GEMV in v003)`,
    );
    expect((err as PccxError).at).toEqual({ file: "p.memh", line: 11 });
    const text = disassemble(bad, { lenient: true });
    expect(text).toContain(`.word ${formatWord(bad[1]!)}`);
    expect(text).toMatch(/; 1: invalid: opcode 0x5 is reserved/);
    expect(text).toMatch(/; 2: invalid: MEMSET reserved bits .* = 0x1 must be zero/);
    expect(Array.from(assemble(text).words)).toEqual(bad);
  });

  it("formatInstr normalises loose instructions (numeric codes, raw flags, aliases)", () => {
    const loose = decode(GEMV);
    const accm = 2 ** V002.opcodes[0].fields[2].bits[1].lsb; // GEMV flags.accm
    const raw = { opcode: "GEMV", fields: { ...loose.fields, flags: accm } };
    expect(formatInstr(raw)).toBe(formatInstr(loose));
    expect(formatInstr(raw)).toContain(" flags=accm ");
    const cvo = { opcode: "CVO", fields: { ...decode(CVO).fields, cvo_func: 5 } };
    expect(formatInstr(cvo)).toContain("cvo_func=REDUCE_SUM");
    expect(() => formatInstr({ opcode: "NOPE", fields: {} })).toThrow(/unknown opcode/);
  });

  it("an empty program gives an empty listing", () => {
    expect(disassemble([])).toBe("");
    expect(assemble("").words.length).toBe(0);
  });
});
