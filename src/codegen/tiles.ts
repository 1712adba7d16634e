/**
 * Weight tile formats (docs/program.md §4.3) as arithmetic: how many bytes a tile of N × K INT4
 * values occupies in a stream, how a tile's rows are split over the ports feeding an engine, and the
 * KV cache tiles codegen defines (K rows with one scale beat per row, V as K-block-major tiles).
 * Used by lowering (DMA sizes), by the layout contract (StreamSegment bytes) and by the verifier.
 */
import type { Machine } from "./machine.js";

export interface TileShape {
  /** 0 row-major, 1 K-block-major. */
  readonly order: 0 | 1;
  /** K elements per scale; 0 = one scale per row. */
  readonly group: number;
  readonly n: number;
  readonly k: number;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** Bytes of one tile in the stream format (scales included). */
export function tileBytes(m: Machine, t: TileShape): number {
  if (t.n <= 0 || t.k <= 0) return 0;
  const beat = m.beatBytes;
  if (t.order === 0) {
    const rowBytes = ceilDiv(t.k, m.int4PerBeat) * beat;
    const scales = t.n * (t.group > 0 ? ceilDiv(t.k, t.group) : 1);
    return t.n * rowBytes + ceilDiv(scales * m.scaleBytes, beat) * beat;
  }
  const blocks = ceilDiv(t.k, m.int4PerBeat);
  const scaleBeats = t.group === m.int4PerBeat ? ceilDiv(t.n * m.scaleBytes, beat) : 0;
  return blocks * (t.n * beat + scaleBeats * beat);
}

/** Row ranges of a tile of n rows over p ports: p contiguous ranges of ceil(n/p) rows (last shorter). */
export function portRows(n: number, p: number): { start: number; count: number }[] {
  const r = ceilDiv(n, p);
  return Array.from({ length: p }, (_, j) => {
    const start = Math.min(n, j * r);
    return { start, count: Math.max(0, Math.min(n, start + r) - start) };
  });
}

/** The KV cache geometry of one layer's ring in the NPU (int4 tile) format. */
export interface KvTileGeometry {
  /** Bytes of one K row (headDim int4 values, beat padded). */
  readonly kRowBytes: number;
  /** Scale bytes per K row: exactly one beat (group = headDim / scales-per-beat). */
  readonly kScaleRowBytes: number;
  readonly kGroup: number;
  /** Bytes of one 32-slot block of a V tile (vHeadDim beats + its scale beats). */
  readonly vBlockBytes: number;
  readonly slotsPerBlock: number;
}

/** Scales per beat; a K row's scales fill exactly one beat, so K tile bytes stay linear in rows. */
export function kvScalesPerBeat(m: Machine): number {
  return m.beatBytes / m.scaleBytes;
}

/** Why a head geometry cannot use the NPU KV tiles, or undefined when it can. */
export function kvTileProblem(m: Machine, headDim: number, vHeadDim: number): string | undefined {
  const spb = kvScalesPerBeat(m);
  if (headDim % m.elemsPerWord !== 0 || vHeadDim % m.elemsPerWord !== 0)
    return `head dims ${headDim}/${vHeadDim} are not whole L2 words (${m.elemsPerWord} elements)`;
  if (headDim % spb !== 0)
    return `head dim ${headDim} is not a multiple of ${spb} (one scale beat per K row)`;
  if (headDim > m.maxK) return `head dim ${headDim} exceeds the engine K limit ${m.maxK}`;
  if (vHeadDim > m.gemvMaxRows) return `v head dim ${vHeadDim} exceeds the GEMV row limit ${m.gemvMaxRows}`;
  return undefined;
}

export function kvTileGeometry(m: Machine, headDim: number, vHeadDim: number): KvTileGeometry {
  const spb = kvScalesPerBeat(m);
  return {
    kRowBytes: ceilDiv(headDim, m.int4PerBeat) * m.beatBytes,
    kScaleRowBytes: m.beatBytes,
    kGroup: headDim / spb,
    vBlockBytes: tileBytes(m, { order: 1, group: m.int4PerBeat, n: vHeadDim, k: m.int4PerBeat }),
    slotsPerBlock: m.int4PerBeat,
  };
}
