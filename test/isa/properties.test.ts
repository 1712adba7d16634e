import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PccxError } from "../../src/diag/index.js";
import {
  assemble,
  decode,
  decodeBulk,
  disassemble,
  encode,
  encodeBulk,
  type Instr,
  instrAt,
  type LooseInstr,
  pairsToWords,
  V002,
  wordsToPairs,
} from "../../src/isa/index.js";
import { arbAnyWord, arbInstr, arbInstrOf, arbValidWord, RUNS, refEncode, valueFields } from "./helpers.js";

describe("round trips (fast-check)", () => {
  it("decode ∘ encode = id on random valid instructions, and encode agrees with the reference", () => {
    fc.assert(
      fc.property(arbInstr, (instr) => {
        const w = encode(instr);
        expect(w).toBe(refEncode(instr));
        expect(decode(w)).toEqual(instr);
      }),
      RUNS,
    );
  });

  it("encode ∘ decode = id on random valid words", () => {
    fc.assert(
      fc.property(arbValidWord, (w) => {
        expect(encode(decode(w))).toBe(w);
      }),
      RUNS,
    );
  });

  it("asm ∘ disasm = id on random valid programs (labels kept)", () => {
    const arbLabels = fc.uniqueArray(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), { maxLength: 4 });
    fc.assert(
      fc.property(fc.array(arbValidWord, { minLength: 1, maxLength: 20 }), arbLabels, (words, names) => {
        const labels = names.map((name, i) => ({ name, index: Math.min(i * 3, words.length) }));
        const listing = disassemble(words, { labels });
        const p = assemble(listing);
        expect(Array.from(p.words)).toEqual(words);
        expect(p.labels).toEqual(labels);
      }),
      { numRuns: 150 },
    );
  });

  it("lenient disasm of any 64-bit words reassembles to the same words", () => {
    fc.assert(
      fc.property(fc.array(arbAnyWord, { minLength: 1, maxLength: 10 }), (words) => {
        expect(Array.from(assemble(disassemble(words, { lenient: true })).words)).toEqual(words);
      }),
      RUNS,
    );
  });

  it("lenient decode agrees with strict decode: ok exactly when strict decode succeeds", () => {
    fc.assert(
      fc.property(fc.oneof(arbAnyWord, arbValidWord), (w) => {
        const r = decode(w, "lenient");
        let strict: Instr | PccxError;
        try {
          strict = decode(w);
        } catch (e) {
          strict = e as PccxError;
        }
        if (r.ok) expect(strict).toEqual(r.instr);
        else {
          expect(strict).toBeInstanceOf(PccxError);
          expect((strict as PccxError).code).toBe(r.problems[0]!.code);
        }
      }),
      RUNS,
    );
  });

  it("bulk decode/encode equals the single-word codec on mixed valid and invalid words", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(arbValidWord, arbAnyWord), { maxLength: 40 }), (words) => {
        const cols = decodeBulk(wordsToPairs(BigUint64Array.from(words)), { mode: "lenient" });
        const valid = words.filter((_, i) => cols.status[i] === 0);
        expect(cols.invalid).toBe(words.length - valid.length);
        words.forEach((w, i) => {
          const r = decode(w, "lenient");
          expect(cols.status[i] === 0).toBe(r.ok);
          if (r.ok) expect(instrAt(cols, i)).toEqual(r.instr);
        });
        if (cols.invalid === 0) expect(Array.from(pairsToWords(encodeBulk(cols)))).toEqual(words);
      }),
      RUNS,
    );
  });
});

describe("field-range errors for every field (fast-check)", () => {
  for (const op of V002.opcodes) {
    for (const f of valueFields(op)) {
      it(`${op.mnemonic}.${f.name}: 2^${f.width} and above are rejected naming the opcode, field and value`, () => {
        const tooBig = fc.oneof(fc.constant(2 ** f.width), fc.integer({ min: 2 ** f.width, max: 2 ** 31 }));
        fc.assert(
          fc.property(arbInstrOf(op), tooBig, (instr, value) => {
            const bad = { opcode: op.mnemonic, fields: { ...instr.fields, [f.name]: value } } as LooseInstr;
            let err: unknown;
            try {
              encode(bad);
            } catch (e) {
              err = e;
            }
            expect(err).toBeInstanceOf(PccxError);
            const pe = err as PccxError;
            expect(pe.code).toBe("isa/field-range");
            expect(pe.exitCode).toBe(2);
            expect(pe.message).toContain(`${op.mnemonic} field ${f.name} = ${value}`);
            expect(pe.message).toContain(`${f.width} bits`);
            expect(pe.at?.jsonPath).toBe(`fields.${f.name}`);
          }),
          { numRuns: 40 },
        );
      });
    }
  }
});
