import { describe, expect, it } from "vitest";
import {
  decode,
  disassemble,
  encode,
  type FieldSpec,
  type FieldsOf,
  formatInstr,
  type Instr,
  type InstrOf,
  type LooseInstr,
  type OpcodeSpec,
  parseWordLiteral,
  V002,
} from "../../src/isa/index.js";
import { thrown } from "../helpers/errors.js";
import { fieldBits, fixtureVectors, refEncode } from "./helpers.js";

const op = (m: string): OpcodeSpec => V002.opcodes.find((o) => o.mnemonic === m)!;
const field = (m: string, f: string): FieldSpec => op(m).fields.find((x) => x.name === f)!;
const flagBit = (m: string, name: string) => {
  const f = field(m, "flags");
  return f.kind === "flags" ? f.bits.find((b) => b.name === name)! : undefined!;
};
const OPCODE_LSB = BigInt(V002.opcode.lsb);

const gemv: Instr = {
  opcode: "GEMV",
  fields: {
    dest_reg: 768,
    src_addr: 400,
    flags: { findemax: 0, accm: 1, w_scale: 0 },
    size_ptr_addr: 2,
    shape_ptr_addr: 9,
    parallel_lane: 4,
  },
};
const memcpyL2: Instr = {
  opcode: "MEMCPY",
  fields: {
    from_device: 0,
    to_device: 0,
    dest_addr: 1,
    src_addr: 2,
    aux_addr: 0,
    shape_ptr_addr: 3,
    async: 1,
  },
};
const cvo = fixtureVectors.find((v) => v.opcode === "CVO")!;
const cvoWord = BigInt(cvo.word);
const funcBits = fieldBits(field("CVO", "cvo_func"));

describe("typed instructions", () => {
  it("type-checks fields per opcode (compile-time assertions)", () => {
    const ok: Instr = {
      opcode: "CVO",
      fields: { ...(decode(cvoWord) as InstrOf<"CVO">).fields, cvo_func: "EXP" },
    };
    // @ts-expect-error: GEMV has no length field
    const bad: Instr = { opcode: "GEMV", fields: { ...gemv.fields, length: 3 } };
    const two = 2;
    // @ts-expect-error: flags bits are 0 | 1
    const badFlags: FieldsOf<"GEMV">["flags"] = { findemax: two, accm: 0, w_scale: 0 };
    const badFlag: Instr = { opcode: "GEMV", fields: { ...gemv.fields, flags: badFlags } };
    expect([ok, bad, badFlag].map((i) => i.opcode)).toEqual(["CVO", "GEMV", "GEMV"]);
    if (ok.opcode === "CVO") expect(ok.fields.cvo_func).toBe("EXP");
  });

  it("encodes names, numbers, aliases and raw flags the same way", () => {
    const memset = fixtureVectors[0]!;
    const viaAlias = { opcode: "MEMSET", fields: { ...memset.fields, dest_cache: "fmap_shape" } };
    expect(encode(viaAlias as LooseInstr)).toBe(BigInt(memset.word));
    const rawFlags = { ...gemv, fields: { ...gemv.fields, flags: 2 ** flagBit("GEMV", "accm").lsb } };
    expect(encode(rawFlags as LooseInstr)).toBe(encode(gemv));
    const partialFlags = { ...gemv, fields: { ...gemv.fields, flags: { accm: 1 } } };
    expect(encode(partialFlags as LooseInstr)).toBe(encode(gemv));
    const numericFunc = { opcode: "CVO", fields: { ...cvo.fields, cvo_func: 5 } };
    expect(encode(numericFunc as LooseInstr)).toBe(cvoWord);
  });
});

