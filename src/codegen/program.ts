/**
 * The program model (docs/program.md): the command stream codegen produces, the simulators execute
 * and the C driver replays. Plain data, serialisable to program.json.
 */

/** Where a step comes from: the graph op, its layer and the HF tensors it touches. */
export interface Origin {
  readonly op?: string;
  readonly layer?: number;
  /** Short human label, e.g. "q_proj rows 0-511 k 0-2047". */
  readonly label: string;
  readonly tensors?: readonly string[];
}

export type DmaPort = "hp0" | "hp1" | "hp2" | "hp3" | "acp_fmap" | "acp_result";

/** A decoded instruction: the mnemonic and its typed field values (as src/isa decodes them). */
export interface NpuInstr {
  readonly opcode: "GEMV" | "GEMM" | "MEMCPY" | "MEMSET" | "CVO";
  readonly fields: Readonly<Record<string, number | string | Readonly<Record<string, number>>>>;
}

export interface NpuStep {
  readonly kind: "npu";
  readonly instr: NpuInstr;
  /** For CVO steps: the function the compiler intended (exact-mode semantics, e.g. "gelu_tanh"). */
  readonly intent?: string;
  /** For GEMV/GEMM: the weight segment (layout) this instruction consumes. */
  readonly weightSegment?: string;
  readonly origin: Origin;
}

export interface DmaStep {
  readonly kind: "dma";
  readonly port: DmaPort;
  readonly region: string;
  readonly offset: number;
  readonly bytes: number;
  readonly tag: number;
  readonly origin: Origin;
}

export interface HostOperand {
  readonly region: string;
  readonly offset: number;
  readonly elements: number;
  readonly dtype: "f32" | "bf16" | "i32" | "int4";
  /**
   * Optional (added by codegen for prefill values, docs/program.md §5): the operand holds `rows`
   * token rows stored as column blocks of these widths, block after block, each block `rows` rows
   * of its width padded to whole L2 words. Absent: one row of `elements` contiguous values.
   */
  readonly rows?: number;
  readonly blocks?: readonly number[];
}

export interface HostStep {
  readonly kind: "host";
  readonly fn: string;
  readonly inputs: readonly HostOperand[];
  readonly outputs: readonly HostOperand[];
  readonly attrs: Readonly<Record<string, number | string | boolean | readonly number[]>>;
  readonly origin: Origin;
}

export type WaitOn =
  | { readonly kind: "npu-idle" }
  | { readonly kind: "dma"; readonly port: DmaPort; readonly tag: number }
  | { readonly kind: "host" };

export interface WaitStep {
  readonly kind: "wait";
  readonly on: WaitOn;
  readonly origin: Origin;
}

export type Step = NpuStep | DmaStep | HostStep | WaitStep;

export type SegmentKind = "load" | "prefill" | "decode";

export interface Segment {
  readonly name: string;
  readonly kind: SegmentKind;
  readonly steps: readonly Step[];
  /**
   * Optional (added by codegen for prefill): the largest `pos` the segment may be replayed at. A
   * prefill chunk writes all its rows before a layer that shares a sliding-window cache reads it,
   * so the chunk must not wrap that ring; past this position the driver runs decode token by token.
   */
  readonly maxPos?: number;
}

/** value = clamp(base + Σ stride × var, min, max); see docs/program.md §2. */
export interface RelocExpr {
  readonly base: number;
  readonly terms: readonly { readonly variable: string; readonly stride: number }[];
  readonly min?: number;
  readonly max?: number;
}

export interface Relocation {
  readonly segment: string;
  readonly step: number;
  /** An instruction field name (e.g. "b_value", "length") or a DMA field ("offset", "bytes"). */
  readonly field: string;
  readonly expr: RelocExpr;
}

export interface Variable {
  readonly name: string;
  readonly doc: string;
  /** Who sets it: the driver before the segment, or a host step during it. */
  readonly setBy: "driver" | "host";
}

export interface Allocation {
  readonly space: "l2" | "const_fmap" | "const_weight" | "ddr";
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** Live range in step indices of the segment (inclusive); absent for whole-program allocations. */
  readonly segment?: string;
  readonly live?: readonly [number, number];
}

export interface DdrRegion {
  readonly name: string;
  readonly offset: number;
  readonly bytes: number;
  readonly kind: "weights" | "embedding" | "kv" | "buffer" | "logits" | "table";
  readonly port?: DmaPort;
}

export interface Program {
  readonly schemaVersion: 1;
  readonly target: string;
  readonly targetFingerprint: string;
  readonly model: string;
  readonly segments: readonly Segment[];
  readonly relocations: readonly Relocation[];
  readonly variables: readonly Variable[];
  readonly allocations: readonly Allocation[];
  readonly ddr: readonly DdrRegion[];
  /**
   * Optional (added by codegen): the context the program supports — positions 0 … context−1
   * (RoPE tables and full-attention rings are sized for it). A segment replayed at a larger
   * position is a driver error.
   */
  readonly context?: number;
}

/** Evaluates a relocation expression for the given variable values. */
export function evalReloc(expr: RelocExpr, vars: ReadonlyMap<string, number>): number {
  let v = expr.base;
  for (const t of expr.terms) {
    const x = vars.get(t.variable);
    if (x === undefined) throw new Error(`relocation variable ${t.variable} is not set`);
    v += t.stride * x;
  }
  if (expr.min !== undefined) v = Math.max(expr.min, v);
  if (expr.max !== undefined) v = Math.min(expr.max, v);
  return v;
}
