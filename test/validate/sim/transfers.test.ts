import { describe, expect, it } from "vitest";
import type { Relocation } from "../../../src/codegen/program.js";
import { bf16Round, FunctionalMachine, imageFromRegions } from "../../../src/validate/sim/index.js";
import {
  bf16Bytes,
  dma,
  gemv,
  host,
  KV260,
  l2,
  loadL2,
  machine,
  memcpy,
  memset,
  messages,
  operand,
  program,
  region,
  storeL2,
  tile,
} from "./helpers.js";

const reloc = (
  step: number,
  field: string,
  terms: [string, number][],
  base = 0,
  segment = "decode",
): Relocation => ({
  segment,
  step,
  field,
  expr: { base, terms: terms.map(([variable, stride]) => ({ variable, stride })) },
});

describe("MEMCPY and its ACP DataMover command (docs/program.md §4.2)", () => {
  it("host→L2, L2→L2 and L2→host move whole words; a partial word is transferred whole", () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const m = machine(
      [
        ...loadL2("x", 4, 10, 1), // 2 words
        memset(0, 2, 1, 2, 5), // a·b·c = 10 elements
        memcpy("l2l", 20, 4, 2),
        ...storeL2("y", 20, 10, 3),
      ],
      {
        ddr: [region("x", 32), region("y", 32, "buffer")],
        image: { x: bf16Bytes([...x, 11, 12, 13, 14, 15, 16]) },
      },
    );
    expect(messages(m)).toEqual([]);
    expect(l2(m, 4, 16)).toEqual([...x, 11, 12, 13, 14, 15, 16]);
    expect(Array.from(m.read({ region: "y", dtype: "bf16" }))).toEqual([...x, 11, 12, 13, 14, 15, 16]);
    expect(m.result().stats.streamBytes).toMatchObject({ acp_fmap: 32 });
  });

  it("exact mode keeps values exact through DDR; hardware mode stores them as BF16", () => {
    // 1 + 2^-10 is not a BF16 value; it survives L2 → DDR → host → DDR → L2 only in exact mode.
    const v = 1 + 2 ** -10;
    const steps = [
      ...storeL2("y", 0, 1, 1),
      host("scale", [operand("y", 0, 1)], [operand("z", 0, 1)], { factor: 1 }),
      ...loadL2("z", 1, 1, 2),
    ];
    const ddr = [region("y", 16, "buffer"), region("z", 16, "buffer")];
    const ex = machine(steps, { mode: "exact", ddr, l2: { 0: [v] } });
    const hw = machine(steps, { mode: "hardware", ddr, l2: { 0: [bf16Round(v)] } });
    expect(messages(ex)).toEqual([]);
    expect(l2(ex, 1, 1)).toEqual([v]);
    expect(l2(hw, 1, 1)).toEqual([1]);
  });
});

describe("constant cache and persistent state", () => {
  it("entries written by the load segment serve every later decode run", () => {
    const p = program(
      {
        load: [memset(0, 7, 1, 1, 4), memset(1, 3, 0, 0, 0)],
        decode: [memset(0, 8, 1, 2, 4), dma("hp2", "w", 0, 16), dma("hp3", "w", 16, 16), gemv(10, 0, 8, 3)],
      },
      [region("w", 32, "weights")],
    );
    const mach = new FunctionalMachine(
      p,
      imageFromRegions({ w: new Uint8Array([...tile([[1, 1, 1, 1]]), ...tile([[2, 0, 0, 0]])]) }),
      KV260,
    );
    mach.state.l2.data.set([1, 2, 3, 4], 0);
    mach.runSegment("load", {});
    mach.runSegment("decode", {});
    expect(mach.log.faults).toEqual([]);
    expect(Array.from(mach.state.l2.data.subarray(80, 82))).toEqual([10, 2]);
    expect(mach.state.readConst("fmap_shape", 7, "t")).toEqual([1, 1, 4]);
    mach.runSegment("decode", {});
    expect(mach.log.faults).toEqual([]);
  });
});

