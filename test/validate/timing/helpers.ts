/**
 * Hand-made programs for the timing simulator's tests: one-line step builders and a program
 * assembler. Timing needs shapes and byte counts, not values, so no weight image is involved.
 */
import type {
  DdrRegion,
  DmaPort,
  DmaStep,
  HostOperand,
  HostStep,
  NpuStep,
  Origin,
  Program,
  Relocation,
  Segment,
  Step,
  Variable,
  WaitOn,
  WaitStep,
} from "../../../src/codegen/program.js";
import { loadTarget, type Target } from "../../../src/target/index.js";

export const KV260: Target = loadTarget("kv260-v002");
export const KV260_EXT: Target = loadTarget("kv260-v002-ext");

const o = (label: string, layer?: number, tensors?: readonly string[]): Origin => ({
  label,
  ...(layer !== undefined ? { layer } : {}),
  ...(tensors ? { tensors } : {}),
});

export interface StepOpts {
  readonly layer?: number;
  readonly label?: string;
  readonly tensors?: readonly string[];
}

export function memset(
  bank: 0 | 1,
  entry: number,
  a: number,
  b: number,
  c: number,
  opts: StepOpts = {},
): NpuStep {
  return {
    kind: "npu",
    instr: {
      opcode: "MEMSET",
      fields: { dest_cache: bank, dest_addr: entry, a_value: a, b_value: b, c_value: c },
    },
    origin: o(opts.label ?? `memset ${bank}.${entry}`, opts.layer),
  };
}

export function gemv(
  shape: number,
  size: number,
  opts: StepOpts & { lanes?: number; wScale?: 0 | 1; gemm?: boolean } = {},
): NpuStep {
  return {
    kind: "npu",
    instr: {
      opcode: opts.gemm ? "GEMM" : "GEMV",
      fields: {
        dest_reg: 0,
        src_addr: 0,
        flags: { findemax: 0, accm: 0, w_scale: opts.wScale ?? 1 },
        size_ptr_addr: size,
        shape_ptr_addr: shape,
        parallel_lane: opts.lanes ?? 0,
      },
    },
    origin: o(opts.label ?? "gemv", opts.layer, opts.tensors),
  };
}

export function cvo(func: string, length: number, opts: StepOpts & { async?: 0 | 1 } = {}): NpuStep {
  return {
    kind: "npu",
    instr: {
      opcode: "CVO",
      fields: {
        cvo_func: func,
        src_addr: 0,
        dst_addr: 0,
        length,
        flags: { sub_emax: 0, recip_scale: 0, accm: 0 },
        async: opts.async ?? 0,
      },
    },
    origin: o(opts.label ?? `cvo ${func}`, opts.layer),
  };
}

export function memcpy(
  dir: "in" | "out" | "l2",
  shape: number,
  opts: StepOpts & { async?: 0 | 1 } = {},
): NpuStep {
  const [from, to] = dir === "in" ? [1, 0] : dir === "out" ? [0, 1] : [0, 0];
  return {
    kind: "npu",
    instr: {
      opcode: "MEMCPY",
      fields: {
        from_device: from,
        to_device: to,
        dest_addr: 0,
        src_addr: 0,
        aux_addr: 0,
        shape_ptr_addr: shape,
        async: opts.async ?? 0,
      },
    },
    origin: o(opts.label ?? `memcpy ${dir}`, opts.layer),
  };
}

export function dma(port: DmaPort, region: string, bytes: number, tag = 0, opts: StepOpts = {}): DmaStep {
  return {
    kind: "dma",
    port,
    region,
    offset: 0,
    bytes,
    tag,
    origin: o(opts.label ?? `dma ${port}`, opts.layer),
  };
}

export function wait(on: WaitOn, opts: StepOpts = {}): WaitStep {
  return { kind: "wait", on, origin: o(opts.label ?? `wait ${on.kind}`, opts.layer) };
}

export const waitNpu = (opts: StepOpts = {}) => wait({ kind: "npu-idle" }, opts);
export const waitDma = (port: DmaPort, tag: number) => wait({ kind: "dma", port, tag });

export function operand(region: string, elements: number, dtype: HostOperand["dtype"] = "bf16"): HostOperand {
  return { region, offset: 0, elements, dtype };
}

export function host(
  fn: string,
  inputs: readonly HostOperand[],
  outputs: readonly HostOperand[],
  attrs: HostStep["attrs"] = {},
  opts: StepOpts = {},
): HostStep {
  return { kind: "host", fn, inputs, outputs, attrs, origin: o(opts.label ?? fn, opts.layer) };
}

export const REGIONS: readonly DdrRegion[] = [
  { name: "weights.hp0", offset: 0, bytes: 1 << 30, kind: "weights", port: "hp0" },
  { name: "weights.hp1", offset: 0, bytes: 1 << 30, kind: "weights", port: "hp1" },
  { name: "weights.hp2", offset: 0, bytes: 1 << 30, kind: "weights", port: "hp2" },
  { name: "weights.hp3", offset: 0, bytes: 1 << 30, kind: "weights", port: "hp3" },
  { name: "kv", offset: 0, bytes: 1 << 30, kind: "kv" },
  { name: "buf", offset: 0, bytes: 1 << 24, kind: "buffer" },
];

export interface ProgramParts {
  readonly load?: readonly Step[];
  readonly decode?: readonly Step[];
  readonly prefill?: readonly Step[];
  readonly relocations?: readonly Relocation[];
  readonly variables?: readonly Variable[];
  readonly model?: string;
}

export function program(p: ProgramParts, target: Target = KV260): Program {
  const segments: Segment[] = [];
  if (p.load) segments.push({ name: "load", kind: "load", steps: p.load });
  if (p.prefill) segments.push({ name: "prefill", kind: "prefill", steps: p.prefill });
  if (p.decode) segments.push({ name: "decode", kind: "decode", steps: p.decode });
  return {
    schemaVersion: 1,
    target: target.file.name,
    targetFingerprint: target.fingerprint,
    model: p.model ?? "hand-made",
    segments,
    relocations: p.relocations ?? [],
    variables: p.variables ?? [],
    allocations: [],
    ddr: REGIONS,
  };
}

/** Bytes of one INT4 tile of `rows` × `k` with per-row BF16 scales (row-major, docs/program.md §4.3). */
export function tileBytes(rows: number, k: number): number {
  const rowBytes = Math.ceil(k / 32) * 16;
  return rows * rowBytes + Math.ceil((rows * 2) / 16) * 16;
}

/**
 * The steps of one weight-streaming GEMV of n × k over `ports` (shape entry 0 set by the caller's
 * MEMSETs): one DMA per port with that port's rows, then the instruction.
 */
export function streamedGemv(
  n: number,
  k: number,
  ports: readonly DmaPort[],
  opts: StepOpts & { region?: (p: DmaPort) => string } = {},
): Step[] {
  const per = Math.ceil(n / ports.length);
  const steps: Step[] = [memset(0, 0, 1, n, k, opts)];
  ports.forEach((p, j) => {
    const rows = Math.max(0, Math.min(n, (j + 1) * per) - j * per);
    if (rows > 0) steps.push(dma(p, opts.region?.(p) ?? `weights.${p}`, tileBytes(rows, k), 0, opts));
  });
  steps.push(gemv(0, 1, opts));
  return steps;
}
