/**
 * One program that calls every host function of src/codegen/host-ops (several variants of some),
 * each on its own DDR regions, so that a single driver build runs them all: the C driver (through
 * the co-simulation HAL) and the simulator execute the same steps on the same random image, and
 * the test compares every output region.
 */
import { HOST_FUNCTIONS } from "../../src/codegen/host-ops/table.js";
import type { DdrRegion, HostOperand, HostStep, Program } from "../../src/codegen/program.js";
import { KV260 } from "./fixture.js";

export interface HostCase {
  readonly name: string;
  readonly fn: string;
  /** Output regions to compare, with their element type. */
  readonly outputs: readonly { region: string; elements: number; dtype: "bf16" | "f32" | "i32" }[];
  /** Transcendental functions may differ by one float32 ulp between libm and V8 (their outputs are float32 here, so that a real error cannot hide in a bf16 rounding). */
  readonly ulps: number;
}

interface Spec {
  readonly fn: string;
  readonly name?: string;
  readonly inputs: readonly [string, number, HostOperand["dtype"]][];
  readonly outputs: readonly [string, number, HostOperand["dtype"]][];
  readonly attrs: HostStep["attrs"];
  readonly ulps?: number;
  /** Output regions the test does not compare (e.g. a ring written at one slot). */
  readonly skip?: readonly string[];
  /** The inputs hold this many token rows (operand `rows`), so that a `row` attribute can pick one. */
  readonly inputRows?: number;
  /**
   * The outputs are consecutive parts of one region (a KV ring: K part, then V part at vBase), which
   * starts with random image bytes and is compared whole, as 32-bit words (bitwise).
   */
  readonly ring?: boolean;
}

const N = 16;
const TRANS = 1;

/**
 * kv_write int4_tiles with codegen's geometry (src/codegen/lower/kv.ts) for 2 KV heads of width 16
 * on KV260: K rows of one beat, one scale beat per slot; V blocks of vParts[j] beats plus their scales.
 */
function kvTiles(
  name: string,
  layer: number,
  row: number,
  capacity: number,
  chunk: number,
  vParts: number[],
): Spec {
  const [kvHeads, hd, beat, codes] = [2, 16, 16, 32];
  const kHeadBytes = capacity * 2 * beat;
  const blocks = Math.ceil(capacity / codes);
  const vPortOffsets: number[] = [];
  let vHeadBytes = 0;
  for (const n of vParts) {
    vPortOffsets.push(vHeadBytes);
    vHeadBytes += (n * beat + Math.ceil((n * 2) / beat) * beat) * blocks;
  }
  const vBase = kHeadBytes * kvHeads;
  return {
    fn: "kv_write",
    name,
    inputRows: row + 1,
    inputs: [
      ["k", (row + 1) * kvHeads * hd, "bf16"],
      ["v", (row + 1) * kvHeads * hd, "bf16"],
    ],
    outputs: [
      ["kc", vBase * 2, "int4"],
      ["vc", vHeadBytes * kvHeads * 2, "int4"],
    ],
    ring: true,
    attrs: {
      layer,
      row,
      capacity,
      kvHeads,
      headDim: hd,
      vHeadDim: hd,
      kScale: 0.375,
      format: "int4_tiles",
      chunk,
      ports: vParts.length,
      kHeadBytes,
      kScaleOffset: capacity * beat,
      vBase,
      vParts,
      vPortOffsets,
      vHeadBytes,
    },
  };
}

