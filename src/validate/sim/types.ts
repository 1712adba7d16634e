/**
 * The functional simulator's data types: options, inputs, faults and results. Faults are values
 * (style.md §7.9): a run collects them and keeps going unless asked to throw on the first one.
 */
import type { DdrRegion } from "../../codegen/program.js";

/**
 * `hardware`: the target's numeric model (BF16 L2, INT8 block activations in the engines, the
 * SFU formulas as the target writes them). `exact`: every value float32, no BF16 rounding, no
 * activation quantisation, INT4 weights dequantized, the SFU functions the compiler intended.
 */
export type NumericMode = "exact" | "hardware";

/** Every contract violation the simulator detects (docs/simulator.md, "Faults"). */
export const FAULT_KINDS = [
  /** An L2 vector outside the backed words / the class's reach, misaligned, or a DDR access outside its region. */
  "addr-range",
  /** A constant-cache entry read before any MEMSET wrote it. */
  "uninit-const",
  /** An instruction that does not encode: reserved bits, reserved values, an opcode the target lacks. */
  "bad-instr",
  /** An engine needs weight bytes no DataMover command has pushed on its port yet. */
  "stream-underrun",
  /** Bytes left on a port at segment end, or more commands than the FIFO can absorb before they are consumed. */
  "stream-overrun",
  /** A step reads data that an unfinished (not waited for) step is still producing. */
  "raw-hazard",
  /** A step writes data that an unfinished step is still producing. */
  "waw-hazard",
  /** A relocation whose variable is not set, or whose value does not fit the field. */
  "reloc",
  /** A host↔L2 MEMCPY without its ACP DataMover command (or with the wrong byte count), or the reverse. */
  "memcpy-unpaired",
  /** GEMV/GEMM shape against the target's limits, or a malformed tile descriptor / CVO operand. */
  "shape",
  /** A wait that can never complete (nothing issued with that tag, or its data comes only later). */
  "wait",
  /** A host step the simulator does not know, or with operands its formula cannot take. */
  "host-op",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  readonly kind: FaultKind;
  /** Segment name and step index (−1 for end-of-segment checks). */
  readonly segment: string;
  readonly step: number;
  /** Index of the segment run within the simulation (0 = first run). */
  readonly run: number;
  /** The step's origin label (what codegen wrote), "" for end-of-segment checks. */
  readonly origin: string;
  /** What is wrong, without the location. */
  readonly detail: string;
  /** `<segment> step <i> (<origin>): <detail>`: what a person reads. */
  readonly message: string;
}

/** The weight image: the bytes of the image-backed DDR regions (kind weights, embedding, table). */
export interface WeightImage {
  /** The region's initial bytes, or undefined when the image does not hold it (then it is zero). */
  region(r: DdrRegion): Uint8Array | undefined;
  /** The off-DDR part of weights.bin, which host steps read as the region named `offddr`. */
  readonly offDdr?: Uint8Array;
}

/**
 * Parts of the hardware numeric model that `SimOptions.exactParts` can make exact, to attribute
 * hardware-mode error: the engines' INT8 activations, BF16 rounding in L2, the SFU's formulas
 * (a CVO with a recorded intent computes it).
 */
export const EXACT_PARTS = ["activations", "l2", "sfu"] as const;
export type ExactPart = (typeof EXACT_PARTS)[number];

export interface SimOptions {
  readonly mode?: NumericMode;
  /** Hardware mode only: these parts computed exactly (error attribution; default none). */
  readonly exactParts?: readonly ExactPart[];
  /** Throw a PccxError (`sim/<kind>`) on the first fault instead of collecting it. */
  readonly throwOnFault?: boolean;
  /** Stop a run after this many faults (default 100): one bug tends to cascade. */
  readonly maxFaults?: number;
}

/** One replay of a segment with the variables the driver sets before it. */
export interface SegmentRun {
  readonly segment: string;
  readonly variables: Readonly<Record<string, number>>;
}

/** A typed read of a DDR region after a run. */
export interface RegionRead {
  readonly region: string;
  readonly offset?: number;
  /** Element count (default: the whole region). */
  readonly elements?: number;
  /** Element type (default: the type last written there, else bf16). */
  readonly dtype?: "bf16" | "f32" | "i32";
}

export interface FunctionalInputs {
  readonly runs: readonly SegmentRun[];
  /** Regions to read back after every run (e.g. the logits). */
  readonly reads?: readonly RegionRead[];
}

export interface SimStats {
  readonly steps: number;
  readonly npu: number;
  readonly dma: number;
  readonly host: number;
  readonly waits: number;
  /** Multiply-accumulates done by GEMV and GEMM (M·N·K per instruction). */
  readonly macs: number;
  /** Bytes consumed from each DataMover channel. */
  readonly streamBytes: Readonly<Record<string, number>>;
}

export interface FunctionalResult {
  readonly faults: readonly Fault[];
  /** outputs[run][read]: the values of `inputs.reads`, in order, after each run. */
  readonly outputs: readonly (readonly Float32Array[])[];
  readonly stats: SimStats;
}
