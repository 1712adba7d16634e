/**
 * The GEMV/GEMM inner loop: y[m][row] = Σ_g scale[row][g] · Σ_{k in g} W[row][k] · xv[m][k] over one
 * sub-tile in its stream format. Written for speed: typed arrays only, nibbles decoded through two
 * 256-entry tables (low nibble = even k, high nibble = odd k, sign-extended), no allocation, sums in
 * float64 (exact for INT4 × INT8 block products).
 */
import type { TileLayout } from "./tile.js";

/** Sign-extended low / high nibble of every byte value. */
const LO = new Float64Array(256);
const HI = new Float64Array(256);
for (let b = 0; b < 256; b++) {
  LO[b] = ((b & 15) ^ 8) - 8;
  HI[b] = (((b >>> 4) & 15) ^ 8) - 8;
}

export interface SubTile {
  readonly buf: Uint8Array;
  /** Offset of the sub-tile's first byte in `buf`. */
  readonly base: number;
  /** First output row of the sub-tile and its row count. */
  readonly rowStart: number;
  readonly rows: number;
  readonly layout: TileLayout;
}

/**
 * Accumulates one sub-tile: for every row of it and every activation row m < M, writes
 * y[m·n + rowStart + r]. `xv` holds M rows of `kPad` = blocks·32 values (zero past K).
 */
export function tileDot(
  t: SubTile,
  xv: Float64Array,
  kPad: number,
  mRows: number,
  n: number,
  y: Float64Array,
  readScale: ((bytes: Uint8Array, at: number) => number) | undefined,
): void {
  const { buf, base, layout } = t;
  const { blocks, blockOff, rowStep, groupOff, scaleRowStep, blocksPerGroup } = layout;
  const groups = readScale ? layout.groupsPerRow : 1;
  const perGroup = readScale ? blocksPerGroup : blocks;
  for (let r = 0; r < t.rows; r++) {
    const rb = base + r * rowStep;
    for (let m = 0; m < mRows; m++) {
      const xo = m * kPad;
      let acc = 0;
      let b = 0;
      for (let g = 0; g < groups; g++) {
        const bEnd = Math.min(blocks, b + perGroup);
        let s = 0;
        for (; b < bEnd; b++) {
          let p = rb + blockOff[b]!;
          let xi = xo + b * 32;
          for (let j = 0; j < 16; j += 4, p += 4, xi += 8) {
            const b0 = buf[p]!;
            const b1 = buf[p + 1]!;
            const b2 = buf[p + 2]!;
            const b3 = buf[p + 3]!;
            s +=
              LO[b0]! * xv[xi]! +
              HI[b0]! * xv[xi + 1]! +
              LO[b1]! * xv[xi + 2]! +
              HI[b1]! * xv[xi + 3]! +
              LO[b2]! * xv[xi + 4]! +
              HI[b2]! * xv[xi + 5]! +
              LO[b3]! * xv[xi + 6]! +
              HI[b3]! * xv[xi + 7]!;
          }
        }
        acc += readScale ? s * readScale(buf, base + groupOff[g]! + r * scaleRowStep) : s;
      }
      y[m * n + t.rowStart + r] = acc;
    }
  }
}

/**
 * The general path, element by element: any even scale group (e.g. the KV tiles' 8-element
 * groups, which split a beat), and exact-mode nibble codes (`codes[2·(byte − base) + nibble]`).
 */
export function tileDotGeneral(
  t: SubTile,
  xv: Float64Array,
  kPad: number,
  mRows: number,
  n: number,
  k: number,
  y: Float64Array,
  readScale: ((bytes: Uint8Array, at: number) => number) | undefined,
  group: number,
  codes: Float32Array | undefined,
): void {
  const { buf, base, layout } = t;
  const { blockOff, rowStep, groupOff, scaleRowStep } = layout;
  const glen = readScale && group > 0 ? group : k;
  for (let r = 0; r < t.rows; r++) {
    const rb = base + r * rowStep;
    for (let m = 0; m < mRows; m++) {
      const xo = m * kPad;
      let acc = 0;
      for (let g = 0, e0 = 0; e0 < k; g++, e0 += glen) {
        let s = 0;
        for (let e = e0, e1 = Math.min(k, e0 + glen); e < e1; e++) {
          const p = rb + blockOff[e >>> 5]! + ((e & 31) >>> 1);
          const w = codes ? codes[2 * (p - base) + (e & 1)]! : e & 1 ? HI[buf[p]!]! : LO[buf[p]!]!;
          s += w * xv[xo + e]!;
        }
        acc += readScale ? s * readScale(buf, base + groupOff[g]! + r * scaleRowStep) : s;
      }
      y[m * n + t.rowStart + r] = acc;
    }
  }
}
