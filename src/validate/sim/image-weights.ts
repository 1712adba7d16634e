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
import { decodeManifestTensor } from "./run.js";
import { BEAT_CODES, tileLayout } from "./tile.js";

const TIED = "#tied";

/** Values of one streamed sub-tile, [rows × cols] row-major. */
export function decodeTile(bytes: Uint8Array, s: ManifestSegment): Float32Array {
  const rows = s.rows.count;
  const k = s.cols.count;
  const lay = tileLayout(rows, k, { order: s.order, group: s.group, scales: true, scaleDtype: s.scaleDtype });
  if (typeof lay === "string") throw invalidInput("sim/image-tile", `segment ${s.id}: ${lay}`);
  const sb = s.scaleDtype === "f32" ? 4 : 2;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scale = (at: number) => {
    if (sb === 4) return dv.getFloat32(at, true);
    const h = dv.getUint16(at, true);
    if (s.scaleDtype === "bf16") return new Float32Array(new Uint32Array([h << 16]).buffer)[0]!;
    const e = (h >>> 10) & 31;
    const m = h & 1023;
    const v = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
    return h & 0x8000 ? -v : v;
  };
  const out = new Float32Array(rows * k);
  const glen = s.group === 0 ? k : s.group;
  for (let r = 0; r < rows; r++) {
    for (let e = 0; e < k; e++) {
      const at = lay.blockOff[Math.floor(e / BEAT_CODES)]! + r * lay.rowStep + ((e % BEAT_CODES) >>> 1);
      const byte = bytes[at]!;
      const q = ((((e & 1 ? byte >>> 4 : byte) & 15) ^ 8) - 8) as number;
      const g = Math.floor(e / glen);
      out[r * k + e] = q * scale(lay.groupOff[g]! + r * lay.scaleRowStep);
    }
  }
  return out;
}

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

/** Places every sub-tile of a tensor at its logical [out, in] position, in the stored layout. */
function assemble(
  bin: Uint8Array,
  pieces: readonly ManifestSegment[],
  decl: WeightDecl,
  n: number,
): Float32Array {
  const out = new Float32Array(n);
  const [d0, d1] = decl.shape.slice(-2) as [number, number];
  const [outDim, inDim] = decl.transposed ? [d1, d0] : [d0, d1];
  for (const s of pieces) {
    const v = decodeTile(bin.subarray(s.fileOffset, s.fileOffset + s.bytes), s);
    const eBase = (s.expert ?? 0) * outDim * inDim;
    for (let r = 0; r < s.rows.count; r++) {
      const o = s.rows.start + r;
      for (let c = 0; c < s.cols.count; c++) {
        const i = s.cols.start + c;
        out[eBase + (decl.transposed ? i * outDim + o : o * inDim + i)] = v[r * s.cols.count + c]!;
      }
    }
  }
  return out;
}
