/**
 * A hand-written "tiny model" program for the driver tests: an embedding row gathered by DMA
 * (relocated by the token), RMS statistics and a SCALE on the SFU, a host RMSNorm, a GEMV to the
 * logits fed by hp2/hp3, the logits stored through acp_result and soft-capped on the host, a
 * KV-style ring written through a relocated DMA, and an optional prefill segment. It exercises
 * every step kind, both DMA directions, relocations of instruction fields and DMA offsets, driver
 * variables and host operations, with a weight image that makes the generated tokens vary.
 */
import type {
  DdrRegion,
  HostOperand,
  Program,
  Relocation,
  Step,
  Variable,
} from "../../src/codegen/program.js";
import { loadTarget, type Target } from "../../src/target/index.js";
import { f32ToBf16 } from "../../src/util/float.js";
import { packTile } from "../../src/validate/sim/index.js";

export const KV260: Target = loadTarget("kv260-v002");
export const VOCAB = 24;
export const D = 16;
const CTX = 16;

let n = 0;
const origin = (label: string, layer?: number, tensors?: string[]) => ({
  label: `${label} #${n++}`,
  ...(layer !== undefined ? { layer } : {}),
  ...(tensors ? { tensors } : {}),
});

const memset = (bank: number, entry: number, a: number, b: number, c: number): Step => ({
  kind: "npu",
  instr: {
    opcode: "MEMSET",
    fields: { dest_cache: bank, dest_addr: entry, a_value: a, b_value: b, c_value: c },
  },
  origin: origin(`memset ${bank}:${entry}`),
});
const memcpy = (from: number, to: number, dest: number, src: number, shape: number, label: string): Step => ({
  kind: "npu",
  instr: {
    opcode: "MEMCPY",
    fields: {
      from_device: from,
      to_device: to,
      dest_addr: dest,
      src_addr: src,
      aux_addr: 0,
      shape_ptr_addr: shape,
      async: 0,
    },
  },
  origin: origin(label),
});
const dma = (
  port: "hp2" | "hp3" | "acp_fmap" | "acp_result",
  region: string,
  offset: number,
  bytes: number,
  tag: number,
  label: string,
): Step => ({
  kind: "dma",
  port,
  region,
  offset,
  bytes,
  tag,
  origin: origin(label, 0, region === "w" ? ["lm_head.weight"] : undefined),
});
const wait = (on: Extract<Step, { kind: "wait" }>["on"]): Step => ({
  kind: "wait",
  on,
  origin: origin(`wait ${on.kind}`),
});
const op = (
  region: string,
  offset: number,
  elements: number,
  dtype: HostOperand["dtype"] = "bf16",
): HostOperand => ({
  region,
  offset,
  elements,
  dtype,
});

function bf16Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => {
    const h = f32ToBf16(v);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  });
  return out;
}

/** Deterministic pseudo-random values in [-1, 1). */
function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** The decode (or prefill) steps for one token at `row` of the chunk. */
function tokenSteps(tokVar: string): { steps: Step[]; relocs: Omit<Relocation, "segment">[] } {
  const steps: Step[] = [
    dma("acp_fmap", "emb", 0, D * 2, 1, `embedding row of ${tokVar}`),
    memcpy(1, 0, 0, 0, 1, "embedding -> L2"),
    wait({ kind: "npu-idle" }),
    // the token's vector goes to the KV ring slot `pos`
    dma("acp_result", "ring", 0, D * 2, 3, "x -> ring[pos]"),
    memcpy(0, 1, 0, 0, 1, "L2 -> ring"),
    wait({ kind: "dma", port: "acp_result", tag: 3 }),
    dma("acp_result", "x", 0, D * 2, 2, "x -> host"),
    memcpy(0, 1, 0, 0, 1, "L2 -> x"),
    wait({ kind: "dma", port: "acp_result", tag: 2 }),
    {
      kind: "host",
      fn: "rms_norm",
      inputs: [op("x", 0, D), op("norm_w", 0, D)],
      outputs: [op("xn", 0, D)],
      attrs: { eps: 1e-6, groupSize: D, weightOffset: 1, hasWeight: true },
      origin: origin("final norm", 0, ["model.norm.weight"]),
    },
    dma("acp_fmap", "xn", 0, D * 2, 1, "xn -> L2"),
    memcpy(1, 0, 4, 0, 1, "xn -> L2"),
    dma("hp2", "w", 0, 0, 0, "lm_head rows 0-11"),
    dma("hp3", "w", 0, 0, 0, "lm_head rows 12-23"),
    {
      kind: "npu",
      instr: {
        opcode: "GEMV",
        fields: {
          dest_reg: 16,
          src_addr: 4,
          flags: { findemax: 0, accm: 0, w_scale: 1 },
          size_ptr_addr: 3,
          shape_ptr_addr: 2,
          parallel_lane: 0,
        },
      },
      weightSegment: "lm_head",
      origin: origin("lm_head", 0, ["lm_head.weight"]),
    },
    {
      kind: "npu",
      instr: {
        opcode: "CVO",
        fields: {
          cvo_func: "SCALE",
          src_addr: 15,
          dst_addr: 16,
          length: VOCAB,
          flags: { sub_emax: 0, recip_scale: 0, accm: 0 },
          async: 0,
        },
      },
      origin: origin("scale logits"),
    },
    dma("acp_result", "lg", 0, 48, 2, "logits -> host"),
    memcpy(0, 1, 0, 16, 4, "L2 -> logits"),
    wait({ kind: "dma", port: "acp_result", tag: 2 }),
    {
      kind: "host",
      fn: "softcap",
      inputs: [op("lg", 0, VOCAB)],
      outputs: [op("logits", 0, VOCAB, "f32")],
      attrs: { cap: 3 },
      origin: origin("final softcap"),
    },
  ];
  const relocs = [
    { step: 0, field: "offset", expr: { base: 0, terms: [{ variable: tokVar, stride: D * 2 }] } },
    {
      step: 3,
      field: "offset",
      expr: { base: 0, terms: [{ variable: "pos", stride: D * 2 }], min: 0, max: (CTX - 1) * D * 2 },
    },
    // an instruction-field relocation: the SCALE length, clamped to the vocabulary whatever pos is
    { step: 15, field: "length", expr: { base: VOCAB, terms: [{ variable: "pos", stride: 1 }], max: VOCAB } },
  ];
  return { steps, relocs };
}

