import { describe, expect, it } from "vitest";
import { HOST_FUNCTIONS } from "../../../src/codegen/host-ops/table.js";
import type { HostOperand } from "../../../src/codegen/program.js";
import { bf16Round, HOST_OPS } from "../../../src/validate/sim/index.js";
import { bf16Bytes, host, machine, messages, region } from "./helpers.js";

const f32Bytes = (v: readonly number[]) => new Uint8Array(Float32Array.from(v).buffer);
const sig = (x: number) => 1 / (1 + Math.exp(-x));

interface Arg {
  readonly v: number[];
  readonly dtype?: HostOperand["dtype"];
  readonly rows?: number;
  readonly blocks?: number[];
  /** Elements of the operand (default v.length). */
  readonly elements?: number;
}
type Out = number | (Partial<Arg> & { n: number });

/** Runs one host function; inputs and outputs live in their own regions (f32 unless told). */
function hostOp(
  fn: string,
  inputs: Arg[],
  outputs: Out[],
  attrs: Parameters<typeof host>[3] = {},
  opts: {
    variables?: Record<string, number>;
    mode?: "exact" | "hardware";
  } = {},
) {
  const opnd = (
    name: string,
    a: { dtype?: HostOperand["dtype"]; rows?: number; blocks?: number[] },
    elements: number,
  ): HostOperand => ({
    region: name,
    offset: 0,
    elements,
    dtype: a.dtype ?? "f32",
    ...(a.rows !== undefined ? { rows: a.rows } : {}),
    ...(a.blocks ? { blocks: a.blocks } : {}),
  });
  const outs = outputs.map((o) => (typeof o === "number" ? { n: o } : o));
  const ins = inputs.map((a, i) => opnd(`in${i}`, a, a.elements ?? a.v.length));
  const outOps = outs.map((o, i) => opnd(`out${i}`, o, o.n));
  const bytes = (d: HostOperand["dtype"] | undefined, n: number) => Math.max(16, n * (d === "bf16" ? 2 : 4));
  const m = machine([host(fn, ins, outOps, attrs, fn)], {
    mode: opts.mode ?? "exact",
    ddr: [
      ...inputs.map((a, i) => region(`in${i}`, bytes(a.dtype, a.v.length))),
      ...outs.map((o, i) => region(`out${i}`, bytes(o.dtype, o.n), "buffer")),
    ],
    image: Object.fromEntries(
      inputs.map((a, i) => [`in${i}`, a.dtype === "bf16" ? bf16Bytes(a.v) : f32Bytes(a.v)]),
    ),
    variables: opts.variables ?? {},
  });
  const out = outs.map((o, i) =>
    Array.from(
      m.read({
        region: `out${i}`,
        elements: o.n,
        dtype: o.dtype === "bf16" ? "bf16" : o.dtype === "i32" ? "i32" : "f32",
      }),
    ),
  );
  return { m, out };
}

const close = (a: readonly number[], b: readonly number[], digits = 5) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => {
    expect(v).toBeCloseTo(b[i]!, digits);
  });
};
const v = (...x: number[]): Arg => ({ v: x });

