/**
 * The weights a program actually computes with, read back from its weight image (weights.bin +
 * weights.json) for the golden reference: streamed INT4 tiles dequantized (codes × stored scales),
 * INT4 tables dequantized, BF16/F32 vectors as stored, folded norm weights as identities (their
 * values live in the columns of the projections they were folded into). Running the golden
 * reference on these isolates the compiler's logic from the quantization error: exact-mode
 * simulation must then agree with it to float rounding.
 *
 * A tied tensor read two ways (an embedding table in DDR and the same tensor streamed as the LM
 * head) gets two different values, so the graph is untied: the tied declaration is renamed
 * `<name>#tied` and served from the streamed tiles.
 */
import { invalidInput } from "../../diag/index.js";
import type { ManifestSegment, WeightManifest } from "../../layout/image/manifest.js";
import type { ModelGraph, WeightDecl } from "../../resolver/graph/index.js";
import type { WeightReader, WeightTensor } from "../golden/weights.js";
import { decodeManifestTensor, decodeTile, decodeTileInto } from "./dequant.js";

const TIED = "#tied";

/** The graph with tied declarations made separate tensors (`<name>#tied`). */
export function untie(g: ModelGraph): ModelGraph {
  const weights = g.weights.map((w): WeightDecl => {
    if (w.tiedTo === undefined) return w;
    const { tiedTo: _tied, ...rest } = w;
    return { ...rest, name: `${w.name}${TIED}` };
  });
  return { ...g, weights };
}

/** A WeightReader over the image, for the (untied) graph `g`. */
export function imageWeightReader(bin: Uint8Array, manifest: WeightManifest, g: ModelGraph): WeightReader {
  const decls = new Map(g.weights.map((w) => [w.name, w]));
  const segs = new Map<string, ManifestSegment[]>();
  for (const s of manifest.segments) segs.set(s.tensor, [...(segs.get(s.tensor) ?? []), s]);
  const tables = new Map(manifest.tensors.map((t) => [t.tensor, t]));
  const folded = new Map(manifest.folded.map((f) => [f.tensor, f.offset]));
  return {
    async get(name: string): Promise<WeightTensor> {
      const decl = decls.get(name);
      if (!decl) throw invalidInput("golden/missing-weight", `tensor "${name}" is not declared by the graph`);
      const shape = decl.shape;
      const n = shape.reduce((a, b) => a * b, 1);
      const base = name.endsWith(TIED) ? name.slice(0, -TIED.length) : name;
      const streamed = name !== base || !tables.has(base);
      if (!streamed || (folded.has(base) && name === base)) {
        const offset = folded.get(base);
        if (offset !== undefined && name === base)
          return { shape, data: new Float32Array(n).fill(1 - offset) };
        const t = tables.get(base)!;
        return { shape, data: decodeManifestTensor(bin.subarray(t.fileOffset, t.fileOffset + t.bytes), t) };
      }
      const pieces = segs.get(base);
      if (!pieces) throw invalidInput("golden/missing-weight", `tensor "${base}" is not in the weight image`);
      return { shape, data: assemble(bin, pieces, decl, n) };
    },
  };
}

/**
 * Places every sub-tile of a tensor at its position in the stored layout. A segment's rows and cols
 * index the stored [d0, d1] matrix, or its transpose when the segment has a `transpose` transform
 * (src/layout/plan/segments.ts `segmentMatrix`): every segment of a tensor stored [in, out], and
 * the absorbed MLA reads of kv_b_proj (stored [out, in], read [in, out]). Tile element (r, c) is
 * matrix element (rows.start + r·rowStep, cols.start + c), i.e. stored element (cols…, rows…) when
 * transposed.
 */
function assemble(
  bin: Uint8Array,
  pieces: readonly ManifestSegment[],
  decl: WeightDecl,
  n: number,
): Float32Array {
  const out = new Float32Array(n);
  const [d0, d1] = decl.shape.slice(-2) as [number, number];
  for (const s of pieces) {
    const flipped = s.transforms.some((t) => t.kind === "transpose");
    const step = s.rowStep ?? 1;
    const eBase = (s.expert ?? 0) * d0 * d1;
    const bytes = bin.subarray(s.fileOffset, s.fileOffset + s.bytes);
    // Matrix element (row, col) is stored at row·d1 + col, or col·d1 + row when transposed.
    if (flipped)
      transposeInto(
        decodeTile(bytes, s),
        s.rows.count,
        s.cols.count,
        out,
        eBase + s.cols.start * d1 + s.rows.start,
        step,
        d1,
      );
    else decodeTileInto(bytes, s, out, eBase + s.rows.start * d1 + s.cols.start, step * d1, 1);
  }
  return out;
}

const TRANSPOSE_BLOCK = 32;

/**
 * Tile element (r, c) of a row-major rows × cols tile to `out[base + r·rowStride + c·colStride]`,
 * in 32 × 32 blocks so that the strided writes stay in cache.
 */
function transposeInto(
  v: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array,
  base: number,
  rowStride: number,
  colStride: number,
): void {
  for (let c0 = 0; c0 < cols; c0 += TRANSPOSE_BLOCK) {
    const c1 = Math.min(cols, c0 + TRANSPOSE_BLOCK);
    for (let r0 = 0; r0 < rows; r0 += TRANSPOSE_BLOCK) {
      const r1 = Math.min(rows, r0 + TRANSPOSE_BLOCK);
      for (let c = c0; c < c1; c++) {
        const d = base + c * colStride;
        for (let r = r0; r < r1; r++) out[d + r * rowStride] = v[r * cols + c]!;
      }
    }
  }
}