const SPECS: readonly Spec[] = [
  ...(["silu", "gelu", "gelu_tanh", "relu", "tanh", "sigmoid"] as const).map(
    (fn): Spec => ({
      fn: "activation",
      name: `activation_${fn}`,
      inputs: [["x", N, "bf16"]],
      outputs: [["y", N, "f32"]],
      attrs: { fn },
      ulps: TRANS,
    }),
  ),
  {
    fn: "add",
    inputs: [
      ["a", N, "bf16"],
      ["b", N, "f32"],
    ],
    outputs: [["y", N, "f32"]],
    attrs: {},
  },
  { fn: "argmax", inputs: [["x", N, "bf16"]], outputs: [["y", 1, "i32"]], attrs: {} },
  {
    fn: "altup_predict",
    inputs: [
      ["x0", N, "bf16"],
      ["x1", N, "bf16"],
      ["m", 2, "bf16"],
      ["c", 8, "bf16"],
    ],
    outputs: [
      ["y0", N, "bf16"],
      ["y1", N, "bf16"],
    ],
    attrs: { n: 2 },
  },
  {
    fn: "altup_correct",
    inputs: [
      ["p0", N, "bf16"],
      ["p1", N, "bf16"],
      ["a", N, "bf16"],
      ["m", 2, "bf16"],
      ["c", 4, "bf16"],
    ],
    outputs: [
      ["y0", N, "bf16"],
      ["y1", N, "bf16"],
    ],
    attrs: { n: 2, activeIndex: 1, coefClip: 0.3 },
  },
  // kv_view first: attention reads kv_len[0] (= min(pos + 1, 8))
  { fn: "kv_view", inputs: [], outputs: [], attrs: { layer: 0, row: 0, capacity: 8 } },
  {
    fn: "attention",
    inputs: [
      ["q", 16, "f32"],
      ["k", 8 * 8, "bf16"],
      ["v", 8 * 8, "bf16"],
      ["sinks", 4, "bf16"],
    ],
    outputs: [["y", 16, "f32"]],
    attrs: { layer: 0, heads: 4, kvHeads: 2, headDim: 4, vHeadDim: 4, scale: 0.5, softcap: 5 },
    ulps: TRANS,
  },
  {
    fn: "fill",
    inputs: [],
    outputs: [["y", N, "bf16"]],
    attrs: { runs: [1, 2, 0.3, 5, 3, -2.5, 9, 1, 1e-3] },
  },
  {
    fn: "gather_rows",
    name: "gather_rows_bf16",
    inputs: [["t", 8 * N, "bf16"]],
    outputs: [["y", N, "bf16"]],
    attrs: {
      tensor: "model.embed_tokens.weight",
      tokens: "token",
      scale: 1.5,
      width: N,
      format: "bf16",
      rowStride: 2 * N,
      group: 0,
    },
  },
  {
    fn: "gather_rows",
    name: "gather_rows_int4",
    inputs: [["t", 8 * 32, "bf16"]],
    outputs: [["y", N, "bf16"]],
    attrs: {
      tensor: "model.embed_tokens.weight",
      tokens: "token",
      scale: 1,
      width: N,
      format: "int4_table",
      rowStride: 32,
      group: 8,
    },
  },
  { fn: "gaussian_topk", inputs: [["x", N, "bf16"]], outputs: [["y", N, "bf16"]], attrs: { z: 0.5 } },
  ...(["silu", "gelu_tanh"] as const).map(
    (fn): Spec => ({
      fn: "glu",
      name: `glu_${fn}`,
      inputs: [
        ["g", N, "bf16"],
        ["u", N, "bf16"],
      ],
      outputs: [["y", N, "f32"]],
      attrs: { fn },
      ulps: TRANS,
    }),
  ),
  {
    fn: "glu",
    name: "glu_swiglu",
    inputs: [["g", 2 * N, "bf16"]],
    outputs: [["y", N, "f32"]],
    attrs: { fn: "clamped_swiglu", alpha: 1.702, limit: 0.7, interleaved: true },
    ulps: TRANS,
  },
  {
    fn: "kv_write",
    inputs: [
      ["k", 8, "bf16"],
      ["v", 8, "bf16"],
    ],
    outputs: [
      ["kc", 8 * 8, "bf16"],
      ["vc", 8 * 8, "bf16"],
    ],
    attrs: {
      layer: 1,
      row: 0,
      capacity: 8,
      kvHeads: 2,
      headDim: 4,
      vHeadDim: 4,
      kScale: 0.5,
      format: "bf16_rows",
    },
  },
  // int4_tiles (KV260: 16-byte beats, 32 slots per V block, 8 bf16 scales per beat): rows 34..37 of
  // a 40-slot ring land in V block 1 (lanes 2..5); the ring's random bytes are the old values requantized
  kvTiles("kv_write_tiles", 2, 34, 40, 16, [8, 8]),
  // a 3-slot ring wraps (slot 0 written twice); port 1 carries no V feature
  kvTiles("kv_write_tiles_wrap", 3, 0, 3, 2, [16, 0]),
  {
    fn: "kv_view",
    name: "kv_view_tiles",
    inputs: [],
    outputs: [],
    attrs: { layer: 4, row: 1, capacity: 10, chunk: 4, ports: 3 },
  },
  {
    fn: "layer_norm",
    inputs: [
      ["x", N, "bf16"],
      ["w", N, "bf16"],
      ["b", N, "bf16"],
    ],
    outputs: [["y", N, "bf16"]],
    attrs: { eps: 1e-5, hasWeight: true, hasBias: true },
  },
  {
    fn: "magnitude_match",
    inputs: [
      ["x", N, "bf16"],
      ["r", N, "bf16"],
    ],
    outputs: [["y", N, "bf16"]],
    attrs: { eps: 1e-6 },
  },
  {
    fn: "mean",
    inputs: [
      ["a", N, "bf16"],
      ["b", N, "bf16"],
      ["c", N, "f32"],
    ],
    outputs: [["y", N, "f32"]],
    attrs: { n: 3 },
  },
  {
    fn: "moe_route",
    name: "moe_softmax",
    inputs: [["l", 8, "f32"]],
    outputs: [["w", 16, "f32"]],
    attrs: {
      layer: 0,
      numExperts: 8,
      topK: 2,
      scoring: "softmax",
      normalize: true,
      routedScale: 1.25,
      hasBias: false,
      hasExpertScale: false,
    },
    ulps: TRANS,
  },
  {
    fn: "moe_route",
    name: "moe_sigmoid_groups",
    inputs: [
      ["l", 8, "f32"],
      ["b", 8, "bf16"],
    ],
    outputs: [["w", 24, "f32"]],
    attrs: {
      layer: 1,
      numExperts: 8,
      topK: 3,
      scoring: "sigmoid",
      normalize: true,
      routedScale: 2.5,
      groups: [4, 2, 1],
      hasBias: true,
      hasExpertScale: false,
    },
    ulps: TRANS,
  },
  {
    fn: "mul",
    inputs: [
      ["a", N, "bf16"],
      ["b", 1, "bf16"],
    ],
    outputs: [["y", N, "bf16"]],
    attrs: { broadcast: true },
  },
  {
    fn: "mul_weight",
    inputs: [
      ["x", N, "f32"],
      ["w", N, "bf16"],
    ],
    outputs: [["y", N, "f32"]],
    attrs: {},
  },
  {
    fn: "rms_norm",
    inputs: [
      ["x", N, "bf16"],
      ["w", 8, "bf16"],
    ],
    outputs: [["y", N, "bf16"]],
    attrs: { eps: 1e-6, groupSize: 8, weightOffset: 1, hasWeight: true },
  },
  // `rows` applies to the per-row operands; the weight (and bias) vectors are broadcast to every row
  {
    fn: "rms_norm",
    name: "rms_norm_rows",
    inputs: [
      ["x", 4 * 8, "bf16"],
      ["w", 8, "bf16"],
    ],
    outputs: [["y", 4 * 8, "bf16"]],
    attrs: { eps: 1e-6, groupSize: 8, weightOffset: 0, hasWeight: true, rows: 4 },
  },
  {
    fn: "layer_norm",
    name: "layer_norm_rows",
    inputs: [
      ["x", 4 * 8, "bf16"],
      ["w", 8, "bf16"],
      ["b", 8, "bf16"],
    ],
    outputs: [["y", 4 * 8, "f32"]],
    attrs: { eps: 1e-5, hasWeight: true, hasBias: true, rows: 4 },
  },
  {
    fn: "mul_weight",
    name: "mul_weight_rows",
    inputs: [
      ["x", 4 * 8, "f32"],
      ["w", 8, "bf16"],
    ],
    outputs: [["y", 4 * 8, "f32"]],
    attrs: { rows: 4 },
  },
  { fn: "rms_scale", inputs: [["x", N, "bf16"]], outputs: [["y", 1, "f32"]], attrs: { eps: 1e-6 } },
  ...(["half", "interleaved"] as const).map(
    (style): Spec => ({
      fn: "rope",
      name: `rope_${style}`,
      inputs: [
        ["x", N, "bf16"],
        ["t", 8 * 16, "bf16"],
      ],
      outputs: [["y", N, "bf16"]],
      attrs: { heads: 2, headDim: 8, offset: 0, rotaryDim: 8, style, row: 0, tableRowBytes: 32 },
    }),
  ),
  {
    fn: "rope_table",
    name: "rope_table_fixed",
    inputs: [],
    outputs: [["y", 8 * 16, "bf16"]],
    attrs: {
      mode: "fixed",
      invFreq: [1, 0.1, 0.01, 0.001],
      attentionFactor: 1,
      rotaryDim: 8,
      positions: 8,
      halfBytes: 16,
    },
    ulps: TRANS,
  },
  {
    fn: "rope_table",
    name: "rope_table_dynamic",
    inputs: [],
    outputs: [["y", 8 * 16, "bf16"]],
    attrs: {
      mode: "dynamic",
      invFreq: [],
      theta: 10000,
      factor: 2,
      maxPos: 4,
      attentionFactor: 0.9,
      rotaryDim: 8,
      positions: 8,
      halfBytes: 16,
    },
    ulps: TRANS,
  },
  { fn: "scale", inputs: [["x", N, "bf16"]], outputs: [["y", N, "f32"]], attrs: { factor: 0.1 } },
  { fn: "slice", inputs: [["x", N, "bf16"]], outputs: [["y", 8, "bf16"]], attrs: { start: 5, count: 8 } },
  { fn: "softcap", inputs: [["x", N, "bf16"]], outputs: [["y", N, "f32"]], attrs: { cap: 2 }, ulps: TRANS },
  { fn: "spread_words", inputs: [["x", 4, "bf16"]], outputs: [["y", 32, "bf16"]], attrs: { fill: "-inf" } },
];

