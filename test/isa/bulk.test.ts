import { describe, expect, it } from "vitest";
import {
  allocColumns,
  BulkStatus,
  columnsOf,
  compiledIsa,
  decodeBulk,
  encodeBulk,
  type LooseInstr,
  pairsToWords,
  V002,
  wordsToPairs,
} from "../../src/isa/index.js";
import { thrown } from "../helpers/errors.js";
import { fieldBits, fixtureVectors, RESERVED_OP_HEX } from "./helpers.js";

const W = fixtureVectors.map((v) => BigInt(v.word));
const pairsOf = (words: bigint[]) => wordsToPairs(BigUint64Array.from(words));
const OP_LSB = BigInt(V002.opcode.lsb);

describe("decodeBulk", () => {
  const memset = V002.opcodes.find((o) => o.mnemonic === "MEMSET")!;
  const memsetReserved = fieldBits(memset.fields.find((f) => f.kind === "reserved")!);
  const cvoFunc = V002.opcodes.find((o) => o.mnemonic === "CVO")!.fields[0];
  const memcpy = V002.opcodes.find((o) => o.mnemonic === "MEMCPY")!;
  const hostToHost = (2n << OP_LSB) | fieldBits(memcpy.fields[0]) | fieldBits(memcpy.fields[1]);
  const bad = [
    W[0]!,
    5n << OP_LSB,
    W[0]! | memsetReserved,
    W[5]! | fieldBits(cvoFunc), // cvo_func = 0xF
    hostToHost,
    W[6]!,
  ];

  it("lenient mode gives a status per word", () => {
    const cols = decodeBulk(pairsOf(bad), { mode: "lenient" });
    expect(Array.from(cols.status)).toEqual([
      BulkStatus.OK,
      BulkStatus.RESERVED_OPCODE,
      BulkStatus.RESERVED_BITS,
      BulkStatus.RESERVED_VALUE,
      BulkStatus.RESERVED_COMBINATION,
      BulkStatus.OK,
    ]);
    expect(cols.invalid).toBe(4);
    expect(Array.from(cols.opcode)).toEqual([3, 5, 3, 4, 2, 2]);
  });

  it("strict mode throws the single-word error of the first invalid word, with its index", () => {
    const e = thrown(() => decodeBulk(pairsOf(bad)));
    expect(e.code).toBe("isa/reserved-opcode");
    expect(e.message).toBe(`word 1: word ${RESERVED_OP_HEX}: opcode 0x5 is reserved (SPARSE_GEMV in v003)`);
    expect(e.at?.byteOffset).toBe(8);
  });

  it("reuses output columns and resets their status", () => {
    const into = allocColumns(16);
    decodeBulk(pairsOf(bad), { mode: "lenient" }, into);
    const again = decodeBulk(pairsOf(W), {}, into);
    expect(again.count).toBe(W.length);
    expect(again.fields).toBe(into.fields);
    expect(Array.from(again.status.subarray(0, W.length))).toEqual(W.map(() => 0));
    expect(Array.from(pairsToWords(encodeBulk(again)))).toEqual(W);
  });

  it("respects target extensions", () => {
    const silu = columnsOf(
      [{ opcode: "CVO", fields: { ...fixtureVectors[5]!.fields, cvo_func: "SILU" } } as LooseInstr],
      {
        cvoExtensions: { SILU: 8 },
      },
    );
    const pairs = encodeBulk(silu, { cvoExtensions: { SILU: 8 } });
    expect(decodeBulk(pairs, { mode: "lenient" }).status[0]).toBe(BulkStatus.RESERVED_VALUE);
    expect(decodeBulk(pairs, { cvoExtensions: { SILU: 8 } }).invalid).toBe(0);
  });
});

describe("encodeBulk", () => {
  it("throws the precise error of the first bad row, with its index", () => {
    const cols = columnsOf(fixtureVectors as unknown as LooseInstr[]);
    const gemv = compiledIsa().byMnemonic.get("GEMV")!;
    const destReg = gemv.fieldByName.get("dest_reg")!;
    cols.fields[4 * cols.stride + destReg.slot] = destReg.mask + 1;
    const e = thrown(() => encodeBulk(cols));
    expect(e.code).toBe("isa/field-range");
    expect(e.message).toBe(
      `word 4: GEMV field dest_reg = ${destReg.mask + 1} is out of range: ${destReg.width} bits hold 0..${destReg.mask}`,
    );
    cols.fields[4 * cols.stride + destReg.slot] = 0;
    cols.opcode[2] = 9;
    expect(thrown(() => encodeBulk(cols)).message).toBe("word 2: opcode 0x9 is reserved");
  });

  it("rejects reserved values and combinations like the single-word encoder", () => {
    const cols = columnsOf(fixtureVectors as unknown as LooseInstr[]);
    const memcpy = compiledIsa().byMnemonic.get("MEMCPY")!;
    const [from, to] = [memcpy.fieldByName.get("from_device")!, memcpy.fieldByName.get("to_device")!];
    cols.fields[6 * cols.stride + from.slot] = 1;
    cols.fields[6 * cols.stride + to.slot] = 1;
    expect(thrown(() => encodeBulk(cols)).code).toBe("isa/reserved-combination");
  });

  it("checks the column stride and the output size", () => {
    const cols = columnsOf(fixtureVectors as unknown as LooseInstr[]);
    expect(() => encodeBulk({ ...cols, stride: cols.stride + 1 })).toThrow(RangeError);
    expect(() => encodeBulk(cols, {}, new Uint32Array(2))).toThrow(RangeError);
  });
});
