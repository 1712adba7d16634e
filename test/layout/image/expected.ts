/**
 * The image a segment or table should hold, computed independently of the writer from the
 * checkpoint's float values and the quant core (quantizeF32Rows, packBeats, encodeScales), and a
 * decoder of order-0 tiles back to dequantized values.
 */
import { groupsPerRowOf, tileScaleBytes } from "../../../src/layout/plan/sizes.js";
import {
  BEAT_BYTES,
  beatRowBytes,
  decodeScales,
  dequantizeInt4,
  encodeScales,
  packBeats,
  packedRowBytes,
  type QuantScheme,
  quantizeF32Rows,
  unpackBeats,
} from "../../../src/layout/quant/index.js";
import type { PlacedTensor, StreamSegment } from "../../../src/layout/types.js";

export type FloatRows = (name: string) => Promise<{ data: Float32Array; rows: number; k: number }>;

export const schemeOf = (group: number, scaleDtype: "bf16" | "f16" | "f32"): QuantScheme => ({
  scaleGroup: group === 0 ? "row" : (group as 32 | 64 | 128),
  scaleDtype,
  quantSearch: false,
});

/** The logical sub-matrix a segment covers, with its transforms applied. */
export async function segmentValues(
  s: StreamSegment,
  matrix: { rows: number; cols: number },
  read: FloatRows,
): Promise<Float32Array> {
  const t = await read(s.tensor);
  const transposed = s.transforms.some((x) => x.kind === "transpose");
  const e = s.expert ?? 0;
  const step = s.rowStep ?? 1;
  const out = new Float32Array(s.rows.count * s.cols.count);
  for (let i = 0; i < s.rows.count; i++) {
    const r = s.rows.start + i * step;
    for (let c = 0; c < s.cols.count; c++) {
      const col = s.cols.start + c;
      out[i * s.cols.count + c] = transposed
        ? t.data[(e * matrix.cols + col) * t.k + r]!
        : t.data[(e * matrix.rows + r) * t.k + col]!;
    }
  }
  for (const x of s.transforms) {
    if (x.kind !== "scale_cols") continue;
    const v = (await read(x.by)).data;
    for (let i = 0; i < s.rows.count; i++) {
      for (let c = 0; c < s.cols.count; c++) {
        out[i * s.cols.count + c] = Math.fround(
          out[i * s.cols.count + c]! * Math.fround(x.offset + v[s.cols.start + c]!),
        );
      }
    }
  }
  return out;
}

/** Expected tile bytes of a segment. */
export function expectedTile(s: StreamSegment, values: Float32Array): Uint8Array {
  const n = s.rows.count;
  const k = s.cols.count;
  const q = quantizeF32Rows(values, k, schemeOf(s.group, s.scaleDtype));
  const enc = encodeScales(q.scales, s.scaleDtype);
  const out = new Uint8Array(s.bytes);
  if (s.order === 0) {
    const rows = packBeats(q.packed, n, k);
    out.set(rows);
    out.set(enc, rows.length);
    return out;
  }
  const blocks = Math.ceil(k / 32);
  const sb = s.scaleDtype === "f32" ? 4 : 2;
  const prb = packedRowBytes(k);
  const gpr = groupsPerRowOf(s.group, k);
  const stride = s.group === 32 ? n * BEAT_BYTES + Math.ceil((n * sb) / 16) * 16 : n * BEAT_BYTES;
  for (let b = 0; b < blocks; b++) {
    for (let r = 0; r < n; r++) {
      const src = q.packed.subarray(r * prb + b * 16, Math.min((r + 1) * prb, r * prb + (b + 1) * 16));
      out.set(src, b * stride + r * 16);
      if (s.group === 32)
        out.set(enc.subarray((r * gpr + b) * sb, (r * gpr + b + 1) * sb), b * stride + n * 16 + r * sb);
    }
  }
  if (s.group === 0) out.set(enc, blocks * stride);
  return out;
}

/** Expected bytes of an INT4 row table. */
export function expectedTable(t: PlacedTensor, values: Float32Array): Uint8Array {
  const q = quantizeF32Rows(values, t.cols, schemeOf(t.group, t.scaleDtype));
  const enc = encodeScales(q.scales, t.scaleDtype);
  const prb = packedRowBytes(t.cols);
  const rb = beatRowBytes(t.cols);
  const sRow = enc.length / t.rows;
  const out = new Uint8Array(t.bytes);
  for (let r = 0; r < t.rows; r++) {
    out.set(q.packed.subarray(r * prb, (r + 1) * prb), r * t.rowStride);
    out.set(enc.subarray(r * sRow, (r + 1) * sRow), r * t.rowStride + rb);
  }
  return out;
}

/** Dequantized values of an order-0 tile read from the image. */
export function decodeTile0(bytes: Uint8Array, s: StreamSegment): Float32Array {
  const n = s.rows.count;
  const k = s.cols.count;
  const rowsPart = n * beatRowBytes(k);
  const packed = unpackBeats(bytes.subarray(0, rowsPart), n, k);
  const gpr = groupsPerRowOf(s.group, k);
  const sb = s.scaleDtype === "f32" ? 4 : 2;
  const scales = decodeScales(bytes.subarray(rowsPart, rowsPart + n * gpr * sb), s.scaleDtype);
  if (
    bytes.length !==
    rowsPart + tileScaleBytes({ rows: n, cols: k, group: s.group, scaleDtype: s.scaleDtype })
  ) {
    throw new Error("tile size mismatch");
  }
  return dequantizeInt4(packed, scales, n, k, s.group === 0 ? "row" : (s.group as 32 | 64 | 128));
}
