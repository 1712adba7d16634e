/**
 * Weight tile formats (docs/program.md §4.3): where each beat and each scale of an N × K INT4 tile
 * lies in a port's byte stream, for row-major (`order` 0) and K-block-major (`order` 1) tiles, with
 * per-row (`group` 0) or group-wise scales. Also the inverse (`packTile`), used by tests and the
 * benchmark to build streams, and the row split over the ports that feed one engine.
 */
import { encodeScales } from "../../layout/quant/rounding.js";

/** INT4 codes per 128-bit beat, and its bytes. */
export const BEAT_CODES = 32;
export const BEAT_BYTES = 16;

export interface TileFormat {
  readonly order: 0 | 1;
  /** K elements per scale; 0 = one scale per row. */
  readonly group: number;
  /** Whether the tile carries scales (the instruction's w_scale). */
  readonly scales: boolean;
  readonly scaleDtype: "bf16" | "f16" | "f32";
}

export const scaleBytesOf = (d: TileFormat["scaleDtype"]): number => (d === "f32" ? 4 : 2);
export const padBeat = (n: number) => Math.ceil(n / BEAT_BYTES) * BEAT_BYTES;

/**
 * Where the beats and scales of a rows × k tile are, relative to its first byte: row r's beat of
 * K-block b at `blockOff[b] + r·rowStep`, its scale of group g at `groupOff[g] + r·scaleRowStep`.
 */
export interface TileLayout {
  readonly bytes: number;
  readonly blocks: number;
  /** Scales per row (1 for per-row scales, 0 without scales). */
  readonly groupsPerRow: number;
  /** K-blocks (beats) per scale group (all blocks for per-row scales). */
  readonly blocksPerGroup: number;
  readonly blockOff: Int32Array;
  readonly rowStep: number;
  readonly groupOff: Int32Array;
  readonly scaleRowStep: number;
}

/** The layout, or the reason the descriptor is invalid. */
export function tileLayout(rows: number, k: number, f: TileFormat): TileLayout | string {
  if (f.order === 1 && f.scales && f.group !== BEAT_CODES) {
    return `a K-block-major tile with scales needs group ${BEAT_CODES} (one scale beat per block), not ${f.group}`;
  }
  const blocks = Math.ceil(k / BEAT_CODES);
  const groupsPerRow = !f.scales ? 0 : f.group === 0 ? 1 : Math.ceil(k / f.group);
  const blocksPerGroup = f.group === 0 ? blocks : Math.max(1, Math.floor(f.group / BEAT_CODES));
  const sb = scaleBytesOf(f.scaleDtype);
  const blockOff = new Int32Array(blocks);
  const groupOff = new Int32Array(groupsPerRow);
  if (f.order === 0) {
    const rowBytes = blocks * BEAT_BYTES;
    for (let b = 0; b < blocks; b++) blockOff[b] = b * BEAT_BYTES;
    const s0 = rows * rowBytes;
    for (let g = 0; g < groupsPerRow; g++) groupOff[g] = s0 + g * sb;
    const bytes = s0 + (f.scales ? padBeat(rows * groupsPerRow * sb) : 0);
    return {
      bytes,
      blocks,
      groupsPerRow,
      blocksPerGroup,
      blockOff,
      rowStep: rowBytes,
      groupOff,
      scaleRowStep: groupsPerRow * sb,
    };
  }
  // K-block-major: per block, one beat per row, then (with scales) the block's N scales padded
  // to a beat.
  let pos = 0;
  for (let b = 0; b < blocks; b++) {
    blockOff[b] = pos;
    pos += rows * BEAT_BYTES;
    if (f.scales) {
      groupOff[b] = pos;
      pos += padBeat(rows * sb);
    }
  }
  return {
    bytes: pos,
    blocks,
    groupsPerRow,
    blocksPerGroup,
    blockOff,
    rowStep: BEAT_BYTES,
    groupOff,
    scaleRowStep: sb,
  };
}

/** Row ranges of an N-row tile over P ports: ceil(N/P) rows each, the last ones shorter or empty. */
export function splitRows(
  n: number,
  ports: number,
): readonly { readonly start: number; readonly count: number }[] {
  const per = Math.ceil(n / ports);
  return Array.from({ length: ports }, (_, j) => {
    const start = Math.min(n, j * per);
    return { start, count: Math.min(n, start + per) - start };
  });
}

/**
 * Packs codes (rows × k, −8..7, row-major) and stored scales (rows × groupsPerRow) into the tile
 * format: the bytes a port streams for one instruction.
 */
export function packTile(
  codes: Int8Array,
  scales: Float32Array | undefined,
  rows: number,
  k: number,
  f: TileFormat,
): Uint8Array {
  const lay = tileLayout(rows, k, f);
  if (typeof lay === "string") throw new Error(lay);
  const out = new Uint8Array(lay.bytes);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) {
      const b = Math.floor(i / BEAT_CODES);
      const e = i % BEAT_CODES;
      const at = lay.blockOff[b]! + r * lay.rowStep + (e >>> 1);
      const v = codes[r * k + i]! & 15;
      out[at] = e & 1 ? out[at]! | (v << 4) : out[at]! | v;
    }
  }
  if (f.scales) {
    if (!scales || scales.length !== rows * lay.groupsPerRow) {
      throw new Error(`packTile: expected ${rows * lay.groupsPerRow} scales`);
    }
    const enc = encodeScales(scales, f.scaleDtype);
    const sb = scaleBytesOf(f.scaleDtype);
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < lay.groupsPerRow; g++) {
        out.set(
          enc.subarray((r * lay.groupsPerRow + g) * sb, (r * lay.groupsPerRow + g + 1) * sb),
          lay.groupOff[g]! + r * lay.scaleRowStep,
        );
      }
    }
  }
  return out;
}
