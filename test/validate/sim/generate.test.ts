import { describe, expect, it } from "vitest";
import type { Relocation, Variable } from "../../../src/codegen/program.js";
import {
  compareToGolden,
  driverVariables,
  imageFromRegions,
  ringSlot,
  simulateGeneration,
} from "../../../src/validate/sim/index.js";
import { bf16Bytes, dma, gemv, KV260, memcpy, memset, program, region, storeL2, tile } from "./helpers.js";

// A bigram "model": logits = W · embed[token], vocab 4, hidden 8. W row v has a 1 at column (v+1)
// mod 4 of the hidden part the embedding of token v lights up, so the greedy chain is 0 → 1 → 2 → 3 → 0.
const VOCAB = 4;
const embed = Array.from({ length: VOCAB }, (_, v) =>
  Array.from({ length: 8 }, (_, j) => (j === v ? 1 : 0.125 * j)),
);
const W = Array.from({ length: VOCAB }, (_, r) =>
  Array.from({ length: 8 }, (_, j) => (j === (r + 3) % 4 ? 7 : j === 7 ? -1 : 0)),
);
const scales = [0.5, 0.25, 0.5, 0.25];

function bigram() {
  const w0 = tile(W.slice(0, 2), scales.slice(0, 2));
  const w1 = tile(W.slice(2), scales.slice(2));
  const steps = [
    memset(0, 1, 1, 1, 8),
    dma("acp_fmap", "embed", 0, 16, 1),
    memcpy("h2l", 0, 0, 1),
    memset(0, 2, 1, VOCAB, 8),
    memset(1, 3, 0, 0, 0),
    dma("hp2", "w", 0, w0.length),
    dma("hp3", "w", w0.length, w1.length),
    gemv(10, 0, 2, 3, { w_scale: 1 }),
    ...storeL2("logits", 10, VOCAB, 4),
  ];
  const relocations: Relocation[] = [
    {
      segment: "decode",
      step: 1,
      field: "offset",
      expr: { base: 0, terms: [{ variable: "token", stride: 16 }] },
    },
  ];
  const variables: Variable[] = [
    { name: "token", doc: "input token id", setBy: "driver" },
    { name: "pos", doc: "position", setBy: "driver" },
  ];
  const p = program(
    { decode: steps },
    [
      region("embed", 64, "embedding"),
      region("w", w0.length + w1.length, "weights"),
      region("logits", 16, "logits"),
    ],
    {
      relocations,
      variables,
    },
  );
  const image = imageFromRegions({
    embed: bf16Bytes(embed.flat()),
    w: new Uint8Array([...w0, ...w1]),
  });
  return { p, image };
}

/** The same model in float64: the reference the simulator must reproduce. */
function reference(prompt: number[], n: number) {
  const logitsOf = (t: number) =>
    Float64Array.from(
      W.map((row, r) => scales[r]! * row.reduce((a: number, w, j) => a + w * embed[t]![j]!, 0)),
    );
  const steps: Float64Array[] = [];
  const tokens: number[] = [];
  let logits = logitsOf(prompt[prompt.length - 1]!);
  for (let i = 0; i < n; i++) {
    steps.push(logits);
    let best = 0;
    for (let v = 1; v < VOCAB; v++) if (logits[v]! > logits[best]!) best = v;
    tokens.push(best);
    logits = logitsOf(best);
  }
  return { prefill: [], steps, tokens };
}

describe("simulateGeneration: the driver loop", () => {
  it("prefills token by token, decodes greedily and matches the reference (exact mode)", () => {
    const { p, image } = bigram();
    const sim = simulateGeneration(p, image, KV260, [2, 0], 6, "exact", { logits: { vocab: VOCAB } });
    expect(sim.faults).toEqual([]);
    const ref = reference([2, 0], 6);
    expect(sim.tokens).toEqual([1, 2, 3, 0, 1, 2]);
    const cmp = compareToGolden(sim, ref);
    expect(cmp.tokensEqual).toBe(true);
    expect(cmp.worst.maxRelErr).toBeLessThan(1e-6);
    expect(cmp.top1Agreement).toBe(1);
    expect(sim.prefill).toHaveLength(2);
    // 2 prompt runs + 5 decode runs (the last token is chosen without another run).
    expect(sim.stats.macs).toBe(7 * VOCAB * 8);
  });

  it("hardware mode stays close to the reference with the same tokens", () => {
    const { p, image } = bigram();
    const cmp = compareToGolden(
      simulateGeneration(p, image, KV260, [3], 4, "hardware", { logits: { vocab: VOCAB } }),
      reference([3], 4),
    );
    expect(cmp.tokensEqual).toBe(true);
    expect(cmp.worst.cosine).toBeGreaterThan(0.999);
  });
});

describe("driver variables (docs/program.md §2)", () => {
  const vars = (
    names: string[],
    extra: Partial<Variable & { window: number; slots: number; sink: number }>[] = [],
  ): Variable[] => names.map((name, i) => ({ name, doc: "", setBy: "driver", ...extra[i] }) as Variable);

  it("pos, token, kv_len with a window, kv_slot in a ring, chunk variables", () => {
    const v = vars(
      ["pos", "token", "kv_len[0]", "kv_len[1]", "kv_slot[1]", "chunk_len", "token[0]", "token[1]"],
      [{}, {}, {}, { window: 4 }, { slots: 4 }],
    );
    expect(driverVariables(v, 9, [7, 8])).toEqual({
      pos: 9,
      token: 7,
      "kv_len[0]": 11,
      "kv_len[1]": 4,
      "kv_slot[1]": 1,
      chunk_len: 2,
      "token[0]": 7,
      "token[1]": 8,
    });
    expect(ringSlot(10, { slots: 8, sink: 2 })).toBe(4); // 2 + (10 − 2) mod 6
    expect(ringSlot(3, { slots: 8, sink: 2 })).toBe(3);
  });

  it("variables set by host steps are left to them; an unknown driver variable is an error", () => {
    expect(driverVariables([{ name: "kv_len[0]", doc: "", setBy: "host" }], 5, [1])).toEqual({ pos: 5 });
    expect(() => driverVariables(vars(["temperature"]), 0, [1])).toThrow(
      /does not know how to set variable "temperature"/,
    );
  });
});

describe("compareToGolden", () => {
  it("relative error against the logit scale, cosine, top-1 agreement, first divergence", () => {
    const sim = { steps: [Float64Array.of(1, 2, 3), Float64Array.of(0, 1, 0)], tokens: [2, 1] };
    const gold = { steps: [Float64Array.of(1, 2, 3.5), Float64Array.of(1, 0, 0)], tokens: [2, 0] };
    const c = compareToGolden(sim, gold);
    expect(c.tokensEqual).toBe(false);
    expect(c.firstDivergence).toBe(1);
    expect(c.maxRelErr[0]).toBeCloseTo(0.5 / 3.5, 12);
    expect(c.cosine[0]).toBeCloseTo((1 + 4 + 10.5) / Math.sqrt(14 * 17.25), 12);
    expect(c.cosine[1]).toBe(0);
    expect(c.top1Agreement).toBe(0.5);
    expect(c.worst).toEqual({ maxRelErr: 1, maxAbsErr: 1, cosine: 0 });
    // A simulation that stopped early does not pass for a perfect one.
    const short = compareToGolden({ steps: [], tokens: [] }, gold);
    expect(short.tokensEqual).toBe(false);
    expect(short.worst.cosine).toBe(0);
    expect(short.worst.maxRelErr).toBe(Number.POSITIVE_INFINITY);
  });
});
