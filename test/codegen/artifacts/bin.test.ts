import * as zlib from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BIN_SECTIONS,
  crc32,
  encodeProgramBin,
  readProgramBin,
  readProgramJson,
  renderProgramJson,
} from "../../../src/codegen/artifacts/index.js";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import { encode, V002 } from "../../../src/isa/index.js";
import { FIXTURE } from "./fixture.js";
import { programArb } from "./helpers.js";

const bin = encodeProgramBin(FIXTURE);
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Directory entry of section `name`: { id, size, count, offset }. */
function section(b: Uint8Array, name: string) {
  const i = BIN_SECTIONS.findIndex((s) => s.name === name);
  const d = 64 + i * 16;
  const v = dv(b);
  return {
    id: v.getUint32(d, true),
    size: v.getUint32(d + 4, true),
    count: v.getUint32(d + 8, true),
    offset: v.getUint32(d + 12, true),
  };
}

/** Recompute the header CRC after editing bytes, so the deeper checks are reached. */
function resign(b: Uint8Array): Uint8Array {
  const v = dv(b);
  v.setUint32(56, 0, true);
  v.setUint32(56, crc32(b), true);
  return b;
}

function errorOf(fn: () => unknown): PccxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PccxError) return e;
    throw e;
  }
  throw new Error("expected a PccxError");
}

function patched(edit: (v: DataView, b: Uint8Array) => void, sign = true): Uint8Array {
  const b = bin.slice();
  edit(dv(b), b);
  return sign ? resign(b) : b;
}

