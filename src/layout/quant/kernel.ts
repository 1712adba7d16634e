/**
 * The INT4 quantization kernel: float32 rows in, packed nibbles + stored scales + error statistics
 * out. This is the hot loop (see docs/layout-quant.md for the format): typed arrays only, no
 * per-element allocation, one scan for max|w| and one for encoding per row/group.
 */
import { ExitCode, invalidInput, PccxError, unsupported } from "../../diag/index.js";
import { searchScale } from "./clip.js";
import {
  ACC_SIZE,
  CLAMPED,
  encodeGroup,
  MAX_ERR,
  MAX_W,
  SUM_CROSS,
  SUM_DEQ,
  SUM_ERR,
  SUM_SQ,
} from "./encode.js";
import { roundScale } from "./rounding.js";
import { groupLength, groupsPerRow, packedRowBytes, QMAX, type QuantScheme } from "./scheme.js";
import { QuantStats } from "./stats.js";

/** Where rows come from, for error messages. */
export interface RowOrigin {
  readonly tensor?: string;
  readonly file?: string;
  /** Index of the block's first row in the whole tensor. */
  readonly firstRow?: number;
}

/** The quantized form of a block of rows. */
export interface QuantizedRows {
  readonly rows: number;
  readonly k: number;
  /** rows × packedRowBytes(k) bytes, row-major; low nibble = even input index. */
  readonly packed: Uint8Array;
  /** rows × groupsPerRow stored scale values (exactly representable in the scale dtype). */
  readonly scales: Float32Array;
  readonly stats: QuantStats;
}

/**
 * Rows as the kernel reads them: float32 values, or BF16 bits decoded one row at a time into a
 * small buffer that stays in L1 cache (pre-quantized formats are dequantized to float32 first).
 */
export type KernelInput = (
  | { readonly kind: "f32"; readonly data: Float32Array }
  | { readonly kind: "bf16"; readonly bits: Uint16Array }
) &
  RowScaling;

/**
 * Factors applied to the rows before quantizing (folded norms): w[r][c] · colScale[c] · rowScale[r],
 * each product rounded to float32, in that order. Done row by row in the kernel's scratch row, so
 * the caller's block is never modified and no float32 copy of the block is made.
 */
export interface RowScaling {
  /** One factor per input feature (k of them). */
  readonly colScale?: Float32Array;
  /** One factor per row of the block. */
  readonly rowScale?: Float32Array;
}

/** Quantize `w` (rows × k float32, row-major) with `scheme`. */
export function quantizeF32Rows(
  w: Float32Array,
  k: number,
  scheme: QuantScheme,
  origin: RowOrigin = {},
): QuantizedRows {
  return quantizeInput({ kind: "f32", data: w }, k, scheme, origin);
}

let rowBuf = new Float32Array(0);
let rowBits = new Uint32Array(0);