describe("host functions of src/codegen/host-ops, float32", () => {
  it("implements exactly the functions codegen lists", () => {
    expect([...HOST_OPS.keys()].sort()).toEqual(HOST_FUNCTIONS.map((x) => x.name).sort());
  });

  it("activation: silu, gelu (erf), gelu_tanh, relu", () => {
    close(hostOp("activation", [v(0, 1, -2)], [3], { fn: "silu" }).out[0]!, [0, sig(1), -2 * sig(-2)], 6);
    close(hostOp("activation", [v(1, -1)], [2], { fn: "gelu" }).out[0]!, [0.8413447, -0.1586553], 6);
    close(hostOp("activation", [v(1)], [1], { fn: "gelu_tanh" }).out[0]!, [0.841192], 6);
    expect(hostOp("activation", [v(-1, 2)], [2], { fn: "relu" }).out[0]).toEqual([0, 2]);
  });

  it("glu: act(gate)·up, interleaved, and gpt-oss clamped SwiGLU", () => {
    close(hostOp("glu", [v(1, -1), v(2, 3)], [2], { fn: "silu" }).out[0]!, [2 * sig(1), -3 * sig(-1)], 6);
    close(
      hostOp("glu", [v(1, 2, -1, 3)], [2], { fn: "silu", interleaved: true }).out[0]!,
      [2 * sig(1), -3 * sig(-1)],
      6,
    );
    // gate 10 → min(10, 7) = 7; up 10 → 7: (7 + 1)·7·σ(1.702·7).
    close(
      hostOp("glu", [v(10), v(10)], [1], { fn: "clamped_swiglu", alpha: 1.702, limit: 7 }).out[0]!,
      [56 * sig(1.702 * 7)],
      3,
    );
  });

  it("add and mean (N operands, summed in operand order)", () => {
    expect(hostOp("add", [v(1, 2), v(0.5, -2)], [2]).out[0]).toEqual([1.5, 0]);
    expect(hostOp("mean", [v(1, 2), v(3, 4), v(5, 9)], [2], { n: 3 }).out[0]).toEqual([
      Math.fround(9 * Math.fround(1 / 3)),
      5,
    ]);
  });

  it("mul (per-row broadcast), mul_weight (scalar), scale, slice", () => {
    // Two rows of 2: (1, 2)·10 and (3, 4)·100.
    expect(hostOp("mul", [v(1, 2, 3, 4), v(10, 100)], [4], { broadcast: true, rows: 2 }).out[0]).toEqual([
      10, 20, 300, 400,
    ]);
    expect(hostOp("mul", [v(1, 2), v(3, 4)], [2], { broadcast: false }).out[0]).toEqual([3, 8]);
    expect(hostOp("mul_weight", [v(1, 2), v(3)], [2]).out[0]).toEqual([3, 6]);
    expect(hostOp("scale", [v(1, -2)], [2], { factor: 0.5 }).out[0]).toEqual([0.5, -1]);
    expect(hostOp("slice", [v(1, 2, 3, 4)], [2], { start: 1, count: 2 }).out[0]).toEqual([2, 3]);
    // row: only that row of a 2-row input, into a one-row output.
    expect(
      hostOp(
        "slice",
        [{ v: [1, 2, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0], rows: 2, blocks: [2], elements: 4 }],
        [1],
        { start: 1, count: 1, row: 1 },
      ).out[0],
    ).toEqual([4]);
  });

  it("rms_norm (per group, weight offset), rms_scale, layer_norm, magnitude_match, gaussian_topk", () => {
    const inv = 1 / Math.sqrt(7.5); // mean((1,2,3,4)²) = 7.5
    const norm = (w: number[], off: number) =>
      hostOp("rms_norm", [v(1, 2, 3, 4), { v: w }], [4], {
        eps: 0,
        groupSize: 4,
        weightOffset: off,
        hasWeight: true,
      }).out[0]!;
    close(norm([1, 1, 2, 0.5], 0), [inv, 2 * inv, 6 * inv, 2 * inv], 6);
    close(norm([1, 1, 2, 0.5], 1), [2 * inv, 4 * inv, 9 * inv, 6 * inv], 6);
    // Two groups of 2 without weight: (3, 4) → mean 12.5; (0, 2) → mean 2.
    close(
      hostOp("rms_norm", [v(3, 4, 0, 2)], [4], { eps: 0, groupSize: 2, weightOffset: 0, hasWeight: false })
        .out[0]!,
      [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5), 0, Math.SQRT2],
      6,
    );
    close(hostOp("rms_scale", [v(1, 2, 3, 4)], [1], { eps: 0 }).out[0]!, [inv], 6);
    // μ = 2.5, σ² = 1.25: (x − μ)/1.118034·w + b with w = (1, 1, 1, 2), b = (0, 0, 0, 1).
    close(
      hostOp("layer_norm", [v(1, 2, 3, 4), v(1, 1, 1, 2), v(0, 0, 0, 1)], [4], {
        eps: 0,
        hasWeight: true,
        hasBias: true,
      }).out[0]!,
      [-1.5 / Math.sqrt(1.25), -0.5 / Math.sqrt(1.25), 0.5 / Math.sqrt(1.25), 3 / Math.sqrt(1.25) + 1],
      5,
    );
    // ref (6, 8): mean square 50; x (3, 4): 12.5 → x·√50/√12.5 = 2x.
    close(hostOp("magnitude_match", [v(3, 4), v(6, 8)], [2], { eps: 0 }).out[0]!, [6, 8], 6);
    expect(hostOp("gaussian_topk", [v(1, 2, 3, 4)], [4], { z: 0 }).out[0]).toEqual([0, 0, 0.5, 1.5]);
    // z = 1: cut = 2.5 + √1.25 = 3.618034.
    close(
      hostOp("gaussian_topk", [v(1, 2, 3, 4)], [4], { z: 1 }).out[0]!,
      [0, 0, 0, 4 - 2.5 - Math.sqrt(1.25)],
      6,
    );
  });

  it("`rows` applies to per-row operands; norm weights, biases and weight vectors are broadcast", () => {
    // Two rows (1, 2, 3, 4) and (2, 4, 6, 8): the same normalised row; w = (1, 1, 2, 0.5) on both.
    const inv = 1 / Math.sqrt(7.5);
    const want = [inv, 2 * inv, 6 * inv, 2 * inv];
    const x = v(1, 2, 3, 4, 2, 4, 6, 8);
    const rms = hostOp("rms_norm", [x, v(1, 1, 2, 0.5)], [8], {
      eps: 0,
      groupSize: 4,
      weightOffset: 0,
      hasWeight: true,
      rows: 2,
    });
    expect(rms.m.result().faults.map((f) => f.message)).toEqual([]);
    close(rms.out[0]!, [...want, ...want], 6);
    const s = 1 / Math.sqrt(1.25); // μ = 2.5, σ² = 1.25 (row 2 is 2× row 1: μ 5, σ² 5)
    const ln = hostOp("layer_norm", [x, v(1, 1, 1, 2), v(0, 0, 0, 1)], [8], {
      eps: 0,
      hasWeight: true,
      hasBias: true,
      rows: 2,
    });
    const row = [-1.5 * s, -0.5 * s, 0.5 * s, 3 * s + 1];
    close(ln.out[0]!, [...row, ...row], 5);
    close(
      hostOp("mul_weight", [x, v(1, 0, -1, 2)], [8], { rows: 2 }).out[0]!,
      [1, 0, -3, 8, 2, 0, -6, 16],
      6,
    );
  });

  it("softcap, argmax, fill (runs), spread_words", () => {
    close(
      hostOp("softcap", [v(60, -15)], [2], { cap: 30 }).out[0]!,
      [30 * Math.tanh(2), 30 * Math.tanh(-0.5)],
      4,
    );
    expect(hostOp("argmax", [v(1, 5, 5, 2)], [{ n: 1, dtype: "i32" }]).out[0]).toEqual([1]);
    expect(
      hostOp("fill", [], [{ n: 6, dtype: "bf16" }], { runs: [1, 2, 0.3, 5, 1, 2] }, { mode: "hardware" })
        .out[0],
    ).toEqual([0, bf16Round(0.3), bf16Round(0.3), 0, 0, 2]);
    const spread = hostOp("spread_words", [{ v: [5, 6], dtype: "bf16" }], [{ n: 16, dtype: "bf16" }], {
      fill: "-inf",
    }).out[0]!;
    expect(spread).toEqual([5, ...Array(7).fill(-Infinity), 6, ...Array(7).fill(-Infinity)]);
  });

  it("column-block operands: element (t, j) of block b sits at Σ rows·pad(w) + t·pad(w_b) + (j − s_b)", () => {
    // x: 2 rows × 8 columns as blocks of 4 (each row padded to a word of 8): storage
    // [b0 r0: 0..3 pad][b0 r1: 10..13 pad][b1 r0: 4..7 pad][b1 r1: 14..17 pad].
    const pad = [0, 0, 0, 0];
    const storage = [0, 1, 2, 3, ...pad, 10, 11, 12, 13, ...pad, 4, 5, 6, 7, ...pad, 14, 15, 16, 17, ...pad];
    const r = hostOp(
      "slice",
      [{ v: storage, rows: 2, blocks: [4, 4], elements: 16 }],
      [{ n: 16, rows: 2, blocks: [4] }],
      { start: 2, count: 4 },
    );
    expect(messages(r.m)).toEqual([]);
    // Columns 2..5 of each row; the output rows are padded to a word too (padding untouched).
    expect(r.out[0]).toEqual([2, 3, 4, 5, 0, 0, 0, 0, 12, 13, 14, 15, 0, 0, 0, 0]);
  });

  it("rope reads cos and sin of position pos + row from the table (word padded)", () => {
    // rotaryDim 4: cos (2 values, padded to 8), then sin (2, padded to 8): a row of 16 BF16 = 32 bytes.
    const row = (p: number) => [
      Math.cos(p),
      Math.cos(p * 0.01),
      0,
      0,
      0,
      0,
      0,
      0,
      Math.sin(p),
      Math.sin(p * 0.01),
      0,
      0,
      0,
      0,
      0,
      0,
    ];
    const table: Arg = { v: [...row(0), ...row(1)], dtype: "bf16" };
    const { out } = hostOp(
      "rope",
      [v(1, 2, 3, 4), table],
      [4],
      { heads: 1, headDim: 4, offset: 0, rotaryDim: 4, style: "half", row: 0, tableRowBytes: 32 },
      { variables: { pos: 1 } },
    );
    const [c1, c2, s1, s2] = [Math.cos(1), Math.cos(0.01), Math.sin(1), Math.sin(0.01)].map(bf16Round) as [
      number,
      number,
      number,
      number,
    ];
    close(out[0]!, [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2], 6);
  });

  it("attention over a BF16 ring: GQA head map, softmax, weighted V", () => {
    // q heads (1, 0) and (0, 1) share KV head 0; K slots (1, 0), (0, 1); V slots (1, 2), (3, 4).
    const p = [sig(1), sig(-1)]; // softmax of (1, 0)
    const { out } = hostOp(
      "attention",
      [v(1, 0, 0, 1), { v: [1, 0, 0, 1], dtype: "bf16" }, { v: [1, 2, 3, 4], dtype: "bf16" }],
      [4],
      { layer: 0, heads: 2, kvHeads: 1, headDim: 2, vHeadDim: 2, scale: 1 },
      { variables: { "kv_len[0]": 2 } },
    );
    close(out[0]!, [p[0]! + 3 * p[1]!, 2 * p[0]! + 4 * p[1]!, p[1]! + 3 * p[0]!, 2 * p[1]! + 4 * p[0]!], 6);
  });

  it("kv_view and kv_write (bf16_rows) set the layer's slot, length and block variables", () => {
    const kv = hostOp("kv_view", [], [], { layer: 2, row: 1, capacity: 40 }, { variables: { pos: 33 } });
    expect(kv.m.state.variables.get("kv_len[2]")).toBe(35);
    expect(kv.m.state.variables.get("kv_blocks[2]")).toBe(2);
    const w = hostOp(
      "kv_write",
      [v(2, 4), v(1, 3)],
      [
        { n: 8, dtype: "bf16" },
        { n: 8, dtype: "bf16" },
      ],
      {
        layer: 0,
        row: 0,
        capacity: 4,
        kvHeads: 1,
        headDim: 2,
        vHeadDim: 2,
        kScale: 0.5,
        format: "bf16_rows",
      },
      { variables: { pos: 5 } },
    );
    expect(messages(w.m)).toEqual([]);
    // pos 5 in a ring of 4 → slot 1: K = 0.5·(2, 4), V = (1, 3).
    expect(w.out[0]).toEqual([0, 0, 1, 2, 0, 0, 0, 0]);
    expect(w.out[1]).toEqual([0, 0, 1, 3, 0, 0, 0, 0]);
    expect(["kv_slot[0]", "kv_len[0]", "kv_blocks[0]"].map((n) => w.m.state.variables.get(n))).toEqual([
      1, 4, 1,
    ]);
  });

  it("moe_route: softmax top-k with normalisation; groups exclude experts; sets expert[layer][j]", () => {
    const r = hostOp("moe_route", [v(0.1, 3, 0.2, 2)], [{ n: 16, rows: 2, blocks: [1] }], {
      layer: 1,
      numExperts: 4,
      topK: 2,
      scoring: "softmax",
      normalize: true,
      routedScale: 1,
      hasBias: false,
      hasExpertScale: false,
    });
    expect([0, 1].map((j) => r.m.state.variables.get(`expert[1][${j}]`))).toEqual([1, 3]);
    // One weight per word: e^3/(e^3 + e^2) and e^2/(e^3 + e^2).
    close([r.out[0]![0]!, r.out[0]![8]!], [1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(1))], 6);
    // Two groups of 2 scored by their max sigmoid: group 0 (σ(3)) beats group 1 (σ(2.9)), so the
    // top-2 come from experts 0 and 1 even though expert 3 outscores expert 0.
    const g = hostOp("moe_route", [v(0, 3, 2.5, 2.9)], [{ n: 16, rows: 2, blocks: [1] }], {
      layer: 0,
      numExperts: 4,
      topK: 2,
      scoring: "sigmoid",
      normalize: false,
      routedScale: 2,
      hasBias: false,
      hasExpertScale: false,
      groups: [2, 1, 0],
    });
    expect([0, 1].map((j) => g.m.state.variables.get(`expert[0][${j}]`))).toEqual([1, 0]);
    close([g.out[0]![0]!, g.out[0]![8]!], [2 * sig(3), 2 * sig(0)], 6);
  });

  it("altup_predict and altup_correct (Gemma 3n)", () => {
    // As in the golden test: x0 = (1, 2), x1 = (3, −1), m = (0.5, −1), coefs rows (1,0),(0,1),(2,0),(0,2).
    const p = hostOp("altup_predict", [v(1, 2), v(3, -1), v(0.5, -1), v(1, 0, 0, 1, 2, 0, 0, 2)], [2, 2], {
      n: 2,
    });
    expect(p.out).toEqual([
      [-1.5, 4],
      [-2, 3],
    ]);
    const c = hostOp("altup_correct", [v(-1.5, 4), v(-2, 3), v(0, 1), v(1, 1), v(0.3, 0.2, 1, -3)], [2, 2], {
      n: 2,
      activeIndex: 0,
      coefClip: 0.5,
    });
    close(c.out[0]!, [0.75, -0.5], 6);
    close(c.out[1]!, [-0.5, 0], 6);
  });

  it("gather_rows: BF16 table rows, or INT4 table rows (codes then scales), selected by token variables", () => {
    // BF16 table of 3 rows × 2 at a stride of 16 bytes; tokens (2, 0), scale 2.
    const rows = [1, 2, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 5, 6.01, 0, 0, 0, 0, 0, 0];
    const attrs = {
      tensor: "embed",
      tokens: "token[0],token[1]",
      scale: 2,
      width: 2,
      rows: 2,
      rowStride: 16,
      group: 0,
    };
    const vars = { variables: { "token[0]": 2, "token[1]": 0 } };
    const g = hostOp(
      "gather_rows",
      [{ v: rows, dtype: "bf16" }],
      [{ n: 4, dtype: "bf16" }],
      { ...attrs, format: "bf16" },
      vars,
    );
    expect(messages(g.m)).toEqual([]);
    expect(g.out[0]).toEqual([10, bf16Round(2 * bf16Round(6.01)), 2, 4]);
    // INT4 table, width 34: a row is 2 beats of codes (32 bytes) then one BF16 scale padded to a
    // beat = 48 bytes. Row 1: codes 3, −2, then 0 …, element 33 = 5; scale 0.5.
    const table = new Uint8Array(96);
    table[48] = 0x03 | (0x0e << 4);
    table[48 + 16] = 0x50; // elements 32 (0) and 33 (5)
    new DataView(table.buffer).setUint16(48 + 32, 0x3f00, true); // BF16 0.5
    const m = machine(
      [
        host(
          "gather_rows",
          [{ region: "t", offset: 0, elements: 192, dtype: "int4" }],
          [{ region: "o", offset: 0, elements: 34, dtype: "bf16" }],
          {
            tensor: "embed",
            tokens: "token",
            scale: 1,
            width: 34,
            rowStride: 48,
            group: 0,
            format: "int4_table",
          },
          "g",
        ),
      ],
      { ddr: [region("t", 96), region("o", 80, "buffer")], image: { t: table }, variables: { token: 1 } },
    );
    expect(messages(m)).toEqual([]);
    const got = Array.from(m.read({ region: "o", elements: 34, dtype: "bf16" }));
    expect(got.slice(0, 3)).toEqual([1.5, -1, 0]);
    expect(got[33]).toBe(2.5);
  });

  it("rope_table writes cos and sin of p·invFreq per row, each half padded to halfBytes", () => {
    // rotaryDim 4, 2 positions, halves of 16 bytes: row p = cos(p·f0), cos(p·f1), pad, sin(p·f0), sin(p·f1), pad.
    const attrs = {
      mode: "fixed",
      invFreq: [1, 0.5],
      attentionFactor: 1,
      rotaryDim: 4,
      positions: 2,
      halfBytes: 16,
    };
    const hw = hostOp("rope_table", [], [{ n: 32, dtype: "bf16" }], attrs, { mode: "hardware" }).out[0]!;
    const b = (x: number) => bf16Round(Math.fround(Math.cos(x)));
    const s = (x: number) => bf16Round(Math.fround(Math.sin(x)));
    expect(hw.slice(0, 2)).toEqual([1, 1]);
    expect(hw.slice(8, 10)).toEqual([0, 0]);
    expect(hw.slice(16, 18)).toEqual([b(1), b(0.5)]);
    expect(hw.slice(24, 26)).toEqual([s(1), s(0.5)]);
    // Exact mode keeps float32 (no BF16 anywhere).
    const ex = hostOp("rope_table", [], [{ n: 32, dtype: "bf16" }], attrs).out[0]!;
    expect(ex.slice(16, 18)).toEqual([Math.fround(Math.cos(1)), Math.fround(Math.cos(0.5))]);
  });

  it("checks operand counts and attributes against codegen's list", () => {
    expect(messages(hostOp("mul", [v(1, 2)], [2], { broadcast: false }).m)).toEqual([
      "decode step 0 (mul): host mul takes 2 inputs (a, b), the step has 1",
    ]);
    expect(messages(hostOp("softcap", [v(1)], [1]).m)).toEqual([
      "decode step 0 (softcap): host softcap: attribute cap (the cap) is missing",
    ]);
    expect(messages(hostOp("scale", [v(1)], [1], { factor: "2" }).m)).toEqual([
      'decode step 0 (scale): host scale: attribute factor must be a number, got "2"',
    ]);
    expect(messages(hostOp("kv_view", [], [], { layer: 0, row: 0, capacity: 4 }).m)).toEqual([
      "decode step 0 (kv_view): host kv_view needs variable pos, which is not set",
    ]);
  });
});