const BYTES = { bf16: 2, f32: 4, i32: 4, int4: 0.5 } as const;

export interface HostProgram {
  readonly program: Program;
  readonly cases: readonly HostCase[];
  /** Regions whose image bytes are random inputs. */
  readonly inputRegions: readonly DdrRegion[];
}

/** The program, its cases, and which regions take random image bytes. */
export function hostProgram(): HostProgram {
  const ddr: DdrRegion[] = [];
  const steps: HostStep[] = [];
  const cases: HostCase[] = [];
  const inputs: DdrRegion[] = [];
  let off = 0;
  const region = (name: string, elements: number, dtype: HostOperand["dtype"], kind: DdrRegion["kind"]) => {
    const bytes = Math.ceil((elements * BYTES[dtype]) / 16) * 16;
    const r: DdrRegion = { name, offset: off, bytes, kind };
    off += Math.ceil(bytes / 64) * 64;
    ddr.push(r);
    return r;
  };
  SPECS.forEach((s, i) => {
    const name = s.name ?? s.fn;
    const ins = s.inputs.map(([n, el, dt]): HostOperand => {
      const r = region(`${name}.${n}`, el, dt, "table");
      inputs.push(r);
      return {
        region: r.name,
        offset: 0,
        elements: el,
        dtype: dt,
        ...(s.inputRows ? { rows: s.inputRows } : {}),
      };
    });
    let outs: HostOperand[];
    let compared: HostCase["outputs"];
    if (s.ring) {
      // one image-backed region: random old contents, written in place
      const total = s.outputs.reduce((a, [, el, dt]) => a + el * BYTES[dt], 0);
      const r = region(`${name}.ring`, total / 4, "i32", "table");
      inputs.push(r);
      let at = 0;
      outs = s.outputs.map(([, el, dt]) => {
        const o = { region: r.name, offset: at, elements: el, dtype: dt };
        at += el * BYTES[dt];
        return o;
      });
      compared = [{ region: r.name, elements: r.bytes / 4, dtype: "i32" }];
    } else {
      outs = s.outputs.map(([n, el, dt]) => {
        const r = region(`${name}.${n}`, el, dt, i === 0 ? "logits" : "buffer");
        return { region: r.name, offset: 0, elements: el, dtype: dt };
      });
      compared = outs
        .filter((o) => !s.skip?.includes(o.region))
        .map((o) => ({ region: o.region, elements: o.elements, dtype: o.dtype as "bf16" | "f32" | "i32" }));
    }
    steps.push({
      kind: "host",
      fn: s.fn,
      inputs: ins,
      outputs: outs,
      attrs: s.attrs,
      origin: { label: name, layer: 0 },
    });
    cases.push({
      name,
      fn: s.fn,
      outputs: compared,
      ulps: s.ulps ?? 0,
    });
  });
  const program: Program = {
    schemaVersion: 1,
    target: KV260.file.name,
    targetFingerprint: KV260.fingerprint,
    model: "fixture/host-ops",
    segments: [{ name: "decode", kind: "decode", steps }],
    relocations: [],
    variables: [{ name: "token", doc: "input token", setBy: "driver" }],
    allocations: [],
    ddr,
  };
  return { program, cases, inputRegions: inputs };
}

/** Host functions the cases cover (the test checks it is all of them). */
export const COVERED = new Set(SPECS.map((s) => s.fn));
export const ALL_FUNCTIONS = HOST_FUNCTIONS.map((f) => f.name);