describe("relocations (docs/program.md §2)", () => {
  it("a DMA offset relocated by the token id fetches that embedding row", () => {
    // Embedding table of 3 rows × 8 BF16 (16 bytes each); token 2 → offset 32.
    const table = [...Array(8).fill(0.5), ...Array(8).fill(1.5), ...Array(8).fill(2.5)];
    const m = machine([memset(0, 1, 1, 1, 8), dma("acp_fmap", "embed", 0, 16, 1), memcpy("h2l", 0, 0, 1)], {
      ddr: [region("embed", 48, "embedding")],
      image: { embed: bf16Bytes(table) },
      relocations: [reloc(1, "offset", [["token", 16]])],
      variables: { token: 2 },
    });
    expect(messages(m)).toEqual([]);
    expect(l2(m, 0, 8)).toEqual(Array(8).fill(2.5));
  });

  it("a MEMSET relocated by kv_len sets a CVO-visible length; clamp bounds apply", () => {
    // fmap entry 4 = (1, 1, kv_len) feeds a MEMCPY of kv_len elements; the length clamps at 16.
    const r = {
      ...reloc(0, "c_value", [["kv_len[0]", 1]]),
      expr: { base: 0, terms: [{ variable: "kv_len[0]", stride: 1 }], max: 16 },
    };
    const m = machine([memset(0, 4, 1, 1, 0), memcpy("l2l", 10, 0, 4)], {
      relocations: [r],
      variables: { "kv_len[0]": 40 },
      l2: { 0: Array.from({ length: 24 }, (_, i) => i + 1) },
    });
    expect(messages(m)).toEqual([]);
    expect(m.state.readConst("fmap_shape", 4, "t")).toEqual([1, 1, 16]);
    expect(l2(m, 10, 24)).toEqual([...Array.from({ length: 16 }, (_, i) => i + 1), ...Array(8).fill(0)]);
  });

  it("a tile relocated to N = 0 is a no-op that consumes no weights; bytes relocated to 0 issue nothing", () => {
    const m = machine(
      [memset(0, 1, 1, 0, 64), memset(1, 2, 0, 0, 0), dma("hp2", "w", 0, 16), gemv(10, 0, 1, 2)],
      {
        ddr: [region("w", 16, "weights")],
        relocations: [
          reloc(0, "b_value", [["kv_len[3]", 32]], -64),
          reloc(2, "bytes", [["kv_len[3]", 16]], -32),
        ],
        variables: { "kv_len[3]": 2 },
      },
    );
    expect(messages(m)).toEqual([]);
    expect(m.result().stats.macs).toBe(0);
  });

  it("a host operand offset relocated by kv_slot writes that ring slot", () => {
    const m = machine([host("scale", [operand("x", 0, 8)], [operand("ring", 0, 8)], { factor: 1 })], {
      ddr: [region("x", 16), region("ring", 64, "kv")],
      image: { x: bf16Bytes([1, 2, 3, 4, 5, 6, 7, 8]) },
      relocations: [reloc(0, "outputs[0].offset", [["kv_slot[0]", 16]])],
      variables: { "kv_slot[0]": 3 },
    });
    expect(messages(m)).toEqual([]);
    expect(Array.from(m.read({ region: "ring", dtype: "bf16" }))).toEqual([
      ...Array(24).fill(0),
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
    ]);
  });

  it("a variable set by a host step in the segment relocates a later step (MoE expert choice)", () => {
    // Router logits (0.1, 3, 0.2, 2): top-2 experts 1 and 3. The expert-0 slot DMA fetches rows of
    // expert[0][0] = 1 from a table of 4 expert rows (16 bytes each).
    const experts = [...Array(8).fill(10), ...Array(8).fill(11), ...Array(8).fill(12), ...Array(8).fill(13)];
    const m = machine(
      [
        host(
          "moe_route",
          [operand("logits", 0, 4)],
          [{ ...operand("wts", 0, 16, "f32"), rows: 2, blocks: [1] }],
          {
            layer: 0,
            numExperts: 4,
            topK: 2,
            scoring: "softmax",
            normalize: true,
            routedScale: 1,
            hasBias: false,
            hasExpertScale: false,
          },
        ),
        memset(0, 1, 1, 1, 8),
        dma("acp_fmap", "experts", 0, 16, 1),
        memcpy("h2l", 0, 0, 1),
      ],
      {
        mode: "exact",
        ddr: [region("logits", 8), region("wts", 64, "buffer"), region("experts", 64)],
        image: { logits: bf16Bytes([0.1, 3, 0.2, 2]), experts: bf16Bytes(experts) },
        relocations: [reloc(2, "offset", [["expert[0][0]", 16]])],
      },
    );
    expect(messages(m)).toEqual([]);
    expect(m.state.variables.get("expert[0][0]")).toBe(1);
    expect(m.state.variables.get("expert[0][1]")).toBe(3);
    expect(l2(m, 0, 8)).toEqual(Array(8).fill(11));
    // Weights: softmax over all four, renormalised over the two kept: e^3/(e^3+e^2), e^2/(e^3+e^2).
    const w = Array.from(m.read({ region: "wts", dtype: "f32" }));
    expect(w[0]).toBeCloseTo(Math.exp(3) / (Math.exp(3) + Math.exp(2.0)), 6);
    expect(w[0]! + w[8]!).toBeCloseTo(1, 6);
  });
});
