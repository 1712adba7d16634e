/**
 * Where the golden reference gets its weights: an abstract `WeightReader` (in-memory arrays, a
 * safetensors row source, later the dequantized INT4 image), and `LoadedWeights`, which loads every
 * tensor a graph reads once, checks its shape, and serves matrix/vector views as float64.
 */
import { invalidInput } from "../../diag/index.js";
import type { MatrixView, ModelGraph, VectorView, WeightDecl } from "../../resolver/graph/index.js";
import { storedTensors } from "../../resolver/graph/index.js";
import type { Mat } from "./tensor.js";

/** One stored tensor, row-major, as the checkpoint shapes it. */
export interface WeightTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array | Float32Array;
}

/** Supplies tensors by HF name. */
export interface WeightReader {
  get(name: string): Promise<WeightTensor>;
}

/** Tensors held in memory (tests, synthetic tiny models). */
export class MemoryWeights implements WeightReader {
  private readonly tensors: ReadonlyMap<string, WeightTensor>;
  constructor(tensors: Iterable<readonly [string, WeightTensor]> | Record<string, WeightTensor>) {
    this.tensors = new Map(Symbol.iterator in tensors ? tensors : Object.entries(tensors));
  }
  async get(name: string): Promise<WeightTensor> {
    const t = this.tensors.get(name);
    if (!t) throw invalidInput("golden/missing-weight", `tensor "${name}" is not among the provided weights`);
    return t;
  }
}

/** Anything that reads rows of a tensor: the safetensors TensorIndex (`readRows`, entry shapes) fits. */
export interface RowSource {
  shapeOf(name: string): readonly number[] | undefined;
  readRows(name: string, rowStart: number, rowCount: number): Promise<Float32Array>;
}

/**
 * A WeightReader over a RowSource, reading all rows of a tensor. Rows follow the parser's geometry:
 * the last dimension is a row, every dimension before it counts rows ([E, N, K] is E·N rows of K; a
 * vector is one row).
 */
export function rowSourceReader(src: RowSource): WeightReader {
  return {
    async get(name) {
      const shape = src.shapeOf(name);
      if (!shape) throw invalidInput("golden/missing-weight", `tensor "${name}" is not in the checkpoint`);
      const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      return { shape, data: await src.readRows(name, 0, rows) };
    },
  };
}

/** What `checkpointReader` needs of a checkpoint: the safetensors TensorIndex has it. */
export interface TensorTable {
  get(name: string): { readonly shape: readonly number[] } | undefined;
  readRows(name: string, rowStart: number, rowCount: number): Promise<Float32Array>;
}

/** A WeightReader over a checkpoint's tensors (a TensorIndex): the original weights, dequantized. */
export function checkpointReader(t: TensorTable): WeightReader {
  return rowSourceReader({ shapeOf: (n) => t.get(n)?.shape, readRows: (n, a, b) => t.readRows(n, a, b) });
}

interface Stored {
  readonly decl: WeightDecl;
  readonly data: Float64Array;
}

/** All tensors a graph reads, as float64, with cached views. */
export class LoadedWeights {
  private readonly matrices = new Map<string, Mat>();
  private readonly vectors = new Map<string, Float64Array>();

  private constructor(
    private readonly byId: ReadonlyMap<string, WeightDecl>,
    private readonly stored: ReadonlyMap<string, Stored>,
  ) {}

  static async load(g: ModelGraph, reader: WeightReader): Promise<LoadedWeights> {
    const stored = new Map<string, Stored>();
    for (const decl of storedTensors(g)) {
      if (decl.unused !== undefined) continue;
      const t = await reader.get(decl.name);
      if (t.shape.join() !== decl.shape.join()) {
        throw invalidInput(
          "golden/weight-shape",
          `tensor "${decl.name}" has shape [${t.shape}], the graph expects [${decl.shape}]`,
        );
      }
      const n = decl.shape.reduce((a, b) => a * b, 1);
      if (t.data.length !== n) {
        throw invalidInput(
          "golden/weight-shape",
          `tensor "${decl.name}" has ${t.data.length} elements, its shape needs ${n}`,
        );
      }
      stored.set(decl.name, { decl, data: Float64Array.from(t.data) });
    }
    return new LoadedWeights(new Map(g.weights.map((w) => [w.id, w])), stored);
  }

  /** The stored tensor behind a weight id (following ties). */
  tensor(id: string): Stored {
    const decl = this.byId.get(id);
    const s = decl && this.stored.get(decl.name);
    if (!s) throw invalidInput("golden/missing-weight", `weight "${id}" was not loaded`);
    return s;
  }

  /** The [out, in] matrix of a view, materialised once. */
  matrix(v: MatrixView): Mat {
    const key = JSON.stringify(v);
    let m = this.matrices.get(key);
    if (!m) {
      m = this.materialise(v);
      this.matrices.set(key, m);
    }
    return m;
  }

  vector(v: VectorView): Float64Array {
    const key = JSON.stringify(v);
    let out = this.vectors.get(key);
    if (!out) {
      const { decl, data } = this.tensor(v.weight);
      const n = decl.shape[decl.shape.length - 1]!;
      const base = (v.expert ?? 0) * n;
      const s = v.slice ?? { start: 0, count: n };
      out = new Float64Array(s.count);
      for (let i = 0; i < s.count; i++) out[i] = data[base + s.start + i * (s.step ?? 1)]!;
      this.vectors.set(key, out);
    }
    return out;
  }

  private materialise(v: MatrixView): Mat {
    const { decl, data } = this.tensor(v.weight);
    const dims = decl.shape.slice(-2) as [number, number];
    const base = (v.expert ?? 0) * dims[0] * dims[1];
    const [fullOut, cols] = decl.transposed ? [dims[1], dims[0]] : dims;
    const s = v.rows ?? { start: 0, count: fullOut };
    const out = new Float64Array(s.count * cols);
    for (let r = 0; r < s.count; r++) {
      const o = s.start + r * (s.step ?? 1);
      for (let i = 0; i < cols; i++) {
        // Logical W[o][i]: stored [out, in] at o·in + i, or [in, out] at i·out + o.
        out[r * cols + i] = data[base + (decl.transposed ? i * dims[1] + o : o * dims[1] + i)]!;
      }
    }
    return { rows: s.count, cols, data: out };
  }
}
