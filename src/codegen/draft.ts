/**
 * The draft program: what lowering produces and the passes refine until encode. Steps name L2
 * buffers (not addresses), constant-cache contents (not entries) and weight tiles (not DMAs); any
 * numeric field may be a relocation expression. allocate-l2 gives buffers offsets, allocate-const
 * turns shapes into entries and MEMSETs, schedule turns tile uses into DMAs, waits adds waits and
 * async flags, encode produces the Program.
 */
import type { DmaPort, HostOperand, Origin, RelocExpr, SegmentKind } from "./program.js";

export type { RelocExpr };

/** A number, or a relocation expression evaluated per token by the driver. */
export type Val = number | RelocExpr;

export const isReloc = (v: Val): v is RelocExpr => typeof v !== "number";

export type BufScope = "segment" | "program";

/** A virtual L2 buffer: `words` words, placed by allocate-l2. */
export interface L2Buf {
  readonly id: number;
  readonly name: string;
  /** Mutable for program buffers (the constant table grows while segments are lowered). */
  words: number;
  readonly scope: BufScope;
  offset?: number;
}

/** A word inside a buffer. */
export interface L2Addr {
  readonly buf: L2Buf;
  readonly word: number;
}

/** Constant-cache content an instruction needs: (a, b, c) in a bank. */
export interface ConstReq {
  readonly bank: "fmap_shape" | "weight_shape";
  readonly a: Val;
  readonly b: Val;
  readonly c: Val;
}

/** One piece of DDR a weight DMA reads. */
export interface DmaPiece {
  readonly region: string;
  readonly offset: Val;
  readonly bytes: Val;
  /** The stream segment (layout contract) this piece carries, when it is a weight tile. */
  readonly segmentId?: string;
}

/** What a GEMV/GEMM consumes on one port: the DMA pieces that carry its sub-tile, in order. */
export interface TileUse {
  readonly port: DmaPort;
  readonly pieces: readonly DmaPiece[];
}

interface DBase {
  readonly origin: Origin;
}

export interface DGemv extends DBase {
  readonly kind: "gemv";
  readonly engine: "GEMV" | "GEMM";
  readonly dest: L2Addr;
  readonly src: L2Addr;
  readonly findemax: boolean;
  readonly accm: boolean;
  readonly shape: ConstReq;
  readonly wshape: ConstReq;
  readonly tiles: readonly TileUse[];
  readonly weightSegment?: string;
  shapeEntry?: number;
  wshapeEntry?: number;
}

export interface DCvo extends DBase {
  readonly kind: "cvo";
  readonly func: string;
  readonly src: L2Addr;
  readonly dst: L2Addr;
  readonly length: Val;
  readonly subEmax?: boolean;
  readonly recipScale?: boolean;
  readonly accm?: boolean;
  readonly intent?: string;
  async?: boolean;
}

export type MemcpyDir = "host_to_l2" | "l2_to_host" | "l2_to_l2";

export interface DMemcpy extends DBase {
  readonly kind: "memcpy";
  readonly dir: MemcpyDir;
  readonly dest?: L2Addr;
  readonly src?: L2Addr;
  /** Element count (a·b·c of the fmap entry). */
  readonly count: Val;
  shapeEntry?: number;
  async?: boolean;
}

export interface DMemset extends DBase {
  readonly kind: "memset";
  readonly bank: "fmap_shape" | "weight_shape";
  readonly entry: number;
  readonly a: Val;
  readonly b: Val;
  readonly c: Val;
}

export interface DDma extends DBase {
  readonly kind: "dma";
  readonly port: DmaPort;
  readonly region: string;
  readonly offset: Val;
  readonly bytes: Val;
  /** For weight DMAs: the GEMV/GEMM that consumes these bytes (set by schedule). */
  consumer?: DGemv;
  readonly segmentId?: string;
  tag?: number;
}

export interface DHost extends DBase {
  readonly kind: "host";
  readonly fn: string;
  readonly inputs: readonly HostOperand[];
  readonly outputs: readonly HostOperand[];
  readonly attrs: Readonly<Record<string, number | string | boolean | readonly number[]>>;
  /** Relocated operand fields (`inputs[i].elements`, …); the operand holds the maximum. */
  readonly relocs?: readonly { readonly field: string; readonly expr: RelocExpr }[];
}

export interface DWait extends DBase {
  readonly kind: "wait";
  readonly on: { kind: "npu-idle" } | { kind: "dma"; dma: DDma } | { kind: "host" };
}

export type DStep = DGemv | DCvo | DMemcpy | DMemset | DDma | DHost | DWait;

export interface DSegment {
  readonly name: string;
  readonly kind: SegmentKind;
  steps: DStep[];
  /** Rows (tokens) of values in this segment: 1 for decode/load, the chunk for prefill. */
  readonly rows: number;
  /** Live range of each segment buffer: [first, last] index into `steps` (set by allocate-l2). */
  bufs: L2Buf[];
  /** Prefill: the largest position the segment may start at (see Segment.maxPos). */
  maxPos?: number;
}

export interface DVariable {
  readonly name: string;
  readonly doc: string;
  readonly setBy: "driver" | "host";
}