describe("encode errors name the opcode, the field and the value", () => {
  it("unknown opcode", () => {
    const e = thrown(() => encode({ opcode: "SPARSE_GEMV", fields: {} }));
    expect([e.code, e.exitCode]).toEqual(["isa/unknown-opcode", 2]);
    expect(e.message).toContain('"SPARSE_GEMV"');
    expect(e.fix).toContain("GEMV, GEMM, MEMCPY, MEMSET, CVO");
  });

  it("unknown and missing fields", () => {
    const extra = thrown(() => encode({ opcode: "GEMV", fields: { ...gemv.fields, length: 1 } }));
    expect(extra.code).toBe("isa/unknown-field");
    expect(extra.message).toBe('GEMV has no field "length"');
    const { dest_reg: _, ...rest } = gemv.fields as Record<string, unknown>;
    const missing = thrown(() => encode({ opcode: "GEMV", fields: rest }));
    expect(missing.code).toBe("isa/missing-field");
    expect(missing.message).toBe("GEMV field dest_reg is missing");
  });

  it("bad enum name, bad flag name, flag value not 0/1, non-integer value", () => {
    const name = thrown(() => encode({ opcode: "CVO", fields: { ...cvo.fields, cvo_func: "SILU" } }));
    expect(name.code).toBe("isa/bad-name");
    expect(name.message).toBe('CVO field cvo_func = "SILU" is not a known value');
    expect(name.notes.join()).toContain("extension");
    const flag = thrown(() =>
      encode({ ...gemv, fields: { ...gemv.fields, flags: { sub_emax: 1 } } } as LooseInstr),
    );
    expect(flag.code).toBe("isa/bad-flag");
    expect(flag.message).toBe('GEMV field flags has no flag "sub_emax"');
    expect(flag.at?.jsonPath).toBe("fields.flags.sub_emax");
    const bit = thrown(() =>
      encode({ ...gemv, fields: { ...gemv.fields, flags: { accm: 2 } } } as LooseInstr),
    );
    expect([bit.code, bit.message]).toEqual(["isa/field-range", "GEMV flag flags.accm = 2 must be 0 or 1"]);
    const frac = thrown(() => encode({ ...gemv, fields: { ...gemv.fields, dest_reg: 1.5 } } as LooseInstr));
    expect(frac.code).toBe("isa/field-type");
    expect(frac.message).toContain("GEMV field dest_reg = 1.5");
  });

  it("reserved values: MEMSET dest_cache 2..3 and CVO functions 8..15", () => {
    const bank = thrown(() =>
      encode({ opcode: "MEMSET", fields: { ...fixtureVectors[0]!.fields, dest_cache: 2 } }),
    );
    expect(bank.code).toBe("isa/reserved-value");
    expect(bank.message).toContain("MEMSET field dest_cache = 2 is reserved (valid: 0..1");
    for (let code = 8; code <= 15; code++) {
      const f = thrown(() => encode({ opcode: "CVO", fields: { ...cvo.fields, cvo_func: code } }));
      expect(f.code).toBe("isa/reserved-value");
      expect(f.message).toContain(
        `CVO field cvo_func = ${code} (0x${code.toString(16).toUpperCase()}) is reserved`,
      );
    }
  });

  it("reserved flag bits in a raw flags value", () => {
    const flags = field("GEMV", "flags");
    const res = flagBit("GEMV", "reserved");
    const value = 2 ** res.lsb;
    const e = thrown(() => encode({ ...gemv, fields: { ...gemv.fields, flags: value } } as LooseInstr));
    expect(e.code).toBe("isa/reserved-bits");
    const lsb = flags.lsb + res.lsb;
    expect(e.message).toContain(
      `GEMV field flags = 0x${value.toString(16).toUpperCase()} sets reserved bits`,
    );
    expect(e.message).toContain(`${lsb + res.width - 1}:${lsb}`);
  });

  it("MEMCPY direction (1,1) is reserved; the three documented directions encode", () => {
    for (const [from, to] of [
      [0, 0],
      [1, 0],
      [0, 1],
    ]) {
      const i = { opcode: "MEMCPY", fields: { ...memcpyL2.fields, from_device: from, to_device: to } };
      expect(encode(i as LooseInstr)).toBe(refEncode(i));
    }
    const e = thrown(() =>
      encode({ opcode: "MEMCPY", fields: { ...memcpyL2.fields, from_device: 1, to_device: 1 } }),
    );
    expect(e.code).toBe("isa/reserved-combination");
    expect(e.message).toContain("MEMCPY from_device=1, to_device=1: direction host→host is reserved");
  });
});

