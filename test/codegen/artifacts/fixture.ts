/**
 * A small but complete hand-made Program with a context: a load segment of MEMSETs, a prefill segment
 * (with a maxPos) with a GEMM, and a decode segment with DMA, MEMCPY, GEMV, CVO, host (operand rows
 * and blocks) and wait steps, relocations on instruction fields, DMA fields and a host operand,
 * variables, allocations and DDR regions.
 */
import type { NpuInstr, Origin, Program, Step } from "../../../src/codegen/program.js";

const memset = (dest_cache: number, dest_addr: number, a: number, b: number, c: number): NpuInstr => ({
  opcode: "MEMSET",
  fields: { dest_cache, dest_addr, a_value: a, b_value: b, c_value: c },
});
const npu = (
  instr: NpuInstr,
  origin: Origin,
  extra: Partial<Pick<Step & { kind: "npu" }, "intent" | "weightSegment">> = {},
): Step => ({
  kind: "npu",
  instr,
  ...extra,
  origin,
});

const L0Q = "model.layers.0.self_attn.q_proj.weight";
const L0K = "model.layers.0.self_attn.k_proj.weight";
const EMB = "model.embed_tokens.weight";

const embed: Origin = { op: "embed", label: "embedding row of the token", tensors: [EMB] };
const qProj: Origin = {
  op: "layers.0.self_attn.q_proj",
  layer: 0,
  label: "q_proj rows 0-63 k 0-63",
  tensors: [L0Q],
};
const softmax: Origin = { op: "layers.0.self_attn.softmax", layer: 0, label: "softmax exp" };
const act: Origin = { op: "layers.0.mlp.act_fn", layer: 0, label: "silu on host", tensors: [] };
const kvLen: Origin = {
  op: "layers.0.self_attn.scores",
  layer: 0,
  label: "scores shape (kv_len)",
  tensors: [L0K],
};

