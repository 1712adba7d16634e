/**
 * Byte sizes of the stored formats (docs/program.md §4.3, docs/layout.md §6): weight tiles in both
 * orders, row tables (embedding-style: a row and its scales in one read), plain vectors, and the
 * alignment helpers. The image writer produces exactly these sizes; finalizeLayout checks every
 * segment's `bytes` against them.
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import { BEAT_BYTES, beatRowBytes, CODES_PER_BEAT } from "../quant/index.js";
import type { LayoutMachine, TensorFormat, TensorPolicy } from "../types.js";

export type Group = 0 | 32 | 64 | 128;
export type ScaleDtype = "bf16" | "f16" | "f32";

export const padTo = (n: number, a: number): number => Math.ceil(n / a) * a;
export const padBeat = (n: number): number => padTo(n, BEAT_BYTES);

export function scaleBytesOf(dtype: ScaleDtype): number {
  return dtype === "f32" ? 4 : 2;
}

/** Scales per row of `cols` INT4 values: 1 per row (group 0) or one per group (last one short). */
export function groupsPerRowOf(group: Group, cols: number): number {
  return group === 0 ? 1 : Math.ceil(cols / group);
}

export interface TileShape {
  readonly rows: number;
  readonly cols: number;
  readonly order: 0 | 1;
  readonly group: Group;
  readonly scaleDtype: ScaleDtype;
}

/**
 * Bytes of one tile. Order 0: every row padded to whole beats, then all scales row-major padded to
 * a beat. Order 1: per block of 32 K-elements one beat per row, followed by the block's scales
 * (group 32) padded to a beat; with per-row scales (group 0) the scales follow all blocks.
 */
export function tileBytes(t: TileShape): number {
  const sb = scaleBytesOf(t.scaleDtype);
  if (t.order === 0)
    return t.rows * beatRowBytes(t.cols) + padBeat(t.rows * groupsPerRowOf(t.group, t.cols) * sb);
  const blocks = Math.ceil(t.cols / CODES_PER_BEAT);
  if (t.group === 32) return blocks * (t.rows * BEAT_BYTES + padBeat(t.rows * sb));
  if (t.group === 0) return blocks * t.rows * BEAT_BYTES + padBeat(t.rows * sb);
  throw new PccxError(
    "layout/tile-format",
    ExitCode.INTERNAL,
    `a K-block-major (order 1) tile takes group 32 or per-row scales, not group ${t.group}`,
  );
}

/** Bytes of the scales part of an order-0 tile (after the rows). */
export function tileScaleBytes(t: Omit<TileShape, "order">): number {
  return padBeat(t.rows * groupsPerRowOf(t.group, t.cols) * scaleBytesOf(t.scaleDtype));
}

/** Row stride of an INT4 row table: the row's codes (whole beats) + its scales, padded to a beat. */
export function tableRowStride(cols: number, group: Group, scaleDtype: ScaleDtype): number {
  return padBeat(beatRowBytes(cols) + groupsPerRowOf(group, cols) * scaleBytesOf(scaleDtype));
}

/** Bytes per element of an unquantized format. */
export function elementBytes(format: Exclude<TensorFormat, "int4">): number {
  return format === "f32" ? 4 : 2;
}

/** Bytes of a row-read tensor: an INT4 table, or plain BF16/F32 rows. */
export function tableBytes(
  rows: number,
  cols: number,
  format: TensorFormat,
  group: Group,
  scaleDtype: ScaleDtype,
): { bytes: number; rowStride: number } {
  const rowStride = format === "int4" ? tableRowStride(cols, group, scaleDtype) : cols * elementBytes(format);
  return { bytes: rows * rowStride, rowStride };
}

/**
 * Estimated bytes of a streamed matrix before codegen tiles it: K split into chunks of at most
 * `maxK` (each chunk's rows carry their own scales), rows in one tile per chunk.
 */
export function streamBytesEstimate(
  rows: number,
  cols: number,
  group: Group,
  scaleDtype: ScaleDtype,
  maxK: number,
): number {
  let bytes = 0;
  for (let c = 0; c < cols; c += maxK) {
    bytes += tileBytes({ rows, cols: Math.min(maxK, cols - c), order: 0, group, scaleDtype });
  }
  return bytes;
}

/** Bytes a policy takes in its stored format (streams: the config-only estimate). */
export function policyBytes(
  p: Pick<TensorPolicy, "placement" | "format" | "group" | "scaleDtype" | "rows" | "cols" | "experts">,
  m: Pick<LayoutMachine, "maxK" | "l2WordBytes">,
): number {
  const rows = p.rows ?? 1;
  const cols = p.cols ?? 1;
  switch (p.placement) {
    case "folded":
      return 0;
    case "stream":
      return streamBytesEstimate(rows, cols, p.group, p.scaleDtype, m.maxK) * (p.experts ?? 1);
    case "l2":
      return padTo(rows * cols * (p.format === "int4" ? 1 : elementBytes(p.format)), m.l2WordBytes);
    case "ddr":
    case "off-ddr":
      return tableBytes(rows, cols, p.format, p.group, p.scaleDtype).bytes;
  }
}