describe("program.bin layout", () => {
  it("starts with the documented header", () => {
    const v = dv(bin);
    expect(new TextDecoder().decode(bin.subarray(0, 8))).toBe("PCCXPROG");
    expect([v.getUint16(8, true), v.getUint16(10, true), v.getUint32(12, true)]).toEqual([1, 1, 64]);
    expect(v.getUint32(16, true)).toBe(bin.length);
    expect(v.getUint32(20, true)).toBe(BIN_SECTIONS.length);
    expect([...bin.subarray(24, 32)]).toEqual([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
    expect(v.getUint32(52, true)).toBe(1);
    expect(v.getUint32(60, true)).toBe(4096); // context
    expect(bin.length % 8).toBe(0);
  });

  it("stores a CRC-32 equal to zlib's over the file with the CRC field zeroed", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    const zeroed = bin.slice();
    dv(zeroed).setUint32(56, 0, true);
    expect(dv(bin).getUint32(56, true)).toBe(crc32(zeroed));
    const z = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
    if (z) expect(crc32(zeroed)).toBe(z(zeroed));
  });

  it("lays the sections out in directory order, 8-byte aligned, with the documented record sizes and counts", () => {
    let end = 64 + BIN_SECTIONS.length * 16;
    for (const [i, s] of BIN_SECTIONS.entries()) {
      const e = section(bin, s.name);
      expect(e.id).toBe(i + 1);
      expect(e.size).toBe(s.size);
      expect(e.offset % 8).toBe(0);
      expect(e.offset).toBeGreaterThanOrEqual(end);
      end = e.offset + e.size * e.count;
    }
    expect(section(bin, "segments").count).toBe(3);
    expect(section(bin, "steps").count).toBe(22);
    expect(section(bin, "relocs").count).toBe(5);
    expect(section(bin, "ddr").count).toBe(6);
    // origins are deduplicated: 22 steps share 9 distinct origins
    expect(section(bin, "origins").count).toBe(9);
  });

  it("holds a segment as name, kind, first step, step count, max_pos and flags (32 bytes)", () => {
    const segs = section(bin, "segments");
    const v = dv(bin);
    const rec = (i: number) => {
      const o = segs.offset + i * 32;
      return [
        v.getUint8(o + 4),
        v.getUint32(o + 8, true),
        v.getUint32(o + 12, true),
        v.getBigInt64(o + 16, true),
        v.getUint32(o + 24, true),
        v.getUint32(o + 28, true),
      ];
    };
    expect(segs.size).toBe(32);
    expect(rec(0)).toEqual([0, 0, 4, 0n, 0, 0]); // load: no max_pos
    expect(rec(1)).toEqual([1, 4, 3, 4032n, 1, 0]); // prefill: max_pos 4032, flag bit 0
    expect(rec(2)).toEqual([2, 7, 15, 0n, 0, 0]);
    const neg = { ...FIXTURE, segments: FIXTURE.segments.map((s) => ({ ...s, maxPos: -5 })) };
    const nb = encodeProgramBin(neg);
    expect(dv(nb).getBigInt64(section(nb, "segments").offset + 16, true)).toBe(-5n);
    expect(readProgramBin(nb)).toEqual(neg);
  });

  it("holds an NPU step as kind, opcode, origin and the raw word (what a C reader sees)", () => {
    const steps = section(bin, "steps");
    const o = steps.offset + (4 + 3 + 5) * 32; // decode step 5, the GEMV
    const v = dv(bin);
    expect([v.getUint8(o), v.getUint8(o + 1)]).toEqual([0, 0]);
    expect(v.getBigUint64(o + 8, true)).toBe(0x0018000641008920n);
    const dma = steps.offset + (4 + 3 + 4) * 32; // decode step 4: hp2, offset 4096, bytes 2048, tag 2
    expect(v.getUint8(dma)).toBe(1);
    expect(v.getUint8(dma + 1)).toBe(2); // hp2
    expect([
      v.getBigUint64(dma + 8, true),
      v.getBigUint64(dma + 16, true),
      v.getUint32(dma + 28, true),
    ]).toEqual([4096n, 2048n, 2]);
  });

  it("gives each relocation the field's bit position, so a C driver can patch the word without tables", () => {
    const r = section(bin, "relocs").offset + 1 * 48; // decode step 3 MEMSET b_value = kv_len[0]
    const v = dv(bin);
    const memset = V002.opcodes.find((o) => o.mnemonic === "MEMSET")!;
    const id = memset.fields.findIndex((f) => f.name === "b_value");
    expect([v.getUint32(r, true), v.getUint32(r + 4, true)]).toEqual([2, 3]);
    expect([v.getUint16(r + 12, true), v.getUint8(r + 14), v.getUint8(r + 15)]).toEqual([
      id,
      memset.fields[id]!.lsb,
      16,
    ]);
    // patch as C would: clear the field's bits, or in the new value
    const o = section(bin, "steps").offset + (4 + 3 + 3) * 32;
    const word = v.getBigUint64(o + 8, true);
    const lsb = BigInt(v.getUint8(r + 14));
    const mask = ((1n << BigInt(v.getUint8(r + 15))) - 1n) << lsb;
    const patchedWord = (word & ~mask) | (37n << lsb);
    expect(patchedWord).toBe(
      encode({
        opcode: "MEMSET",
        fields: { dest_cache: 0, dest_addr: 5, a_value: 1, b_value: 37, c_value: 64 },
      }),
    );
    // a DMA field has id 0x8000 + index (offset 0, bytes 1) and width 0
    const d = section(bin, "relocs").offset + 2 * 48;
    expect([v.getUint16(d + 12, true), v.getUint8(d + 15), v.getUint16(d + 46, true)]).toEqual([
      0x8001, 0, 3,
    ]);
    // a host operand field has id 0x4000 + 2 × operand (inputs first) + (0 offset, 1 elements)
    const h = section(bin, "relocs").offset + 4 * 48; // decode step 12 outputs[0].offset: operand 1
    expect([v.getUint16(h + 12, true), v.getUint8(h + 15)]).toEqual([0x4002, 0]);
  });

  it("is deterministic", () => {
    expect(encodeProgramBin(structuredClone(FIXTURE))).toEqual(bin);
  });
});

describe("readProgramBin", () => {
  it("reads the fixture back to the Program, equal to the JSON round trip", () => {
    const p = readProgramBin(bin);
    expect(p).toEqual(FIXTURE);
    expect(p).toEqual(readProgramJson(renderProgramJson(FIXTURE)));
  });

  it("agrees with the JSON round trip on generated programs", () => {
    fc.assert(
      fc.property(programArb, (prog) => {
        const viaBin = readProgramBin(encodeProgramBin(prog));
        expect(viaBin).toEqual(readProgramJson(renderProgramJson(prog)));
        expect(viaBin).toEqual(prog);
      }),
      { numRuns: 150 },
    );
  });

  const cases: [string, () => Uint8Array, string, number?][] = [
    ["bad magic", () => patched((_, b) => b.set([0x58], 0)), "artifacts/bin-magic", 0],
    ["unknown major version", () => patched((v) => v.setUint16(8, 2, true)), "artifacts/bin-version", 8],
    ["truncated file", () => bin.slice(0, bin.length - 8), "artifacts/bin-truncated", 16],
    ["shorter than a header", () => bin.slice(0, 40), "artifacts/bin-truncated"],
    [
      "damaged byte",
      () => patched((_, b) => (b[bin.length - 20] = b[bin.length - 20]! ^ 1), false),
      "artifacts/bin-checksum",
      56,
    ],
    ["a header size below 64", () => patched((v) => v.setUint32(12, 56, true)), "artifacts/bin-header", 12],
    [
      "section outside the file",
      () => patched((v) => v.setUint32(64 + 3 * 16 + 8, 1e6, true)),
      "artifacts/bin-directory",
      64 + 3 * 16 + 12,
    ],
    [
      "misaligned section",
      () => patched((v) => v.setUint32(64 + 3 * 16 + 12, v.getUint32(64 + 3 * 16 + 12, true) + 4, true)),
      "artifacts/bin-directory",
    ],
    ["missing section", () => patched((v) => v.setUint32(64 + 2 * 16, 99, true)), "artifacts/bin-directory"],
    [
      "record size too small",
      () => patched((v) => v.setUint32(64 + 3 * 16 + 4, 24, true)),
      "artifacts/bin-directory",
      64 + 3 * 16 + 4,
    ],
    [
      "string offset outside the table",
      () => patched((v) => v.setUint32(40, 0xfffff, true)),
      "artifacts/bin-string",
      40,
    ],
    ["fingerprint bytes", () => patched((_, b) => (b[27] = b[27]! ^ 0xff)), "artifacts/bin-fingerprint", 27],
    [
      "unknown step kind",
      () => patched((_, b) => (b[section(bin, "steps").offset] = 9)),
      "artifacts/bin-value",
    ],
    [
      "reserved opcode in a word",
      () => patched((v) => v.setUint8(section(bin, "steps").offset + 15, 0x50)),
      "isa/reserved-opcode",
    ],
    [
      "opcode byte disagreeing with the word",
      () => patched((v) => v.setUint8(section(bin, "steps").offset + 1, 4)),
      "artifacts/bin-value",
    ],
    [
      "origin index out of range",
      () => patched((v) => v.setUint32(section(bin, "steps").offset + 4, 500, true)),
      "artifacts/bin-bounds",
    ],
    [
      "relocation field id disagreeing with its name",
      () => patched((v) => v.setUint16(section(bin, "relocs").offset + 48 + 12, 2, true)),
      "artifacts/bin-value",
    ],
    [
      "padding bytes not zero",
      () => patched((_, b) => (b[section(bin, "segments").offset + 5] = 1)),
      "artifacts/bin-reserved",
    ],
    [
      "unknown segment flag bits",
      () => patched((_, b) => (b[section(bin, "segments").offset + 24] = 2)),
      "artifacts/bin-reserved",
    ],
    [
      "a max_pos without its flag",
      () => patched((_, b) => (b[section(bin, "segments").offset + 16] = 7)),
      "artifacts/bin-reserved",
    ],
    [
      "a segment record size of neither version 1.0 nor 1.1",
      () => patched((v) => v.setUint32(64 + 2 * 16 + 4, 24, true)),
      "artifacts/bin-directory",
      64 + 2 * 16 + 4,
    ],
    [
      "relocation of a missing step",
      () => patched((v) => v.setUint32(section(bin, "relocs").offset + 4, 40, true)),
      "artifacts/bin-bounds",
    ],
  ];
  for (const [what, make, code, byte] of cases) {
    it(`rejects ${what} with ${code} (exit 2)${byte !== undefined ? ` at byte ${byte}` : ""}`, () => {
      const e = errorOf(() => readProgramBin(make(), { file: "out/program.bin" }));
      expect(e.code).toBe(code);
      expect(e.exitCode).toBe(ExitCode.INVALID_INPUT);
      expect(e.at?.file).toBe("out/program.bin");
      if (byte !== undefined) expect(e.at?.byteOffset).toBe(byte);
    });
  }

  it("rejects invalid UTF-8 in the string table", () => {
    const strings = section(bin, "strings");
    const b = patched((_, x) => (x[strings.offset + 1] = 0xff));
    const e = errorOf(() => readProgramBin(b));
    expect(e.code).toBe("artifacts/bin-string");
    expect(e.message).toContain("not valid UTF-8");
  });

  it("skips a section it does not know (one a later minor version adds)", () => {
    const n = BIN_SECTIONS.length;
    const dirEnd = 64 + n * 16;
    const b = new Uint8Array(bin.length + 16);
    b.set(bin.subarray(0, dirEnd));
    b.set(bin.subarray(dirEnd), dirEnd + 16);
    const v = dv(b);
    v.setUint32(16, b.length, true);
    v.setUint32(20, n + 1, true);
    v.setUint16(10, 1, true); // version 1.1
    for (let i = 0; i < n; i++) v.setUint32(64 + i * 16 + 12, v.getUint32(64 + i * 16 + 12, true) + 16, true);
    for (const [k, x] of [99, 8, 0, b.length].entries()) v.setUint32(dirEnd + k * 4, x, true);
    expect(readProgramBin(resign(b))).toEqual(FIXTURE);
  });

  it("reads a version 1.0 file (16-byte segment records, no max_pos)", () => {
    const b = bin.slice();
    const v = dv(b);
    const segs = section(bin, "segments");
    // 1.0 segment records are the first 16 bytes of 1.1's; the rest of the old section is a gap
    const old = new Uint8Array(segs.count * 32);
    for (let i = 0; i < segs.count; i++)
      old.set(bin.subarray(segs.offset + i * 32, segs.offset + i * 32 + 16), i * 16);
    b.set(old, segs.offset);
    v.setUint32(64 + 2 * 16 + 4, 16, true);
    v.setUint16(10, 0, true);
    const { maxPos: _, ...prefill } = FIXTURE.segments[1]!;
    const want = { ...FIXTURE, segments: [FIXTURE.segments[0]!, prefill, FIXTURE.segments[2]!] };
    expect(readProgramBin(resign(b))).toEqual(want);
  });

  it("rejects a section listed twice", () => {
    const b = patched((v) => v.setUint32(64 + 16, 1, true));
    expect(errorOf(() => readProgramBin(b)).message).toContain("section strings (id 1) appears twice");
  });
});