export const FIXTURE: Program = {
  schemaVersion: 1,
  target: "kv260-v002",
  targetFingerprint: "kv260-v002@0123456789abcdef",
  model: "tiny/llama-2l",
  context: 4096,
  segments: [
    {
      name: "load",
      kind: "load",
      steps: [
        npu(memset(0, 3, 1, 1, 9), { label: "fmap shape 3", op: "const" }),
        npu(memset(0, 9, 4, 4, 4), { label: "fmap shape 9", op: "const" }),
        npu(memset(1, 1, 0, 32, 0), { label: "weight tile descriptor 1", op: "const" }),
        { kind: "wait", on: { kind: "npu-idle" }, origin: { label: "load done" } },
      ],
    },
    {
      name: "prefill",
      kind: "prefill",
      maxPos: 4032,
      steps: [
        { kind: "dma", port: "hp0", region: "weights_hp0", offset: 0, bytes: 2048, tag: 7, origin: qProj },
        npu(
          {
            opcode: "GEMM",
            fields: {
              dest_reg: 512,
              src_addr: 300,
              flags: { findemax: 0, accm: 0, w_scale: 1 },
              size_ptr_addr: 1,
              shape_ptr_addr: 3,
              parallel_lane: 4,
            },
          },
          qProj,
          { weightSegment: "l0.q_proj.gemm" },
        ),
        { kind: "wait", on: { kind: "dma", port: "hp0", tag: 7 }, origin: qProj },
      ],
    },
    {
      name: "decode",
      kind: "decode",
      steps: [
        /* 0 */ {
          kind: "dma",
          port: "acp_fmap",
          region: "embedding",
          offset: 0,
          bytes: 128,
          tag: 1,
          origin: embed,
        },
        /* 1 */ npu(
          {
            opcode: "MEMCPY",
            fields: {
              from_device: 1,
              to_device: 0,
              dest_addr: 100,
              src_addr: 0,
              aux_addr: 0,
              shape_ptr_addr: 3,
              async: 0,
            },
          },
          embed,
        ),
        /* 2 */ { kind: "wait", on: { kind: "dma", port: "acp_fmap", tag: 1 }, origin: embed },
        /* 3 */ npu(memset(0, 5, 1, 1, 64), kvLen),
        /* 4 */ {
          kind: "dma",
          port: "hp2",
          region: "weights_hp2",
          offset: 4096,
          bytes: 2048,
          tag: 2,
          origin: qProj,
        },
        /* 5 */ npu(
          {
            opcode: "GEMV",
            fields: {
              dest_reg: 768,
              src_addr: 400,
              flags: { findemax: 0, accm: 1, w_scale: 0 },
              size_ptr_addr: 2,
              shape_ptr_addr: 9,
              parallel_lane: 4,
            },
          },
          qProj,
          { weightSegment: "l0.q_proj" },
        ),
        /* 6 */ { kind: "wait", on: { kind: "dma", port: "hp2", tag: 2 }, origin: qProj },
        /* 7 */ npu(
          {
            opcode: "CVO",
            fields: {
              cvo_func: "EXP",
              src_addr: 768,
              dst_addr: 832,
              length: 64,
              flags: { sub_emax: 1, recip_scale: 0, accm: 0 },
              async: 0,
            },
          },
          softmax,
          { intent: "exp" },
        ),
        /* 8 */ npu(
          {
            opcode: "CVO",
            fields: {
              cvo_func: "REDUCE_SUM",
              src_addr: 768,
              dst_addr: 896,
              length: 64,
              flags: { sub_emax: 0, recip_scale: 0, accm: 0 },
              async: 0,
            },
          },
          softmax,
        ),
        /* 9 */ {
          kind: "dma",
          port: "acp_result",
          region: "host_buf",
          offset: 0,
          bytes: 128,
          tag: 3,
          origin: act,
        },
        /* 10 */ npu(
          {
            opcode: "MEMCPY",
            fields: {
              from_device: 0,
              to_device: 1,
              dest_addr: 0,
              src_addr: 896,
              aux_addr: 0,
              shape_ptr_addr: 3,
              async: 0,
            },
          },
          act,
        ),
        /* 11 */ { kind: "wait", on: { kind: "dma", port: "acp_result", tag: 3 }, origin: act },
        /* 12 */ {
          kind: "host",
          fn: "silu",
          inputs: [{ region: "host_buf", offset: 0, elements: 64, dtype: "bf16", rows: 1, blocks: [64] }],
          outputs: [{ region: "host_buf", offset: 256, elements: 64, dtype: "f32" }],
          attrs: { approx: "exact", eps: 1e-6, dims: [64, 1], inplace: false },
          origin: act,
        },
        /* 13 */ { kind: "wait", on: { kind: "host" }, origin: act },
        /* 14 */ { kind: "dma", port: "hp3", region: "kv_l0", offset: 0, bytes: 0, tag: 4, origin: kvLen },
      ],
    },
  ],
  relocations: [
    {
      segment: "decode",
      step: 0,
      field: "offset",
      expr: { base: 0, terms: [{ variable: "token", stride: 128 }] },
    },
    {
      segment: "decode",
      step: 3,
      field: "b_value",
      expr: { base: 0, terms: [{ variable: "kv_len[0]", stride: 1 }] },
    },
    {
      segment: "decode",
      step: 14,
      field: "bytes",
      expr: { base: 64, terms: [{ variable: "kv_len[0]", stride: 16 }], min: 0, max: 65536 },
    },
    {
      segment: "decode",
      step: 7,
      field: "length",
      expr: { base: 1, terms: [{ variable: "pos", stride: 1 }], max: 4096 },
    },
    {
      segment: "decode",
      step: 12,
      field: "outputs[0].offset",
      expr: { base: 256, terms: [{ variable: "pos", stride: 4 }] },
    },
  ],
  variables: [
    { name: "pos", doc: "position of the token", setBy: "driver" },
    { name: "kv_len", doc: "rows visible to layer i", setBy: "driver" },
    { name: "token", doc: "input token id (embedding row)", setBy: "driver" },
  ],
  allocations: [
    { space: "l2", name: "x", offset: 100, size: 2, segment: "decode", live: [1, 5] },
    { space: "l2", name: "q", offset: 768, size: 8, segment: "decode", live: [5, 8] },
    { space: "const_fmap", name: "shape3", offset: 3, size: 1 },
    { space: "const_weight", name: "tile1", offset: 1, size: 1, segment: "load" },
  ],
  ddr: [
    { name: "weights_hp0", offset: 0, bytes: 1 << 20, kind: "weights", port: "hp0" },
    { name: "weights_hp2", offset: 1 << 20, bytes: 1 << 20, kind: "weights", port: "hp2" },
    { name: "embedding", offset: 2 << 20, bytes: 65536, kind: "embedding" },
    { name: "kv_l0", offset: 3 << 20, bytes: 65536, kind: "kv", port: "hp3" },
    { name: "host_buf", offset: 4 << 20, bytes: 4096, kind: "buffer" },
    { name: "logits", offset: 5 << 20, bytes: 4096, kind: "logits" },
  ],
};

export { EMB, L0K, L0Q };
