/**
 * Hand-written programs for the functional simulator's tests: one-line step builders, a program
 * assembler, and tile/bf16 helpers. Codegen is not needed to test the contract.
 */
import type {
  DdrRegion,
  DmaPort,
  DmaStep,
  HostOperand,
  HostStep,
  NpuStep,
  Program,
  Relocation,
  Segment,
  Step,
  Variable,
  WaitOn,
  WaitStep,
} from "../../../src/codegen/program.js";
import { loadTarget, type Target } from "../../../src/target/index.js";
import { f32ToBf16 } from "../../../src/util/float.js";
import {
  type FunctionalInputs,
  FunctionalMachine,
  imageFromRegions,
  packTile,
  runFunctional,
  type SimOptions,
} from "../../../src/validate/sim/index.js";

export const KV260: Target = loadTarget("kv260-v002");
export const KV260_EXT: Target = loadTarget("kv260-v002-ext");

let labels = 0;
const origin = (label?: string) => ({ label: label ?? `s${labels++}` });

export function npu(
  opcode: NpuStep["instr"]["opcode"],
  fields: NpuStep["instr"]["fields"],
  extra: Partial<NpuStep> = {},
): NpuStep {
  return { kind: "npu", instr: { opcode, fields }, origin: origin(extra.origin?.label), ...extra };
}

export const memset = (
  bank: 0 | 1,
  entry: number,
  a: number,
  b: number,
  c: number,
  label?: string,
): NpuStep =>
  npu(
    "MEMSET",
    { dest_cache: bank, dest_addr: entry, a_value: a, b_value: b, c_value: c },
    label ? { origin: { label } } : {},
  );

export interface MatFlags {
  readonly findemax?: 0 | 1;
  readonly accm?: 0 | 1;
  readonly w_scale?: 0 | 1;
}

export function gemv(
  dest: number,
  src: number,
  shape: number,
  size: number,
  flags: MatFlags = {},
  opts: { lanes?: number; label?: string; gemm?: boolean } = {},
): NpuStep {
  return npu(
    opts.gemm ? "GEMM" : "GEMV",
    {
      dest_reg: dest,
      src_addr: src,
      flags: { findemax: flags.findemax ?? 0, accm: flags.accm ?? 0, w_scale: flags.w_scale ?? 0 },
      size_ptr_addr: size,
      shape_ptr_addr: shape,
      parallel_lane: opts.lanes ?? 0,
    },
    opts.label ? { origin: { label: opts.label } } : {},
  );
}

export interface CvoFlags {
  readonly sub_emax?: 0 | 1;
  readonly recip_scale?: 0 | 1;
  readonly accm?: 0 | 1;
}

export function cvo(
  func: string,
  src: number,
  dst: number,
  length: number,
  flags: CvoFlags = {},
  opts: { async?: 0 | 1; intent?: string; label?: string } = {},
): NpuStep {
  return npu(
    "CVO",
    {
      cvo_func: func,
      src_addr: src,
      dst_addr: dst,
      length,
      flags: { sub_emax: flags.sub_emax ?? 0, recip_scale: flags.recip_scale ?? 0, accm: flags.accm ?? 0 },
      async: opts.async ?? 0,
    },
    {
      ...(opts.intent ? { intent: opts.intent } : {}),
      ...(opts.label ? { origin: { label: opts.label } } : {}),
    },
  );
}

export function memcpy(
  dir: "h2l" | "l2h" | "l2l",
  dest: number,
  src: number,
  shape: number,
  opts: { async?: 0 | 1; label?: string } = {},
): NpuStep {
  const [from, to] = dir === "h2l" ? [1, 0] : dir === "l2h" ? [0, 1] : [0, 0];
  return npu(
    "MEMCPY",
    {
      from_device: from,
      to_device: to,
      dest_addr: dest,
      src_addr: src,
      aux_addr: 0,
      shape_ptr_addr: shape,
      async: opts.async ?? 0,
    },
    opts.label ? { origin: { label: opts.label } } : {},
  );
}

export const dma = (
  port: DmaPort,
  region: string,
  offset: number,
  bytes: number,
  tag = 0,
  label?: string,
): DmaStep => ({
  kind: "dma",
  port,
  region,
  offset,
  bytes,
  tag,
  origin: origin(label),
});

export const wait = (on: WaitOn, label?: string): WaitStep => ({ kind: "wait", on, origin: origin(label) });
export const waitNpu = (): WaitStep => wait({ kind: "npu-idle" });
export const waitDma = (port: DmaPort, tag = 0): WaitStep => wait({ kind: "dma", port, tag });