/** Quantize a block of whole rows of k values. */
export function quantizeInput(
  input: KernelInput,
  k: number,
  scheme: QuantScheme,
  origin: RowOrigin = {},
  output?: { readonly packed: ArrayBufferLike; readonly scales: ArrayBufferLike },
): QuantizedRows {
  const n = input.kind === "f32" ? input.data.length : input.bits.length;
  if (!Number.isInteger(k) || k <= 0 || n % k !== 0) {
    throw new PccxError(
      "layout/quant-block-shape",
      ExitCode.INTERNAL,
      `row block of ${n} values is not a whole number of rows of K = ${k}`,
    );
  }
  const rows = n / k;
  const { colScale, rowScale } = input;
  if ((colScale && colScale.length !== k) || (rowScale && rowScale.length !== rows)) {
    throw new PccxError(
      "layout/quant-block-shape",
      ExitCode.INTERNAL,
      `scale factors (${colScale?.length ?? "-"} columns, ${rowScale?.length ?? "-"} rows) do not fit ${rows} rows of K = ${k}`,
    );
  }
  const scaled = colScale !== undefined || rowScale !== undefined;
  const g = groupLength(scheme, k);
  const gpr = groupsPerRow(scheme, k);
  const rowBytes = packedRowBytes(k);
  // Recycled output buffers of the right size are used as they are: the encoders write every byte
  // of every row and every scale is set (zeroing a shared buffer first would cost a slow pass).
  const reuse = output?.packed.byteLength === rows * rowBytes && output.scales.byteLength === rows * gpr * 4;
  const packed = reuse ? new Uint8Array(output.packed) : new Uint8Array(rows * rowBytes);
  const scales = reuse ? new Float32Array(output.scales) : new Float32Array(rows * gpr);
  const stats = new QuantStats();
  const acc = new Float64Array(ACC_SIZE);
  if ((input.kind === "bf16" || scaled) && rowBuf.length < k) {
    rowBuf = new Float32Array(k);
    rowBits = new Uint32Array(rowBuf.buffer);
  }
  const pairs = input.kind === "bf16" ? pairView(input.bits) : undefined;
  // Per-group max|w| and Σw² of the current row (pass 1), then encoding (pass 2).
  const gmax = new Float64Array(gpr);
  const gsq = new Float64Array(gpr);
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    let w: Float32Array;
    let base: number;
    // BF16 rows (most weights), alone or with a folded norm's column factors: decode (and scale)
    // and scan in one pass over the row.
    const fused = input.kind === "bf16" && !rowScale && pairs !== undefined && (k & 1) === 0 && (g & 1) === 0;
    if (fused) {
      if (colScale) decodeScaleScanBf16Row(pairs, r * k, k, g, rowBits, rowBuf, gmax, gsq, colScale);
      else decodeScanBf16Row(pairs, r * k, k, g, rowBits, rowBuf, gmax, gsq);
      w = rowBuf;
      base = 0;
    } else if (input.kind === "f32" && !scaled) {
      w = input.data;
      base = r * k;
    } else {
      if (input.kind === "f32") rowBuf.set(input.data.subarray(r * k, (r + 1) * k));
      else decodeBf16Row(input.bits, pairs, r * k, k, rowBits);
      // A column scale alone (the common folded norm) is applied by the scan itself, in one pass.
      if (colScale && rowScale) scaleRow(rowBuf, colScale, k);
      if (rowScale) scaleRowBy(rowBuf, rowScale[r]!, k);
      w = rowBuf;
      base = 0;
    }
    if (fused) {
      // decoded, scaled and scanned above
    } else if (colScale && !rowScale) scanGroupsScaled(w, k, g, gmax, gsq, colScale);
    else scanGroups(w, base, k, g, gmax, gsq);
    for (let gi = 0; gi < gpr; gi++) {
      const j0 = base + gi * g;
      const j1 = Math.min(base + k, j0 + g);
      const maxAbs = gmax[gi]!;
      // Σw² of finite float32 values cannot overflow float64: a non-finite sum means a bad element.
      if (!Number.isFinite(gsq[gi]!)) throw nonFinite(w, j0, j1, base, origin, r);
      acc[SUM_SQ] = acc[SUM_SQ]! + gsq[gi]!;
      if (maxAbs > acc[MAX_W]!) acc[MAX_W] = maxAbs;
      const s = chooseScale(w, j0, j1, maxAbs, scheme, origin, r);
      scales[r * gpr + gi] = s;
      encodeGroup(w, j0, j1 - j0, s, maxAbs, packed, r * rowBytes + ((j0 - base) >>> 1), acc);
    }
    stats.addRow({
      n: k,
      sumSq: acc[SUM_SQ]!,
      sumErrSq: acc[SUM_ERR]!,
      sumDeqSq: acc[SUM_DEQ]!,
      sumCross: acc[SUM_CROSS]!,
      maxAbsError: acc[MAX_ERR]!,
      maxAbsWeight: acc[MAX_W]!,
      clamped: acc[CLAMPED]!,
    });
  }
  return { rows, k, packed, scales, stats };
}

/** w[c] ·= f[c] for c < k (each product rounded to float32 by the store). */
function scaleRow(w: Float32Array, f: Float32Array, k: number): void {
  for (let c = 0; c < k; c++) w[c] = w[c]! * f[c]!;
}

/** w[c] ·= v for c < k. */
function scaleRowBy(w: Float32Array, v: number, k: number): void {
  for (let c = 0; c < k; c++) w[c] = w[c]! * v;
}

/**
 * decodeBf16Row (the two-per-load path) then scanGroups (base 0) in one pass: each pair is decoded
 * into the row buffer and read back as float32 (a store-to-load forward) for the group's max|w| and
 * Σw², summed element by element in the same order as scanGroups. K and g even.
 */
function decodeScanBf16Row(
  pairs: Uint32Array,
  off: number,
  k: number,
  g: number,
  u32: Uint32Array,
  w: Float32Array,
  gmax: Float64Array,
  gsq: Float64Array,
): void {
  for (let j0 = 0, gi = 0, o = off >>> 1; j0 < k; j0 += g, gi++) {
    const end = Math.min(k, j0 + g);
    let max = 0;
    let sq = 0;
    for (let j = j0; j < end; j += 2, o++) {
      const v = pairs[o]!;
      u32[j] = v << 16;
      u32[j + 1] = v & 0xffff0000;
      const x = w[j]!;
      const y = w[j + 1]!;
      sq += x * x;
      sq += y * y;
      const a = Math.abs(x);
      if (a > max) max = a;
      const b = Math.abs(y);
      if (b > max) max = b;
    }
    gmax[gi] = max;
    gsq[gi] = sq;
  }
}

