/**
 * Small generated safetensors checkpoints for the image tests: seeded values for every tensor a
 * graph stores (BF16 or F32), with hooks to poke values (NaN), drop or reshape tensors, add extra
 * ones, or store chosen weights as FP8 block-scaled / MXFP4 pairs. Also a tile-format decoder used to
 * check the image against the quant core.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  encodeBf16,
  encodeF32,
  openTensorIndex,
  type TensorIndex,
  type TensorToWrite,
  writeSafetensors,
} from "../../../src/parser/safetensors/index.js";
import type { ModelGraph } from "../../../src/resolver/graph/index.js";
import { bf16ToF32, f32ToBf16 } from "../../../src/util/float.js";
import { mulberry32 } from "../../../src/util/random.js";

/** Seeded uniforms for synthetic checkpoints (the project's one mulberry32). */
export const rng = mulberry32;

export interface CheckpointOptions {
  readonly seed?: number;
  readonly dtype?: "BF16" | "F32";
  /** Set a value at [row, col] of a tensor's stored rows. */
  readonly poke?: readonly { tensor: string; row: number; col: number; value: number }[];
  readonly drop?: ReadonlySet<string>;
  readonly reshape?: ReadonlyMap<string, readonly number[]>;
  readonly extra?: readonly { name: string; shape: readonly number[] }[];
  /** Store these 2-D weights as F8_E4M3 with a `_scale_inv` [ceil(N/128), ceil(K/128)] F32 tensor. */
  readonly fp8?: ReadonlySet<string>;
  /** Store these weights as MXFP4 `_blocks` / `_scales` pairs (last dim a multiple of 32). */
  readonly mxfp4?: ReadonlySet<string>;
  /** Store these as I32 (a dtype pccxc does not quantize from). */
  readonly int32?: ReadonlySet<string>;
  /** Give FP8 weights a `_scale_inv` one block too large in both dimensions. */
  readonly badFp8Scale?: boolean;
}

export interface Checkpoint {
  readonly dir: string;
  readonly file: string;
  readonly index: TensorIndex;
  cleanup(): Promise<void>;
}

function values(
  n: number,
  role: string,
  fanIn: number,
  r: () => number,
  dtype: "BF16" | "F32",
): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 2 * r() - 1;
    const v = role === "norm" ? 1 + 0.2 * u : role === "bias" ? 0.1 * u : u / Math.sqrt(fanIn);
    out[i] = dtype === "BF16" ? bf16ToF32(f32ToBf16(v)) : v;
  }
  return out;
}

function fp8Tensors(name: string, shape: readonly number[], r: () => number, bad = false): TensorToWrite[] {
  const [n, k] = shape as [number, number];
  const data = new Uint8Array(n * k);
  for (let i = 0; i < data.length; i++) {
    let b = Math.floor(r() * 256);
    if ((b & 0x7f) === 0x7f) b ^= 1; // no NaN codes
    data[i] = b;
  }
  const sr = Math.ceil(n / 128) + (bad ? 1 : 0);
  const sc = Math.ceil(k / 128) + (bad ? 1 : 0);
  const scale = Float32Array.from({ length: sr * sc }, () => 0.001 + 0.01 * r());
  return [
    { name, dtype: "F8_E4M3", shape: [n, k], data },
    { name: `${name}_scale_inv`, dtype: "F32", shape: [sr, sc], data: encodeF32(scale) },
  ];
}

function mxfp4Tensors(name: string, shape: readonly number[], r: () => number): TensorToWrite[] {
  const k = shape[shape.length - 1]!;
  const lead = shape.slice(0, -1);
  const rows = lead.reduce((p, d) => p * d, 1);
  const blocks = Uint8Array.from({ length: (rows * k) / 2 }, () => Math.floor(r() * 256));
  const scales = Uint8Array.from({ length: (rows * k) / 32 }, () => 118 + Math.floor(r() * 8));
  return [
    { name: `${name}_blocks`, dtype: "U8", shape: [...lead, k / 32, 16], data: blocks },
    { name: `${name}_scales`, dtype: "U8", shape: [...lead, k / 32], data: scales },
  ];
}

/** Writes a checkpoint for `g` into a fresh temp directory and opens it. */
export async function writeCheckpoint(g: ModelGraph, o: CheckpointOptions = {}): Promise<Checkpoint> {
  const dir = mkdtempSync(join(tmpdir(), "pccxc-layout-"));
  const file = join(dir, "model.safetensors");
  const r = rng(o.seed ?? 7);
  const dtype = o.dtype ?? "BF16";
  const tensors: TensorToWrite[] = [];
  for (const w of g.weights) {
    if (w.tiedTo !== undefined || o.drop?.has(w.name)) continue;
    const shape = o.reshape?.get(w.name) ?? w.shape;
    if (o.fp8?.has(w.name)) {
      tensors.push(...fp8Tensors(w.name, shape, r, o.badFp8Scale));
      continue;
    }
    if (o.int32?.has(w.name)) {
      const n = shape.reduce((p, d) => p * d, 1);
      tensors.push({ name: w.name, dtype: "I32", shape, data: new Uint8Array(4 * n) });
      continue;
    }
    if (o.mxfp4?.has(w.name)) {
      tensors.push(...mxfp4Tensors(w.name, shape, r));
      continue;
    }
    const n = shape.reduce((p, d) => p * d, 1);
    const v = values(n, w.role, shape[shape.length - 1] ?? 1, r, dtype);
    const k = shape[shape.length - 1] ?? 1;
    for (const p of o.poke ?? []) if (p.tensor === w.name) v[p.row * k + p.col] = p.value;
    tensors.push({ name: w.name, dtype, shape, data: dtype === "BF16" ? encodeBf16(v) : encodeF32(v) });
  }
  for (const e of o.extra ?? []) {
    const n = e.shape.reduce((p, d) => p * d, 1);
    tensors.push({ name: e.name, dtype, shape: e.shape, data: encodeBf16(values(n, "other", 8, r, "BF16")) });
  }
  await writeSafetensors(file, tensors);
  const index = await openTensorIndex({ kind: "single", file, shards: [file] });
  return {
    dir,
    file,
    index,
    async cleanup() {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh temp directory for outputs, removed by the returned function. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "pccxc-layout-out-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