export interface Fixture {
  readonly program: Program;
  readonly image: Uint8Array;
}

/** The fixture program and its weight image (`prefill`: add a one-token prefill segment, with `maxPos`). */
export function fixture(opts: { prefill?: boolean; seed?: number; maxPos?: number } = {}): Fixture {
  n = 0;
  const r = rand(opts.seed ?? 7);
  const tile = (rows: number) => {
    const codes = Int8Array.from({ length: rows * D }, () => Math.round(r() * 7));
    const scales = Float32Array.from({ length: rows }, () => 0.05 + Math.abs(r()) * 0.1);
    return packTile(codes, scales, rows, D, { order: 0, group: 0, scales: true, scaleDtype: "bf16" });
  };
  const half = VOCAB / 2;
  const t2 = tile(half);
  const t3 = tile(half);
  const emb = bf16Bytes(Array.from({ length: VOCAB * D }, () => r() * 2));
  const normW = bf16Bytes(Array.from({ length: D }, () => r() * 0.5));
  // L2 word 15 holds the SCALE factor (the scalar before the vector), loaded from "table"
  const scale = bf16Bytes([1.5, 0, 0, 0, 0, 0, 0, 0]);
  const regions: [string, number, DdrRegion["kind"]][] = [
    ["w", t2.length + t3.length, "weights"],
    ["emb", emb.length, "embedding"],
    ["table", 16, "table"],
    ["norm_w", normW.length, "table"],
    ["ring", CTX * D * 2, "kv"],
    ["x", D * 2, "buffer"],
    ["xn", D * 2, "buffer"],
    ["lg", 48, "buffer"],
    ["logits", VOCAB * 4, "logits"],
  ];
  let off = 0;
  const ddr: DdrRegion[] = regions.map(([name, bytes, kind]) => {
    const d: DdrRegion = { name, offset: off, bytes, kind };
    off += Math.ceil(bytes / 64) * 64;
    return d;
  });
  const image = new Uint8Array(off);
  const at = (name: string) => ddr.find((d) => d.name === name)!.offset;
  image.set(t2, at("w"));
  image.set(t3, at("w") + t2.length);
  image.set(emb, at("emb"));
  image.set(scale, at("table"));
  image.set(normW, at("norm_w"));

  const load: Step[] = [
    memset(0, 1, 1, 1, D),
    memset(0, 2, 1, VOCAB, D),
    memset(1, 3, 0, 0, 0),
    memset(0, 4, 1, 1, VOCAB),
    memset(0, 5, 1, 1, 8),
    dma("acp_fmap", "table", 0, 16, 4, "scale word"),
    memcpy(1, 0, 15, 0, 5, "scale -> L2"),
    wait({ kind: "npu-idle" }),
  ];
  const dec = tokenSteps("token");
  // weight DMAs: fixed bytes per port
  const fix = (steps: Step[]) =>
    steps.map((s) =>
      s.kind === "dma" && s.port === "hp2"
        ? { ...s, bytes: t2.length }
        : s.kind === "dma" && s.port === "hp3"
          ? { ...s, offset: t2.length, bytes: t3.length }
          : s,
    );
  const segments: Program["segments"][number][] = [
    { name: "load", kind: "load", steps: load },
    { name: "decode", kind: "decode", steps: fix(dec.steps) },
  ];
  const relocations: Relocation[] = dec.relocs.map((x) => ({ ...x, segment: "decode" }));
  const variables: Variable[] = [
    { name: "pos", doc: "position", setBy: "driver" },
    { name: "token", doc: "input token", setBy: "driver" },
  ];
  if (opts.prefill) {
    const pre = tokenSteps("token[0]");
    segments.splice(1, 0, {
      name: "prefill",
      kind: "prefill",
      steps: fix(pre.steps),
      ...(opts.maxPos !== undefined ? { maxPos: opts.maxPos } : {}),
    });
    relocations.push(...pre.relocs.map((x) => ({ ...x, segment: "prefill" })));
    variables.push({ name: "token[0]", doc: "first token of the chunk", setBy: "driver" });
  }
  const program: Program = {
    schemaVersion: 1,
    target: KV260.file.name,
    targetFingerprint: KV260.fingerprint,
    model: "fixture/tiny",
    segments,
    relocations,
    variables,
    allocations: [],
    ddr,
  };
  return { program, image };
}
