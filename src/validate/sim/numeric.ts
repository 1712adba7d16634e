/**
 * The numeric model, read from the target (`numeric`): what L2 stores (BF16: `r(x)`), how the
 * engines turn activations into INT8 (`q(x)`: a shared exponent per block of
 * `engine_activation.block_elements` elements), and the stored scale format. In `exact` mode both
 * `r` and `q` are the identity on float32 values (docs/program.md §4 notation); in `hardware` mode,
 * `exactParts` makes chosen parts exact (error attribution, docs/simulator.md).
 */
import { roundHalfEven } from "../../layout/quant/rounding.js";
import type { Target } from "../../target/index.js";
import { bf16ToF32, f16ToF32, roundBf16, roundBf16InPlace } from "../../util/float.js";
import type { ExactPart, NumericMode } from "./types.js";

export type ScaleDtype = "bf16" | "f16" | "f32";

/** Round a float32 (given as a number) to BF16, ties to even; NaN stays NaN (util/float). */
export const bf16Round: (x: number) => number = roundBf16;

/** Round `n` float32 values of L2 from `start` to BF16 in place (their bits; util/float). */
export const bf16RoundInPlace: (bits: Uint32Array, start: number, n: number) => void = roundBf16InPlace;

/** ⌊log2 |m|⌋ for a finite m > 0, exactly (no Math.log2 rounding near powers of two). */
export function exponentOf(m: number): number {
  let e = Math.floor(Math.log2(m));
  if (2 ** e > m) e--;
  else if (2 ** (e + 1) <= m) e++;
  return e;
}

export interface NumericModel {
  readonly mode: NumericMode;
  /** Elements that share one activation exponent (or scale) in the engines. */
  readonly blockElements: number;
  readonly scaleDtype: ScaleDtype;
  readonly scaleBytes: number;
  /** r(x): the value L2 keeps of a float32 result. */
  store(x: number): number;
  /** r over a range of L2, in place (`bits` views the same buffer as the float32 L2 array). */
  storeRange(bits: Uint32Array, start: number, n: number): void;
  /**
   * q(x) for one activation row: writes the values the engine multiplies (q·step, exact in float64)
   * for x[off .. off+k) into `out[0..k)`.
   */
  quantizeRow(x: Float32Array, off: number, k: number, out: Float64Array): void;
  /** Whether the SFU computes a CVO's recorded intent instead of the target's formula. */
  readonly exactSfu: boolean;
  /** A stored weight scale at `bytes[at]` (little-endian). */
  readScale(bytes: Uint8Array, at: number): number;
}

export function numericModel(
  target: Target,
  mode: NumericMode,
  exactParts: readonly ExactPart[] = [],
): NumericModel {
  const n = target.file.numeric;
  const scaleDtype = n.weights.scale_dtype;
  const scaleBytes = scaleDtype === "f32" ? 4 : 2;
  const blockElements = n.engine_activation.block_elements;
  const readScale = scaleReader(scaleDtype);
  const exact = (part: ExactPart) => mode === "exact" || exactParts.includes(part);
  const quantizeRow = exact("activations")
    ? (x: Float32Array, off: number, k: number, out: Float64Array) => {
        for (let i = 0; i < k; i++) out[i] = x[off + i]!;
      }
    : n.engine_activation.block_exponent
      ? (x: Float32Array, off: number, k: number, out: Float64Array) =>
          quantizeBlockExponent(x, off, k, blockElements, out)
      : (x: Float32Array, off: number, k: number, out: Float64Array) =>
          quantizeBlockScale(x, off, k, blockElements, out);
  return {
    mode,
    blockElements,
    scaleDtype,
    scaleBytes,
    store: exact("l2") ? Math.fround : bf16Round,
    storeRange: exact("l2") ? () => {} : bf16RoundInPlace,
    quantizeRow,
    exactSfu: exact("sfu"),
    readScale,
  };
}

/** The engine's INT8 range: symmetric, so a value and its negation quantize to negated codes. */
const Q_MAX = 127;
/** Magnitude bits below the block's leading bit: |q| < 2^7 for the block maximum. */
const Q_SHIFT = 6;

/**
 * INT8 block floating point: per block of `block` elements, e = ⌊log2 max|x|⌋, step = 2^(e−6),
 * q = clamp(round_half_even(x / step), −127, 127); the engine multiplies q·step. The block maximum
 * lands in 64..127 (128 after rounding clamps to 127).
 */
export function quantizeBlockExponent(
  x: Float32Array,
  off: number,
  k: number,
  block: number,
  out: Float64Array,
): void {
  for (let b0 = 0; b0 < k; b0 += block) {
    const b1 = Math.min(k, b0 + block);
    let m = 0;
    for (let i = b0; i < b1; i++) m = Math.max(m, Math.abs(x[off + i]!));
    if (m === 0 || !Number.isFinite(m)) {
      for (let i = b0; i < b1; i++) out[i] = m === 0 ? 0 : x[off + i]!;
      continue;
    }
    const step = 2 ** (exponentOf(m) - Q_SHIFT);
    const inv = 1 / step; // a power of two: exact
    for (let i = b0; i < b1; i++) {
      const q = roundHalfEven(x[off + i]! * inv);
      out[i] = (q > Q_MAX ? Q_MAX : q < -Q_MAX ? -Q_MAX : q) * step;
    }
  }
}

/** INT8 with a per-block scale max|x|/127 (a target with block_exponent = false). */
export function quantizeBlockScale(
  x: Float32Array,
  off: number,
  k: number,
  block: number,
  out: Float64Array,
): void {
  for (let b0 = 0; b0 < k; b0 += block) {
    const b1 = Math.min(k, b0 + block);
    let m = 0;
    for (let i = b0; i < b1; i++) m = Math.max(m, Math.abs(x[off + i]!));
    const step = Math.fround(m / Q_MAX);
    for (let i = b0; i < b1; i++) {
      if (step === 0 || !Number.isFinite(step)) {
        out[i] = step === 0 ? 0 : x[off + i]!;
        continue;
      }
      const q = roundHalfEven(x[off + i]! / step);
      out[i] = (q > Q_MAX ? Q_MAX : q < -Q_MAX ? -Q_MAX : q) * step;
    }
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function scaleReader(dtype: ScaleDtype): (bytes: Uint8Array, at: number) => number {
  switch (dtype) {
    case "bf16":
      return (b, at) => bf16ToF32(b[at]! | (b[at + 1]! << 8));
    case "f16":
      return (b, at) => f16ToF32(b[at]! | (b[at + 1]! << 8));
    case "f32":
      return (b, at) => {
        u32[0] = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
        return f32[0]!;
      };
  }
}
