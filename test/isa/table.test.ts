import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PccxError } from "../../src/diag/index.js";
import { fieldShift } from "../../src/isa/compiled.js";
import {
  checkTable,
  compiledIsa,
  decode,
  encode,
  type IsaTable,
  type OpcodeSpec,
  renderCHeader,
  V002,
} from "../../src/isa/index.js";

/** V002 with one opcode's fields replaced. */
function withFields(
  mnemonic: string,
  edit: (fields: OpcodeSpec["fields"]) => OpcodeSpec["fields"],
): IsaTable {
  return {
    ...V002,
    opcodes: V002.opcodes.map((o) => (o.mnemonic === mnemonic ? { ...o, fields: edit(o.fields) } : o)),
  };
}

describe("the V002 table", () => {
  it("is consistent: every body bit of every opcode belongs to exactly one field", () => {
    expect(checkTable(V002)).toEqual([]);
  });

  it("has the five v002 opcodes at their codes, everything else reserved", () => {
    const isa = compiledIsa();
    expect(V002.opcodes.map((o) => [o.mnemonic, o.code])).toEqual([
      ["GEMV", 0],
      ["GEMM", 1],
      ["MEMCPY", 2],
      ["MEMSET", 3],
      ["CVO", 4],
    ]);
    expect(isa.byCode.map((o) => o?.mnemonic ?? null).slice(5)).toEqual(new Array(11).fill(null));
  });

  it("GEMV and GEMM share one body, stated once", () => {
    const [gemv, gemm] = V002.opcodes;
    expect(gemv.fields).toBe(gemm.fields);
  });
});

describe("checkTable finds broken tables", () => {
  const fieldOf = (m: string, name: string) =>
    V002.opcodes.find((o) => o.mnemonic === m)!.fields.find((f) => f.name === name)!;

  it("a bit left undescribed", () => {
    const res = fieldOf("MEMSET", "reserved");
    const bits = Array.from({ length: res.width }, (_, i) => res.lsb + i).join(", ");
    const t = withFields("MEMSET", (fs) => fs.filter((f) => f.kind !== "reserved"));
    expect(checkTable(t)).toEqual([`MEMSET: bits ${bits} are not described (list them as reserved)`]);
  });

  it("overlapping fields", () => {
    // widen src_addr by one bit: it takes the lowest bit of the field above it (dest_reg)
    const src = fieldOf("GEMV", "src_addr");
    const t = withFields("GEMV", (fs) =>
      fs.map((f) => (f.name === "src_addr" ? { ...f, width: f.width + 1 } : f)),
    );
    expect(checkTable(t).join("\n")).toContain(
      `bit ${src.lsb + src.width} belongs to both dest_reg and src_addr`,
    );
  });

  it("a field reaching into the opcode, an enum value that does not fit, a flag overlap", () => {
    const t1 = withFields("MEMCPY", (fs) =>
      fs.map((f) => (f.name === "from_device" ? { ...f, width: 2 } : f)),
    );
    expect(checkTable(t1).join("\n")).toContain(`reaches bit ${V002.opcode.lsb}, inside the opcode`);
    const t2 = withFields("CVO", (fs) =>
      fs.map((f) => (f.kind === "enum" ? { ...f, values: { ...f.values, HUGE: 16 } } : f)),
    );
    expect(checkTable(t2).join("\n")).toContain("enum value HUGE=16 does not fit");
    const t3 = withFields("CVO", (fs) =>
      fs.map((f) => (f.kind === "flags" ? { ...f, bits: [...f.bits, { ...f.bits[0]!, name: "dup" }] } : f)),
    );
    const first = V002.opcodes[4].fields[4].bits[0];
    expect(checkTable(t3).join("\n")).toContain(
      `flag bit ${first.lsb} belongs to both ${first.name} and dup`,
    );
  });

  it("duplicate opcode codes and mnemonics", () => {
    const t = { ...V002, opcodes: [...V002.opcodes, { ...V002.opcodes[0], mnemonic: "GEMV" }] };
    const problems = checkTable(t as IsaTable).join("\n");
    expect(problems).toContain("mnemonic GEMV is defined twice");
    expect(problems).toContain("opcode code 0 is used twice");
  });

  it("a broken table cannot be compiled (internal error, exit 70)", () => {
    const t = withFields("MEMSET", (fs) => fs.filter((f) => f.kind !== "reserved"));
    let err: unknown;
    try {
      compiledIsa({ table: t });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PccxError);
    expect((err as PccxError).exitCode).toBe(70);
  });
});

describe("a different table drives every view", () => {
  // A hypothetical v003-like table: adds SPARSE_GEMV at 0x5 with the GEMV body.
  const v003: IsaTable = {
    ...V002,
    name: "pccx-test",
    opcodes: [...V002.opcodes, { ...V002.opcodes[0], mnemonic: "SPARSE_GEMV", code: 5 }],
    reservedOpcodes: V002.reservedOpcodes.filter((r) => r.code !== 5),
  };

  it("encodes, decodes and renders the new opcode", () => {
    const instr = { opcode: "SPARSE_GEMV", fields: decode(0x0018000641008920n).fields };
    const w = encode(instr, { table: v003 });
    expect(w >> BigInt(V002.opcode.lsb)).toBe(5n);
    expect(decode(w, "strict", { table: v003 })).toEqual(instr);
    expect(decode(w, "lenient").ok).toBe(false);
    expect(renderCHeader({ table: v003 })).toContain("static inline uint64_t pccx_encode_sparse_gemv(");
  });
});

describe("fieldShift splits a field between the hi and lo halves", () => {
  it("places and reads back any field of any position like a 64-bit shift does (fast-check)", () => {
    const arb = fc
      .record({ width: fc.integer({ min: 1, max: 31 }), lsb: fc.integer({ min: 0, max: 63 }), v: fc.nat() })
      .filter(({ width, lsb }) => lsb + width <= 64);
    fc.assert(
      fc.property(arb, ({ width, lsb, v }) => {
        const value = v % 2 ** width;
        const s = fieldShift(lsb, width);
        const lo = ((value & s.mLo) << s.a) >>> 0;
        const hi = (((value >>> s.c) & s.mHi) << s.b) >>> 0;
        expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(BigInt(value) << BigInt(lsb));
        const back = (((lo >>> s.a) & s.mLo) | (((hi >>> s.b) & s.mHi) << s.c)) >>> 0;
        expect(back).toBe(value);
      }),
      { numRuns: 500 },
    );
  });
});
