/**
 * Where a planned tensor's values come from in the checkpoint: a plain float tensor (F32, F16,
 * BF16, unscaled F8_E4M3), a block-scaled FP8 weight with its `_scale_inv` companion (DeepSeek-V3),
 * or an MXFP4 pair `_blocks` / `_scales` (gpt-oss; the graph names the logical weight, which the
 * checkpoint does not hold). Also the stored geometry that maps a logical [out, in] matrix of one
 * expert to stored rows.
 */
import { invalidInput, unsupported } from "../../diag/index.js";
import { isDecodable, SCALE_SUFFIX, type TensorEntry } from "../../parser/safetensors/index.js";
import { FP8_DEFAULT_BLOCK, mxfp4Shape } from "../quant/index.js";

/** The part of a TensorIndex the image writer reads through. */
export interface WeightSource {
  get(name: string): TensorEntry | undefined;
  /** Bytes of a tensor's data; the caller owns the returned buffer (it may be transferred). */
  readBytes(name: string, start?: number, length?: number): Promise<Uint8Array>;
  names(): string[];
  /** FP8 checkpoints: `quantization_config.weight_block_size`. */
  readonly weightBlockSize?: readonly [number, number];
}

export type SourceTensor =
  | { readonly kind: "float"; readonly entry: TensorEntry }
  | {
      readonly kind: "fp8";
      readonly entry: TensorEntry;
      readonly scale: TensorEntry;
      readonly blockSize: readonly [number, number];
    }
  | { readonly kind: "mxfp4"; readonly blocks: TensorEntry; readonly scales: TensorEntry };

/** Stored row geometry: `rows` rows of `k` values (the last dim is a row). */
export interface StoredGeometry {
  readonly rows: number;
  readonly k: number;
}

export const MXFP4_BLOCKS = "_blocks";
export const MXFP4_SCALES = "_scales";

/** The checkpoint tensors `name` is read from, or undefined when it is missing. */
export function findSource(src: WeightSource, name: string): SourceTensor | undefined {
  const entry = src.get(name);
  if (entry) {
    const scale = entry.dtype === "F8_E4M3" ? src.get(`${name}${SCALE_SUFFIX}`) : undefined;
    if (scale) return { kind: "fp8", entry, scale, blockSize: src.weightBlockSize ?? FP8_DEFAULT_BLOCK };
    return { kind: "float", entry };
  }
  const blocks = src.get(`${name}${MXFP4_BLOCKS}`);
  const scales = src.get(`${name}${MXFP4_SCALES}`);
  if (blocks && scales) return { kind: "mxfp4", blocks, scales };
  return undefined;
}

/** Names of the checkpoint tensors a source reads (for the unused-tensor report). */
export function sourceNames(s: SourceTensor): string[] {
  if (s.kind === "float") return [s.entry.name];
  if (s.kind === "fp8") return [s.entry.name, s.scale.name];
  return [s.blocks.name, s.scales.name];
}

export function sourceLabel(s: SourceTensor): string {
  return s.kind === "float" ? s.entry.dtype : s.kind === "fp8" ? "F8_E4M3 block-scaled" : "MXFP4";
}

/** Stored rows × k and the shape the graph would declare for it. */
export function storedGeometry(s: SourceTensor): StoredGeometry & { readonly shape: readonly number[] } {
  if (s.kind === "mxfp4") {
    const g = mxfp4Shape(s.blocks, s.scales);
    // [..., N, K/32, 16] → logical [..., N, K] (output-major: no transpose whatever the graph says).
    return { ...g, shape: [...s.blocks.shape.slice(0, -2), g.k] };
  }
  const sh = s.entry.shape;
  const k = sh.length === 0 ? 1 : sh[sh.length - 1]!;
  const n = sh.reduce((p, d) => p * d, 1);
  return { rows: k === 0 ? 0 : n / k, k, shape: sh };
}

/** Rejects dtypes the writer cannot read as numbers (exit 3). */
export function checkDecodable(name: string, s: SourceTensor): void {
  if (s.kind !== "float" || isDecodable(s.entry.dtype)) return;
  throw unsupported(
    "layout/source-dtype",
    `tensor ${name} is stored as ${s.entry.dtype}, which pccxc cannot quantize from ` +
      "(it reads F32, F16, BF16, F8_E4M3 with block scales, and MXFP4 pairs)",
    {
      at: { file: s.entry.file },
      fix: "convert the checkpoint to BF16 (or a supported pre-quantized format)",
    },
  );
}

/** FP8 scale tensors must be F32 or BF16 and match the weight's block grid. */
export function checkFp8Scale(s: Extract<SourceTensor, { kind: "fp8" }>): void {
  const [n, k] = s.entry.shape;
  const want = [Math.ceil((n ?? 0) / s.blockSize[0]), Math.ceil((k ?? 0) / s.blockSize[1])];
  const ok =
    s.entry.shape.length === 2 && s.scale.shape.length === 2 && s.scale.shape.every((d, i) => d === want[i]);
  if (!ok || !isDecodable(s.scale.dtype)) {
    throw invalidInput(
      "layout/fp8-scale-shape",
      `${s.scale.name} is ${s.scale.dtype} [${s.scale.shape.join(", ")}] but ${s.entry.name} ` +
        `[${s.entry.shape.join(", ")}] in ${s.blockSize.join("×")} blocks needs float [${want.join(", ")}]`,
      { at: { file: s.scale.file }, fix: "check quantization_config.weight_block_size in config.json" },
    );
  }
}
