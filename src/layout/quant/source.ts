/**
 * Row blocks the quantizer accepts: float32 rows (what the safetensors reader yields), raw BF16 bits
 * (decoded on the worker), and pre-quantized FP8 / MXFP4 rows (dequantized on the worker). All are
 * row-major blocks of whole rows of K input features.
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import { dequantFp8Rows } from "./fp8.js";
import type { KernelInput } from "./kernel.js";
import { dequantMxfp4Rows } from "./mxfp4.js";

export interface Bf16Block {
  readonly kind: "bf16";
  /** rows × k BF16 bit patterns. */
  readonly bits: Uint16Array;
}

export interface Fp8Block {
  readonly kind: "fp8-e4m3";
  /** rows × k F8_E4M3 bytes. */
  readonly data: Uint8Array;
  /** The whole `*_scale_inv` tensor [ceil(N/bs0), ceil(K/bs1)], float32 (copied, never transferred). */
  readonly scaleInv: Float32Array;
  readonly blockSize?: readonly [number, number];
}

export interface Mxfp4Block {
  readonly kind: "mxfp4";
  /** rows × k/2 bytes of `_blocks`. */
  readonly blocks: Uint8Array;
  /** rows × k/32 bytes of `_scales`. */
  readonly scales: Uint8Array;
}

export type RowBlock = Float32Array | Bf16Block | Fp8Block | Mxfp4Block;

/** Number of rows of K in a block. */
export function blockRows(block: RowBlock, k: number): number {
  let n: number;
  if (block instanceof Float32Array) n = block.length / k;
  else if (block.kind === "bf16") n = block.bits.length / k;
  else if (block.kind === "fp8-e4m3") n = block.data.length / k;
  else n = (block.blocks.length * 2) / k;
  if (!Number.isInteger(n)) {
    throw new PccxError(
      "layout/quant-block-shape",
      ExitCode.INTERNAL,
      `row block is not a whole number of rows of K = ${k}`,
    );
  }
  return n;
}

let scratch = new Float32Array(0);

/** Per-thread scratch of at least n floats, reused between calls. */
function scratchOf(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(Math.max(n, scratch.length * 2));
  return scratch.subarray(0, n);
}

/**
 * The block as kernel input: float32 and BF16 rows pass through (BF16 is decoded row by row by the
 * kernel); FP8 and MXFP4 blocks are dequantized whole into a per-thread buffer that is valid until
 * the next call.
 */
export function kernelInput(block: RowBlock, k: number, firstRow: number, tensor?: string): KernelInput {
  if (block instanceof Float32Array) return { kind: "f32", data: block };
  switch (block.kind) {
    case "bf16":
      return block;
    case "fp8-e4m3": {
      const data = dequantFp8Rows(
        {
          data: block.data,
          k,
          firstRow,
          scaleInv: block.scaleInv,
          ...(block.blockSize ? { blockSize: block.blockSize } : {}),
          ...(tensor ? { tensor } : {}),
        },
        scratchOf(block.data.length),
      );
      return { kind: "f32", data };
    }
    case "mxfp4": {
      const data = dequantMxfp4Rows(
        { blocks: block.blocks, scales: block.scales, k, ...(tensor ? { tensor } : {}) },
        scratchOf(block.blocks.length * 2),
      );
      return { kind: "f32", data };
    }
  }
}

/**
 * A view owning its whole ArrayBuffer, or a view of shared memory (which postMessage shares rather
 * than copies), is returned as is; any other view is copied to its own buffer.
 */
export function ownable<T extends Uint8Array | Uint16Array | Float32Array>(v: T): T {
  if (isShared(v)) return v;
  const whole = v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer;
  return whole ? v : (v.slice() as T);
}

function isShared(v: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== "undefined" && v.buffer instanceof SharedArrayBuffer;
}

/** The buffers to transfer with views: shared memory is never transferred (nor copied). */
function transferable(...views: ArrayBufferView[]): ArrayBuffer[] {
  return views.flatMap((v) => (isShared(v) ? [] : [v.buffer as ArrayBuffer]));
}

/** A deep copy of a block (for sources that reuse their buffers). */
export function copyBlock(block: RowBlock): RowBlock {
  if (block instanceof Float32Array) return block.slice();
  switch (block.kind) {
    case "bf16":
      return { kind: "bf16", bits: block.bits.slice() };
    case "fp8-e4m3":
      return { ...block, data: block.data.slice() };
    case "mxfp4":
      return { kind: "mxfp4", blocks: block.blocks.slice(), scales: block.scales.slice() };
  }
}

/**
 * Prepare a block for postMessage: returns the block (sub-views copied so that transferring never
 * detaches a caller's larger buffer, and cloning never copies more than the block) and the buffers
 * to transfer.
 */
export function forTransfer(block: RowBlock): { block: RowBlock; transfer: ArrayBuffer[] } {
  if (block instanceof Float32Array) {
    const b = ownable(block);
    return { block: b, transfer: transferable(b) };
  }
  switch (block.kind) {
    case "bf16": {
      const bits = ownable(block.bits);
      return { block: { kind: "bf16", bits }, transfer: transferable(bits) };
    }
    case "fp8-e4m3": {
      const data = ownable(block.data);
      // The scale tensor is shared by every block: cloned (a view is cut out first, since cloning a
      // view copies its whole buffer), never transferred.
      const scaleInv = ownable(block.scaleInv);
      return { block: { ...block, data, scaleInv }, transfer: transferable(data) };
    }
    case "mxfp4": {
      const blocks = ownable(block.blocks);
      const scales = ownable(block.scales);
      return { block: { kind: "mxfp4", blocks, scales }, transfer: transferable(blocks, scales) };
    }
  }
}

/** The buffers under a block's views. */
export function blockBuffers(block: RowBlock): ArrayBufferLike[] {
  if (block instanceof Float32Array) return [block.buffer];
  switch (block.kind) {
    case "bf16":
      return [block.bits.buffer];
    case "fp8-e4m3":
      return [block.data.buffer];
    case "mxfp4":
      return [block.blocks.buffer, block.scales.buffer];
  }
}
