/**
 * The simulated machine's state, all of it sized and shaped from the target: L2, the constant
 * cache, the engine's e_max register, the modelled DDR, the DataMover channels and which engine
 * each feeds, the pending asynchronous producers, and the driver's variables. It persists across
 * segment runs (load once, then prefill and decode reuse it), as on the board.
 */
import type { Program } from "../../codegen/program.js";
import type { Target } from "../../target/index.js";
import { DdrMemory } from "./ddr.js";
import { fault } from "./faults.js";
import { Hazards } from "./hazards.js";
import { L2Memory } from "./l2.js";
import { type NumericModel, numericModel } from "./numeric.js";
import { InStream, OutStream } from "./streams.js";
import type { ExactPart, NumericMode, WeightImage } from "./types.js";

export interface Counters {
  steps: number;
  npu: number;
  dma: number;
  host: number;
  waits: number;
  macs: number;
  streamBytes: Record<string, number>;
}

/** Where the step being executed is (for messages and hazard records). */
export interface StepCtx {
  readonly segment: string;
  readonly step: number;
  readonly label: string;
  /** The CVO step's intended function (exact mode). */
  readonly intent?: string;
}

export class SimState {
  readonly numeric: NumericModel;
  readonly l2: L2Memory;
  readonly ddr: DdrMemory;
  readonly hazards = new Hazards();
  /** (bank index × entries + entry) × values_per_entry. */
  readonly constVals: Uint32Array;
  readonly constInit: Uint8Array;
  private readonly bankIndex = new Map<string, number>();
  /** e_max of the last findemax GEMV/GEMM; reset by the first findemax after a sub_emax CVO. */
  emax = Number.NEGATIVE_INFINITY;
  emaxSet = false;
  emaxResetPending = true;
  readonly inStreams = new Map<string, InStream>();
  readonly outStreams = new Map<string, OutStream>();
  /** DDR→PL channels feeding each engine, in target port order (the §4.3 row split order). */
  readonly feeds: Readonly<Record<"gemv" | "gemm", readonly InStream[]>>;
  readonly variables = new Map<string, number>();
  readonly counters: Counters = { steps: 0, npu: 0, dma: 0, host: 0, waits: 0, macs: 0, streamBytes: {} };
  dmaSeq = 0;
  /** Scratch for the engines: quantized activations and results. */
  xv = new Float64Array(0);
  y = new Float64Array(0);

  constructor(
    readonly target: Target,
    readonly program: Program,
    readonly image: WeightImage,
    readonly mode: NumericMode,
    exactParts: readonly ExactPart[] = [],
  ) {
    this.numeric = numericModel(target, mode, exactParts);
    this.l2 = new L2Memory(target);
    this.ddr = new DdrMemory(program.ddr, image, mode === "exact");
    const cc = target.file.const_cache;
    for (const [i, b] of cc.banks.entries()) this.bankIndex.set(b.name, i);
    this.constVals = new Uint32Array(cc.banks.length * cc.entries_per_bank * cc.values_per_entry);
    this.constInit = new Uint8Array(cc.banks.length * cc.entries_per_bank);
    const t = target.file;
    for (const ch of t.datamover.channels) {
      const port = t.ports.find((p) => p.name === ch.port);
      if (!port) continue;
      if (ch.direction === "ddr_to_pl") {
        this.inStreams.set(
          ch.name,
          new InStream(ch.name, port.fifo_bytes, t.datamover.max_outstanding_commands),
        );
      } else this.outStreams.set(ch.name, new OutStream(ch.name));
    }
    const feeding = (engine: "gemv" | "gemm") =>
      t.ports
        .filter((p) => p.feeds.includes(engine))
        .flatMap((p) => t.datamover.channels.filter((c) => c.port === p.name && c.direction === "ddr_to_pl"))
        .map((c) => this.inStreams.get(c.name)!);
    this.feeds = { gemv: feeding("gemv"), gemm: feeding("gemm") };
  }

  /** The channel feeding L2 (MEMCPY host→L2) or fed by it (L2→host). */
  l2Channel(dir: "in" | "out"): InStream | OutStream | undefined {
    const t = this.target.file;
    const l2Ports = new Set(t.ports.filter((p) => p.feeds.includes("l2")).map((p) => p.name));
    const ch = t.datamover.channels.find(
      (c) => l2Ports.has(c.port) && c.direction === (dir === "in" ? "ddr_to_pl" : "pl_to_ddr"),
    );
    return ch && (dir === "in" ? this.inStreams.get(ch.name) : this.outStreams.get(ch.name));
  }

  private slot(bank: string, entry: number, what: string): number {
    const b = this.bankIndex.get(bank);
    const n = this.target.file.const_cache.entries_per_bank;
    if (b === undefined) throw fault("bad-instr", `${what}: the target has no constant-cache bank ${bank}`);
    if (entry >= n) throw fault("addr-range", `${what} = ${entry}: the ${bank} bank has entries 0..${n - 1}`);
    return b * n + entry;
  }

  bankName(code: number): string | undefined {
    return this.target.file.const_cache.banks.find((b) => b.code === code)?.name;
  }

  writeConst(bank: string, entry: number, values: readonly number[], what: string): void {
    const s = this.slot(bank, entry, what);
    const v = this.target.file.const_cache.values_per_entry;
    for (let i = 0; i < v; i++) this.constVals[s * v + i] = values[i] ?? 0;
    this.constInit[s] = 1;
  }

  /** An entry's values; faults when no MEMSET wrote it. A bank the target does not read gives zeros. */
  readConst(bank: string, entry: number, what: string): readonly number[] {
    const s = this.slot(bank, entry, what);
    const v = this.target.file.const_cache.values_per_entry;
    const spec = this.target.file.const_cache.banks.find((b) => b.name === bank)!;
    if (!spec.read) return new Array<number>(v).fill(0);
    if (!this.constInit[s]) {
      throw fault("uninit-const", `${what} = ${entry}: ${bank} entry ${entry} was never written by a MEMSET`);
    }
    return Array.from(this.constVals.subarray(s * v, (s + 1) * v));
  }

  /** Scratch arrays of at least the given lengths. */
  scratch(xv: number, y: number): void {
    if (this.xv.length < xv) this.xv = new Float64Array(xv);
    if (this.y.length < y) this.y = new Float64Array(y);
  }
}
