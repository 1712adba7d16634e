/**
 * `npm run bench isa`: encode and decode throughput of the bulk paths on 1M random valid words (a
 * seeded mix of every opcode with random valid field values, drawn from the compiled table).
 * Targets: ≥ 20 M words/s each. The single-word bigint/object codec is measured for reference.
 */
import {
  allocColumns,
  compiledIsa,
  decode,
  decodeBulk,
  encode,
  encodeBulk,
  type Instr,
  type InstrColumns,
  pairsToWords,
} from "../src/isa/index.js";
import { mulberry32 } from "../src/util/random.js";
import type { BenchFigure, BenchSuite } from "./types.js";

const WORDS = 1 << 20;
const REPEATS = 5;
const SINGLE = 100_000;

/** `n` rows of random valid instructions, as columns. */
export function randomColumns(n: number, seed = 1): InstrColumns {
  const isa = compiledIsa();
  const ops = isa.byCode.filter((o) => o !== undefined);
  const domains = ops.map((op) =>
    op.valueFields.map((f) => (f.valid ? [...f.valid.keys()].filter((v) => f.valid![v]) : undefined)),
  );
  const rnd = mulberry32(seed); // seeded, so every run measures the same words
  const cols = allocColumns(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rnd() * ops.length);
    const op = ops[k]!;
    const base = i * cols.stride;
    cols.opcode[i] = op.code;
    do {
      op.valueFields.forEach((f, j) => {
        const d = domains[k]![j];
        cols.fields[base + j] = d ? d[Math.floor(rnd() * d.length)]! : Math.floor(rnd() * (f.limit + 1));
      });
    } while (op.combinations.some((c) => c.slots.every((s, m) => cols.fields[base + s] === c.values[m])));
  }
  return cols;
}

function best(f: () => void): number {
  let t = Number.POSITIVE_INFINITY;
  for (let r = 0; r < REPEATS; r++) {
    const start = process.hrtime.bigint();
    f();
    t = Math.min(t, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return t;
}

async function run(): Promise<readonly BenchFigure[]> {
  const cols = randomColumns(WORDS);
  const pairs = encodeBulk(cols);
  const out = new Uint32Array(pairs.length);
  const tEnc = best(() => encodeBulk(cols, {}, out));
  let decoded = allocColumns(WORDS);
  const tDec = best(() => {
    decoded = decodeBulk(pairs, {}, decoded);
  });
  if (decoded.invalid !== 0 || !decoded.fields.every((v, i) => v === cols.fields[i])) {
    throw new Error("bench: bulk decode did not reproduce the encoded columns");
  }
  const words = pairsToWords(pairs).slice(0, SINGLE);
  let instrs: Instr[] = [];
  const tOne = best(() => {
    instrs = Array.from(words, (w) => decode(w));
  });
  const tOneEnc = best(() => {
    for (const i of instrs) encode(i);
  });
  const target = { op: ">=", value: 20e6 } as const;
  const note = `${WORDS} random valid words, best of ${REPEATS}`;
  return [
    { name: "encode (bulk)", value: WORDS / tEnc, unit: "words/s", target, note },
    { name: "decode (bulk)", value: WORDS / tDec, unit: "words/s", target, note },
    { name: "encode (single, Instr → bigint)", value: SINGLE / tOneEnc, unit: "words/s", note: "reference" },
    { name: "decode (single, bigint → Instr)", value: SINGLE / tOne, unit: "words/s", note: "reference" },
  ];
}

export const isaSuite: BenchSuite = { name: "isa", run };