/** decodeScanBf16Row with each value multiplied by f[j] first (rounded to float32, as stored). */
function decodeScaleScanBf16Row(
  pairs: Uint32Array,
  off: number,
  k: number,
  g: number,
  u32: Uint32Array,
  w: Float32Array,
  gmax: Float64Array,
  gsq: Float64Array,
  f: Float32Array,
): void {
  for (let j0 = 0, gi = 0, o = off >>> 1; j0 < k; j0 += g, gi++) {
    const end = Math.min(k, j0 + g);
    let max = 0;
    let sq = 0;
    for (let j = j0; j < end; j += 2, o++) {
      const v = pairs[o]!;
      u32[j] = v << 16;
      u32[j + 1] = v & 0xffff0000;
      const x = Math.fround(w[j]! * f[j]!);
      const y = Math.fround(w[j + 1]! * f[j + 1]!);
      w[j] = x;
      w[j + 1] = y;
      sq += x * x;
      sq += y * y;
      const a = Math.abs(x);
      if (a > max) max = a;
      const b = Math.abs(y);
      if (b > max) max = b;
    }
    gmax[gi] = max;
    gsq[gi] = sq;
  }
}

/**
 * scaleRow then scanGroups (base 0) in one pass: w[c] ·= f[c] (rounded to float32, as the store
 * would), then the group's max|w| and Σw² of the scaled values, summed in the same order.
 */
function scanGroupsScaled(
  w: Float32Array,
  k: number,
  g: number,
  gmax: Float64Array,
  gsq: Float64Array,
  f: Float32Array,
): void {
  for (let j0 = 0, gi = 0; j0 < k; j0 += g, gi++) {
    const end = Math.min(k, j0 + g);
    let max = 0;
    let sq = 0;
    for (let i = j0; i < end; i++) {
      const x = Math.fround(w[i]! * f[i]!);
      w[i] = x;
      sq += x * x;
      const a = Math.abs(x);
      if (a > max) max = a;
    }
    gmax[gi] = max;
    gsq[gi] = sq;
  }
}

/** max|w| and Σw² of each group of g in w[base, base+k). */
function scanGroups(
  w: Float32Array,
  base: number,
  k: number,
  g: number,
  gmax: Float64Array,
  gsq: Float64Array,
): void {
  for (let j0 = 0, gi = 0; j0 < k; j0 += g, gi++) {
    const end = base + Math.min(k, j0 + g);
    let max = 0;
    let sq = 0;
    for (let i = base + j0; i < end; i++) {
      const x = w[i]!;
      sq += x * x;
      const a = Math.abs(x);
      if (a > max) max = a;
    }
    gmax[gi] = max;
    gsq[gi] = sq;
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The BF16 bits as 32-bit pairs, when the host is little-endian and alignment allows. */
function pairView(bits: Uint16Array): Uint32Array | undefined {
  if (!LITTLE_ENDIAN || bits.byteOffset % 4 !== 0 || bits.length % 2 !== 0) return undefined;
  return new Uint32Array(bits.buffer, bits.byteOffset, bits.length / 2);
}

/**
 * BF16 is the upper half of a float32: decoding is a shift into the float's bits. When the row is
 * 4-byte aligned and K even, two values are read per 32-bit load (little-endian: the low half is the
 * even element), which is about 40% faster.
 */
function decodeBf16Row(
  bits: Uint16Array,
  pairs: Uint32Array | undefined,
  off: number,
  k: number,
  u32: Uint32Array,
): void {
  if (pairs && (k & 1) === 0) {
    for (let j = 0, o = off >>> 1; j < k; j += 2, o++) {
      const v = pairs[o]!;
      u32[j] = v << 16;
      u32[j + 1] = v & 0xffff0000;
    }
  } else {
    for (let j = 0; j < k; j++) u32[j] = bits[off + j]! << 16;
  }
}

function nonFinite(
  w: Float32Array,
  start: number,
  end: number,
  base: number,
  origin: RowOrigin,
  r: number,
): PccxError {
  let i = start;
  while (i < end && Number.isFinite(w[i]!)) i++;
  const row = (origin.firstRow ?? 0) + r;
  const what = origin.tensor ? `tensor ${origin.tensor}` : "weight";
  return invalidInput("layout/quant-nonfinite", `${what} has ${w[i]} at [${row}, ${i - base}]`, {
    ...(origin.file ? { at: { file: origin.file } } : {}),
    notes: ["INT4 quantization needs finite weights; NaN or Infinity usually means a corrupt checkpoint"],
    fix: "re-download or re-export the checkpoint; check the dtype recorded in the safetensors header",
  });
}

function chooseScale(
  w: Float32Array,
  start: number,
  end: number,
  maxAbs: number,
  scheme: QuantScheme,
  origin: RowOrigin,
  r: number,
): number {
  if (maxAbs === 0) return 0;
  const s = scheme.quantSearch
    ? searchScale(w, start, end, maxAbs, scheme.scaleDtype)
    : roundScale(maxAbs / QMAX, scheme.scaleDtype);
  if (s === Number.POSITIVE_INFINITY) {
    const what = origin.tensor ? `tensor ${origin.tensor}` : "weight";
    throw unsupported(
      "layout/quant-scale-range",
      `${what} row ${(origin.firstRow ?? 0) + r}: scale ${maxAbs / QMAX} overflows ${scheme.scaleDtype}`,
      { fix: "store scales as bf16 or f32 (scaleDtype)" },
    );
  }
  return s;
}
