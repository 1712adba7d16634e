/**
 * MXFP4 weights (gpt-oss `quant_method: "mxfp4"`, the MoE expert projections). A weight W is stored
 * as two U8 tensors: `<name>_blocks` [..., N, K/32, 16] holding 32 FP4 E2M1 codes per 16 bytes, and
 * `<name>_scales` [..., N, K/32] holding one E8M0 exponent per 32-element block. Within a byte the
 * low nibble is element 2j and the high nibble 2j+1 (the same order as pccx INT4); the value is
 * FP4_VALUES[code] · 2^(scale − 127). Sources: openai/gpt-oss gpt_oss/torch/weights.py
 * `_get_mxfp4_tensor` and huggingface/transformers integrations/mxfp4.py `convert_moe_packed_tensors`.
 * Leading dims (experts) flatten into rows: row e·N + n is expert e, output feature n.
 */
import { invalidInput } from "../../diag/index.js";

/** E2M1 code → value (sign bit 3, exponent bits 2:1, mantissa bit 0). */
export const FP4_VALUES: readonly number[] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];
/** Elements per MXFP4 block (one E8M0 scale each). */
export const MXFP4_BLOCK = 32;
const BLOCK_BYTES = MXFP4_BLOCK / 2;

const FP4 = Float64Array.from(FP4_VALUES);
/** E8M0: 2^(e − 127); 255 is NaN in the OCP MX spec. */
const E8M0 = Float64Array.from({ length: 256 }, (_, e) => (e === 255 ? Number.NaN : 2 ** (e - 127)));

export interface Mxfp4Rows {
  /** rows × k/2 bytes of `_blocks`. */
  readonly blocks: Uint8Array;
  /** rows × k/32 bytes of `_scales`. */
  readonly scales: Uint8Array;
  readonly k: number;
  readonly tensor?: string;
}

/** Dequantize a block of MXFP4 rows to float32 (into `out` when given, which must hold rows × k). */
export function dequantMxfp4Rows(src: Mxfp4Rows, out?: Float32Array): Float32Array {
  const { blocks, scales, k } = src;
  const rows = (blocks.length * 2) / k;
  if (k % MXFP4_BLOCK !== 0 || !Number.isInteger(rows) || scales.length !== (rows * k) / MXFP4_BLOCK) {
    throw invalidInput(
      "layout/mxfp4-shape",
      `${src.tensor ?? "MXFP4 weight"}: ${blocks.length} block bytes and ${scales.length} scales do not form rows of K = ${k}`,
      { fix: "_blocks must be [..., N, K/32, 16] and _scales [..., N, K/32] U8 tensors of the same N" },
    );
  }
  const dst = out ?? new Float32Array(rows * k);
  for (let b = 0; b < scales.length; b++) {
    const s = E8M0[scales[b]!]!;
    const p0 = b * BLOCK_BYTES;
    const o0 = b * MXFP4_BLOCK;
    for (let j = 0; j < BLOCK_BYTES; j++) {
      const byte = blocks[p0 + j]!;
      dst[o0 + 2 * j] = FP4[byte & 15]! * s;
      dst[o0 + 2 * j + 1] = FP4[byte >>> 4]! * s;
    }
  }
  return dst;
}

/** Rows and K of an MXFP4 weight from its `_blocks` / `_scales` header shapes. */
export function mxfp4Shape(
  blocks: { readonly name: string; readonly shape: readonly number[] },
  scales: { readonly name: string; readonly shape: readonly number[] },
): { rows: number; k: number } {
  const bs = blocks.shape;
  const ok =
    bs.length >= 2 &&
    bs[bs.length - 1] === BLOCK_BYTES &&
    scales.shape.length === bs.length - 1 &&
    scales.shape.every((d, i) => d === bs[i]);
  if (!ok) {
    throw invalidInput(
      "layout/mxfp4-shape",
      `${blocks.name} [${bs.join(", ")}] and ${scales.name} [${scales.shape.join(", ")}] are not an MXFP4 pair`,
      { fix: "expected _blocks [..., N, K/32, 16] and _scales [..., N, K/32]" },
    );
  }
  const groups = bs[bs.length - 2]!;
  const rows = bs.slice(0, -2).reduce((a, b) => a * b, 1);
  return { rows, k: groups * MXFP4_BLOCK };
}
