/**
 * The facts about the target that codegen needs, read once from the Target (file + derived values):
 * limits of each engine, which ports feed it, the CVO function codes by name, beat and scale sizes.
 * Nothing in codegen states a hardware number; it asks the Machine.
 */
import { unsupported } from "../diag/index.js";
import { compiledIsa, type IsaOptions } from "../isa/index.js";
import type { Target } from "../target/index.js";
import type { DmaPort } from "./program.js";

export type Engine = "gemv" | "gemm";
export type CvoOperands = "unary" | "reduce" | "scalar_first" | "binary_dst" | "rope_pairs";

export interface CvoFn {
  readonly name: string;
  readonly code: number;
  readonly operands: CvoOperands;
  readonly extension: boolean;
}

export interface Machine {
  readonly target: Target;
  /** BF16 elements per L2 word. */
  readonly elemsPerWord: number;
  readonly wordBytes: number;
  readonly l2Start: number;
  /** Exclusive end word usable by every instruction class (min over classes). */
  readonly l2End: number;
  readonly usableEnd: Readonly<Record<"gemv" | "gemm" | "memcpy" | "cvo", number>>;
  /** Largest K one GEMV/GEMM instruction takes. */
  readonly maxK: number;
  /** Largest N of one GEMV call (rows per lane × lanes). */
  readonly gemvMaxRows: number;
  /** Rows of a stream tile: min(maxK, gemvMaxRows), so decode and prefill tiles coincide. */
  readonly tileRows: number;
  /** Longest CVO `length`: the target's SFU limit, capped by the ISA field's width. */
  readonly cvoMaxLength: number;
  readonly constEntries: number;
  readonly constValueMax: number;
  readonly bankCode: Readonly<Record<"fmap_shape" | "weight_shape", number>>;
  /** Ports feeding each engine, in target order. */
  readonly enginePorts: Readonly<Record<Engine, readonly DmaPort[]>>;
  readonly portFifoBytes: Readonly<Record<string, number>>;
  /** Bytes of one weight-stream beat and INT4 values per beat. */
  readonly beatBytes: number;
  readonly int4PerBeat: number;
  /** Bytes of one weight scale (target numeric.weights.scale_dtype). */
  readonly scaleBytes: number;
  readonly maxDmaBytes: number;
  readonly dmaTags: number;
  readonly maxOutstanding: number;
  readonly cvo: ReadonlyMap<string, CvoFn>;
  /** CVO extension names → codes, for the ISA encoder. */
  readonly cvoExtensions: Readonly<Record<string, number>>;
  /** One options object for src/isa (its compiled-table cache is keyed by object). */
  readonly isaOptions: IsaOptions;
  readonly memcpyDirections: ReadonlySet<string>;
  readonly asyncSupported: boolean;
  readonly activationBytes: number;
}

const SCALE_BYTES = { bf16: 2, f16: 2, f32: 4 } as const;

const HP_PORTS: readonly DmaPort[] = ["hp0", "hp1", "hp2", "hp3"];

function asPort(name: string): DmaPort {
  if ((HP_PORTS as readonly string[]).includes(name)) return name as DmaPort;
  throw unsupported(
    "codegen/target-port",
    `target port "${name}" feeds an engine but codegen names weight channels hp0..hp3 only`,
  );
}

/** Builds the Machine of a target. Throws codegen/target-* for a target codegen cannot drive. */
export function machineOf(target: Target): Machine {
  const f = target.file;
  const d = target.derived;
  const enginePorts = {
    gemv: d.gemv.feed.ports.map(asPort),
    gemm: d.gemm.feed.ports.map(asPort),
  };
  const beats = [...enginePorts.gemv, ...enginePorts.gemm].map((p) => d.ports[p]?.bytes_per_beat ?? 0);
  const beatBytes = beats[0] ?? 16;
  if (beats.some((b) => b !== beatBytes))
    throw unsupported("codegen/target-port", "ports feeding the engines have different widths");
  const cvo = new Map<string, CvoFn>();
  const ext: Record<string, number> = {};
  for (const fn of f.isa.cvo_functions) {
    cvo.set(fn.name, { name: fn.name, code: fn.code, operands: fn.operands, extension: fn.extension });
    if (fn.extension) ext[fn.name] = fn.code;
  }
  for (const need of ["EXP", "REDUCE_SUM", "SCALE", "SQRT", "RECIP"])
    if (!cvo.has(need))
      throw unsupported("codegen/target-cvo", `target ${f.name} lacks the CVO function ${need}`);
  const fifo: Record<string, number> = {};
  for (const p of f.ports) fifo[p.name] = p.fifo_bytes;
  for (const ch of f.datamover.channels) {
    const port = f.ports.find((p) => p.name === ch.port);
    if (port) fifo[ch.name] = port.fifo_bytes;
  }
  const bank = (name: "fmap_shape" | "weight_shape") => {
    const b = f.const_cache.banks.find((x) => x.name === name);
    if (!b) throw unsupported("codegen/target-const", `target ${f.name} has no ${name} constant bank`);
    return b.code;
  };
  const isaOptions: IsaOptions = Object.keys(ext).length ? { cvoExtensions: ext } : {};
  const lengthField = compiledIsa(isaOptions).byMnemonic.get("CVO")?.fieldByName.get("length");
  const cvoMaxLength = Math.min(f.l2.cvo_max_length_elements, lengthField?.limit ?? Number.POSITIVE_INFINITY);
  const usable = d.l2.usable_end_word;
  const maxK = d.gemv.max_k_per_instruction;
  return {
    target,
    elemsPerWord: d.l2.elements_per_word,
    wordBytes: f.l2.word_bytes,
    l2Start: f.l2.backed_first_word,
    l2End: Math.min(usable.gemv, usable.gemm, usable.memcpy, usable.cvo),
    usableEnd: usable,
    maxK,
    gemvMaxRows: d.gemv.max_rows_per_call,
    tileRows: Math.min(maxK, d.gemv.max_rows_per_call),
    cvoMaxLength,
    constEntries: f.const_cache.entries_per_bank,
    constValueMax: d.const_cache.value_max,
    bankCode: { fmap_shape: bank("fmap_shape"), weight_shape: bank("weight_shape") },
    enginePorts,
    portFifoBytes: fifo,
    beatBytes,
    int4PerBeat: (beatBytes * 8) / d.numeric.weight_bits,
    scaleBytes: SCALE_BYTES[f.numeric.weights.scale_dtype],
    maxDmaBytes: d.datamover.max_command_bytes,
    dmaTags: d.datamover.tags,
    maxOutstanding: f.datamover.max_outstanding_commands,
    cvo,
    cvoExtensions: ext,
    isaOptions,
    memcpyDirections: new Set(f.memcpy.directions),
    asyncSupported: f.control.async_supported,
    activationBytes: d.numeric.activation_bytes,
  };
}

/** True when the target declares CVO function `name` (documented or extension). */
export function hasCvo(m: Machine, name: string): boolean {
  return m.cvo.has(name);
}

export const wordsFor = (m: Machine, elements: number): number => Math.ceil(elements / m.elemsPerWord);