export const operand = (
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

export const host = (
  fn: string,
  inputs: HostOperand[],
  outputs: HostOperand[],
  attrs: HostStep["attrs"] = {},
  label?: string,
): HostStep => ({ kind: "host", fn, inputs, outputs, attrs, origin: origin(label) });

export const region = (
  name: string,
  bytes: number,
  kind: DdrRegion["kind"] = "table",
  offset = 0,
): DdrRegion => ({
  name,
  offset,
  bytes,
  kind,
});

export function program(
  segments: Record<string, readonly Step[]>,
  ddr: readonly DdrRegion[],
  extra: { relocations?: Relocation[]; variables?: Variable[] } = {},
): Program {
  const segs: Segment[] = Object.entries(segments).map(([name, steps]) => ({
    name,
    kind: name.startsWith("load") ? "load" : name.startsWith("prefill") ? "prefill" : "decode",
    steps,
  }));
  return {
    schemaVersion: 1,
    target: "kv260-v002",
    targetFingerprint: KV260.fingerprint,
    model: "hand-written",
    segments: segs,
    relocations: extra.relocations ?? [],
    variables: extra.variables ?? [],
    allocations: [],
    ddr,
  };
}

/** BF16 little-endian bytes of values. */
export function bf16Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => {
    const h = f32ToBf16(v);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  });
  return out;
}

/** A row-major tile (order 0) of int codes with per-row (group 0) or group scales, BF16. */
export function tile(rows: number[][], scales?: number[], group = 0, order: 0 | 1 = 0): Uint8Array {
  const k = rows[0]!.length;
  const codes = Int8Array.from(rows.flat());
  return packTile(codes, scales ? Float32Array.from(scales) : undefined, rows.length, k, {
    order,
    group,
    scales: scales !== undefined,
    scaleDtype: "bf16",
  });
}

/** Runs segments in order with the given variables and reads regions after each run. */
export function run(
  p: Program,
  image: Record<string, Uint8Array>,
  runs: readonly (string | [string, Record<string, number>])[],
  reads: FunctionalInputs["reads"] = [],
  opts: SimOptions & { target?: Target } = {},
) {
  const inputs: FunctionalInputs = {
    runs: runs.map((r) =>
      typeof r === "string" ? { segment: r, variables: {} } : { segment: r[0], variables: r[1] },
    ),
    reads,
  };
  return runFunctional(p, imageFromRegions(image), opts.target ?? KV260, inputs, opts);
}

/** The steps that load `values` (BF16) from DDR region `from` into L2 word `word` (fmap entry `shape`). */
export function loadL2(from: string, word: number, count: number, shape: number, tag = 1): Step[] {
  const words = Math.ceil(count / 8);
  return [
    memset(0, shape, 1, 1, count),
    dma("acp_fmap", from, 0, words * 16, tag),
    memcpy("h2l", word, 0, shape),
  ];
}

/** The steps that store `count` L2 elements at `word` into DDR region `to` and wait for them. */
export function storeL2(to: string, word: number, count: number, shape: number, tag = 2): Step[] {
  const words = Math.ceil(count / 8);
  return [
    memset(0, shape, 1, 1, count),
    dma("acp_result", to, 0, words * 16, tag),
    memcpy("l2h", 0, word, shape),
    waitDma("acp_result", tag),
  ];
}

/** A machine that has run one "decode" segment of `steps`, with L2 words preset. */
export function machine(
  steps: readonly Step[],
  opts: {
    target?: Target;
    mode?: "exact" | "hardware";
    ddr?: DdrRegion[];
    image?: Record<string, Uint8Array>;
    l2?: Record<number, readonly number[]>;
    variables?: Record<string, number>;
    relocations?: Relocation[];
  } = {},
): FunctionalMachine {
  const p = program({ decode: steps }, opts.ddr ?? [], { relocations: opts.relocations ?? [] });
  const m = new FunctionalMachine(p, imageFromRegions(opts.image ?? {}), opts.target ?? KV260, {
    mode: opts.mode ?? "hardware",
  });
  for (const [word, values] of Object.entries(opts.l2 ?? {})) m.state.l2.data.set(values, Number(word) * 8);
  m.runSegment("decode", opts.variables ?? {});
  return m;
}

/** `n` L2 elements from word `word`. */
export const l2 = (m: FunctionalMachine, word: number, n: number): number[] =>
  Array.from(m.state.l2.data.subarray(word * 8, word * 8 + n));

/** Fault messages of a machine. */
export const messages = (m: FunctionalMachine): string[] => m.log.faults.map((f) => f.message);
