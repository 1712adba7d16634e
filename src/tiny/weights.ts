/**
 * Synthetic weights for a tiny model: every stored tensor of the resolved graph (ties once, unused
 * declarations included, so the file has the real checkpoint's names and shapes), filled from a
 * per-tensor seeded stream with realistic scales, encoded in the tensor's declared dtype.
 *
 * Scales: matrices N(0, 1/fan_in) (unit-variance outputs, so activations neither explode nor
 * vanish over a few layers); embedding tables N(0, 1/width) (the scale of real checkpoints, e.g.
 * ≈0.016 for width 4096); norm weights 1 + N(0, 0.05), or N(0, 0.05) where the norm computes x̂·(1+w)
 * (Gemma 1–3); biases and router biases N(0, 0.02); sinks N(0, 0.5); learned scalars 1 + N(0, 0.05).
 */
import { unsupported } from "../diag/index.js";
import { encodeBf16, encodeF32, type TensorToWrite } from "../parser/safetensors/index.js";
import type { ModelGraph, WeightDecl } from "../resolver/graph/index.js";
import { storedTensors } from "../resolver/graph/index.js";
import { f32ToF16 } from "../util/float.js";
import { Rng } from "./rng.js";

/** Names of norm weights read with weightOffset 1 (x̂·(1+w)): they are initialised around 0. */
function offsetNorms(g: ModelGraph): Set<string> {
  const byId = new Map(g.weights.map((w) => [w.id, w]));
  const out = new Set<string>();
  for (const o of g.ops) {
    if (o.kind !== "rms_norm" || o.weightOffset !== 1 || !o.weight) continue;
    const w = byId.get(o.weight.weight);
    if (w) out.add(w.name);
  }
  return out;
}

/** Input features of a matrix: its last axis, or the one before it when stored [in, out]. */
function fanIn(w: WeightDecl): number {
  if (w.shape.length < 2) return w.shape[0] ?? 1;
  return w.transposed ? w.shape[w.shape.length - 2]! : w.shape[w.shape.length - 1]!;
}

/** The value generator of one tensor. */
function sampler(w: WeightDecl, offset: boolean): (r: Rng) => number {
  switch (w.role) {
    case "norm":
      return offset ? (r) => r.normal(0, 0.05) : (r) => r.normal(1, 0.05);
    case "bias":
      return (r) => r.normal(0, 0.02);
    case "sinks":
      return (r) => r.normal(0, 0.5);
    case "scale":
      return (r) => r.normal(1, 0.05);
    case "embedding":
    case "position_embedding":
    case "per_layer_embedding": {
      const std = 1 / Math.sqrt(w.shape[w.shape.length - 1] ?? 1);
      return (r) => r.normal(0, std);
    }
    default: {
      if (w.shape.length < 2) return (r) => r.normal(0, 0.02);
      const std = 1 / Math.sqrt(fanIn(w));
      return (r) => r.normal(0, std);
    }
  }
}

function encode(w: WeightDecl, values: Float64Array): Uint8Array {
  switch (w.dtype) {
    case "BF16":
      return encodeBf16(values);
    case "F32":
      return encodeF32(values);
    case "F16": {
      const out = new Uint8Array(values.length * 2);
      for (let i = 0; i < values.length; i++) {
        const h = f32ToF16(values[i]!);
        out[2 * i] = h & 0xff;
        out[2 * i + 1] = h >>> 8;
      }
      return out;
    }
    default:
      throw unsupported(
        "tiny/dtype",
        `tensor ${w.name} is declared ${w.dtype}; the tiny generator writes BF16, F16 and F32 tensors only`,
        { fix: "generate the tiny model from an unquantized config" },
      );
  }
}

/** The tensors of a tiny checkpoint, in graph declaration order. */
export function tinyTensors(g: ModelGraph, seed: number): TensorToWrite[] {
  const offsets = offsetNorms(g);
  return storedTensors(g).map((w) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const r = Rng.derive(seed, w.name);
    const gen = sampler(w, offsets.has(w.name));
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = gen(r);
    return { name: w.name, dtype: w.dtype, shape: [...w.shape], data: encode(w, values) };
  });
}