describe("decode errors (strict) and problems (lenient)", () => {
  it("reserved opcodes 0x5..0xF", () => {
    for (let code = 5; code < 16; code++) {
      const w = BigInt(code) << OPCODE_LSB;
      const e = thrown(() => decode(w));
      expect(e.code).toBe("isa/reserved-opcode");
      expect(e.message).toContain(`opcode 0x${code.toString(16).toUpperCase()} is reserved`);
      const r = decode(w, "lenient");
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problems[0]).toMatchObject({ field: "opcode", value: code });
    }
    expect(thrown(() => decode(5n << OPCODE_LSB)).message).toContain("SPARSE_GEMV in v003");
  });

  it("non-zero reserved bits, for every reserved field and sub-field of every opcode", () => {
    for (const o of V002.opcodes as readonly OpcodeSpec[]) {
      for (const f of o.fields) {
        const spans =
          f.kind === "reserved"
            ? [{ lsb: f.lsb, width: f.width }]
            : f.kind === "flags"
              ? f.bits
                  .filter((b) => b.kind === "reserved")
                  .map((b) => ({ lsb: f.lsb + b.lsb, width: b.width }))
              : [];
        for (const s of spans) {
          const w = (BigInt(o.code) << OPCODE_LSB) | fieldBits(s);
          const e = thrown(() => decode(w));
          expect(e.code).toBe("isa/reserved-bits");
          const range = s.width === 1 ? `${s.lsb}` : `${s.lsb + s.width - 1}:${s.lsb}`;
          expect(e.message).toContain(o.mnemonic);
          expect(e.message).toContain(range);
        }
      }
    }
  });

  it("lenient decode lists every problem with its raw fields", () => {
    const memsetRes = fieldBits(op("MEMSET").fields.find((f) => f.kind === "reserved")!);
    const w = BigInt(fixtureVectors[0]!.word) | memsetRes | (3n << BigInt(field("MEMSET", "dest_cache").lsb));
    const r = decode(w, "lenient");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.mnemonic).toBe("MEMSET");
    expect(r.raw).toMatchObject({ dest_cache: 3, dest_addr: 3, c_value: 9 });
    expect(r.problems.map((p) => p.code).sort()).toEqual(["isa/reserved-bits", "isa/reserved-value"]);
    const e = thrown(() => decode(w));
    expect(e.notes).toHaveLength(1);
  });

  it("rejects values that are not 64-bit words", () => {
    expect(thrown(() => decode(-1n)).code).toBe("isa/word-range");
    expect(thrown(() => decode(1n << 64n)).code).toBe("isa/word-range");
  });
});

describe("CVO extensions", () => {
  const silu = { opcode: "CVO", fields: { ...cvo.fields, cvo_func: "SILU" } } as LooseInstr;
  const opts = { cvoExtensions: { SILU: 8 } };
  const siluWord = (cvoWord & ~funcBits) | (8n << BigInt(field("CVO", "cvo_func").lsb));

  it("a target may name codes 0x8..0xF; encode, decode, format and disasm use the name", () => {
    expect(encode(silu, opts)).toBe(siluWord);
    expect(decode(siluWord, "strict", opts)).toEqual(silu);
    expect(formatInstr(silu, opts)).toContain("cvo_func=SILU");
    expect(disassemble([siluWord], opts)).toContain("CVO cvo_func=SILU");
    // without the extension the same word is invalid
    expect(thrown(() => decode(siluWord)).code).toBe("isa/reserved-value");
    expect(thrown(() => encode(silu)).code).toBe("isa/bad-name");
  });

  it("rejects extension codes outside 0x8..0xF, taken names, reused codes and bad keys", () => {
    expect(thrown(() => encode(silu, { cvoExtensions: { SILU: 3 } })).code).toBe("isa/bad-extension");
    expect(thrown(() => encode(silu, { cvoExtensions: { SILU: 16 } })).message).toContain("0x8–0xF");
    expect(thrown(() => encode(silu, { cvoExtensions: { EXP: 9 } })).message).toContain("already defined");
    expect(thrown(() => encode(silu, { cvoExtensions: { SILU: 8, TANH: 8 } })).message).toContain(
      "reuses code",
    );
    expect(thrown(() => encode(silu, { cvoExtensions: { silu: 8 } })).code).toBe("isa/bad-extension");
    expect(thrown(() => encode(gemv, { extensions: { "GEMV.flags": { X: 1 } } })).code).toBe(
      "isa/bad-extension",
    );
  });
});

describe("word literals", () => {
  it("reads 0x hex, 16-digit memh form and decimal", () => {
    expect(parseWordLiteral("0x3030001000100090")).toBe(0x3030001000100090n);
    expect(parseWordLiteral("3030001000100090")).toBe(0x3030001000100090n);
    expect(parseWordLiteral("42")).toBe(42n);
    expect(thrown(() => parseWordLiteral("0x1" + "0".repeat(16))).code).toBe("isa/bad-word");
    expect(thrown(() => parseWordLiteral("hello")).message).toContain('"hello"');
  });
});
