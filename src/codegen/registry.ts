/**
 * Program-wide registries lowering fills while it walks the graph: the weight tiles of each port's
 * stream (deduplicated, so decode and prefill read the same bytes), the DDR regions and what the
 * image writer puts in them, the L2 constant table, vectors pinned in L2, and the program's
 * variables. They outlive one segment; the load segment is built from them at the end.
 */

import type { StreamSegment, WeightTransform } from "../layout/types.js";
import type { RopeSpec } from "../resolver/graph/index.js";
import type { L2Buf, Val } from "./draft.js";
import { internalError } from "./errors.js";
import type { Machine } from "./machine.js";
import type { DdrRegion, DmaPort, HostOperand } from "./program.js";
import { tileBytes } from "./tiles.js";

/** A RoPE cos/sin table in DDR, written by the load segment (host `rope_table`). */
export interface RopeTable {
  readonly region: string;
  readonly rope: RopeSpec;
  readonly rotaryDim: number;
  readonly positions: number;
  /** Bytes of one row: cos then sin (rotaryDim/2 BF16 each, each half padded to an L2 word). */
  readonly rowBytes: number;
  readonly halfBytes: number;
}

export interface TileRequest {
  readonly tensor: string;
  readonly expert?: number;
  readonly rows: { readonly start: number; readonly count: number };
  readonly cols: { readonly start: number; readonly count: number };
  readonly order: 0 | 1;
  readonly group: 0 | 32 | 64 | 128;
  readonly transforms: readonly WeightTransform[];
}

interface RegionDraft {
  readonly name: string;
  readonly kind: DdrRegion["kind"];
  readonly port?: DmaPort;
  bytes: number;
}

const align = (x: number, a: number) => Math.ceil(x / a) * a;

export class Registry {
  readonly regions = new Map<string, RegionDraft>();
  /** Every weight tile, in allocation order; encode fills in each one's first consumer. */
  readonly streamSegments: StreamSegment[] = [];
  private readonly tileKeys = new Map<string, StreamSegment>();
  readonly ropeTables = new Map<string, RopeTable>();
  /** Constant scalars: value → word index in the constant table. */
  readonly constWords = new Map<number, number>();
  /** Constant vectors (ones, zeros): the longest per value, and every one allocated (all are filled). */
  readonly constVectors = new Map<string, { word: number; words: number; value: number; length: number }>();
  readonly constVectorList: { word: number; words: number; value: number; length: number }[] = [];
  constBuf?: L2Buf;
  constBufWords = 0;
  /** L2-resident copies loaded by the load segment: pinned vectors, or sink words (`spread`). */
  readonly pinned = new Map<string, { buf: L2Buf; source: HostOperand; words: number; spread?: string }>();
  readonly variables = new Map<string, { doc: string; setBy: "driver" | "host" }>();
  private nextSeg = 0;

  constructor(readonly m: Machine) {}

  region(name: string, kind: DdrRegion["kind"], port?: DmaPort): RegionDraft {
    let r = this.regions.get(name);
    if (!r) {
      r = { name, kind, ...(port ? { port } : {}), bytes: 0 };
      this.regions.set(name, r);
    }
    return r;
  }

  /** Reserves `bytes` at the end of a region (16-byte aligned) and returns the offset. */
  reserve(name: string, kind: DdrRegion["kind"], bytes: number, port?: DmaPort): number {
    const r = this.region(name, kind, port);
    const off = align(r.bytes, this.m.beatBytes);
    r.bytes = off + bytes;
    return off;
  }

  /**
   * The stream segment of one weight sub-tile on `port`. An identical tile requested before (by
   * another segment, on another port) is reused: same region, same offset.
   */
  tile(req: TileRequest, port: DmaPort): { region: string; offset: number; bytes: number; id: string } {
    const key = JSON.stringify(req);
    const hit = this.tileKeys.get(key);
    if (hit) return { region: regionOfPort(hit.port), offset: hit.offset, bytes: hit.bytes, id: hit.id };
    const bytes = this.tileBytesOf(req);
    const offset = this.reserve(regionOfPort(port), "weights", bytes, port);
    const seg = this.segment(req, port, offset, bytes);
    this.tileKeys.set(key, seg);
    this.streamSegments.push(seg);
    return { region: regionOfPort(port), offset, bytes, id: seg.id };
  }

  /** Registers a stream segment at a given place (expert tables: no deduplication). */
  addSegment(req: TileRequest, port: DmaPort, offset: number): string {
    const seg = this.segment(req, port, offset, this.tileBytesOf(req));
    this.streamSegments.push(seg);
    return seg.id;
  }

  private tileBytesOf(req: TileRequest): number {
    return tileBytes(this.m, { order: req.order, group: req.group, n: req.rows.count, k: req.cols.count });
  }

  private segment(req: TileRequest, port: DmaPort, offset: number, bytes: number): StreamSegment {
    return {
      id: `w${this.nextSeg++}`,
      port,
      offset,
      bytes,
      tensor: req.tensor,
      ...(req.expert !== undefined ? { expert: req.expert } : {}),
      rows: req.rows,
      cols: req.cols,
      order: req.order,
      group: req.group,
      scaleDtype: this.m.target.file.numeric.weights.scale_dtype,
      transforms: req.transforms,
      consumer: { segment: "", step: -1 },
    };
  }

  /** The RoPE table of a spec and rotary width (a `buffer` region the load segment fills). */
  ropeTable(rope: RopeSpec, rotaryDim: number, positions: number): RopeTable {
    const key = JSON.stringify([rope, rotaryDim]);
    const hit = this.ropeTables.get(key);
    if (hit) return hit;
    const halfBytes = align((rotaryDim / 2) * this.m.activationBytes, this.m.wordBytes);
    const t: RopeTable = {
      region: `rope.${this.ropeTables.size}`,
      rope,
      rotaryDim,
      positions,
      rowBytes: 2 * halfBytes,
      halfBytes,
    };
    this.reserve(t.region, "buffer", t.rowBytes * positions);
    this.ropeTables.set(key, t);
    return t;
  }

  /** Word index of scalar `value` in the L2 constant table. */
  constWord(value: number): number {
    const key = Object.is(value, -0) ? 0 : value;
    let w = this.constWords.get(key);
    if (w === undefined) {
      w = this.constBufWords++;
      this.constWords.set(key, w);
    }
    return w;
  }

  /** A constant vector of `length` copies of `value` (header word first, value 1). */
  constVector(value: number, length: number): { word: number; words: number } {
    const key = `${value}`;
    const cur = this.constVectors.get(key);
    const words = 1 + Math.ceil(length / this.m.elemsPerWord);
    if (cur && cur.length >= length) return cur;
    const v = { word: this.constBufWords, words, value, length };
    this.constBufWords += words;
    this.constVectors.set(key, v);
    this.constVectorList.push(v);
    return v;
  }

  variable(name: string, doc: string, setBy: "driver" | "host"): string {
    if (!this.variables.has(name)) this.variables.set(name, { doc, setBy });
    return name;
  }

  /** Regions placed one after another from 0, 4 KiB aligned, in a fixed kind order. */
  ddrRegions(pageBytes: number): DdrRegion[] {
    const rank: Record<DdrRegion["kind"], number> = {
      weights: 0,
      embedding: 1,
      table: 2,
      kv: 3,
      logits: 4,
      buffer: 5,
    };
    const list = [...this.regions.values()].sort(
      (a, b) => rank[a.kind] - rank[b.kind] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    let off = 0;
    return list.map((r) => {
      const region: DdrRegion = {
        name: r.name,
        offset: off,
        bytes: align(r.bytes, this.m.beatBytes),
        kind: r.kind,
        ...(r.port ? { port: r.port } : {}),
      };
      off = align(off + region.bytes, pageBytes);
      return region;
    });
  }

  regionBytes(name: string): number {
    const r = this.regions.get(name);
    if (!r) throw internalError(`unknown DDR region ${name}`);
    return r.bytes;
  }
}

export const regionOfPort = (port: DmaPort): string => `weights.${port}`;

/** A relocation expression helper: base + Σ stride·var, clamped. */
export function rx(
  base: number,
  terms: readonly (readonly [string, number])[],
  min?: number,
  max?: number,
): Val {
  // −0 (from −c·0) would not survive program.json: every base is a plain 0 then.
  if (base === 0) base = 0;
  if (terms.length === 0) {
    let v = base;
    if (min !== undefined) v = Math.max(min, v);
    if (max !== undefined) v = Math.min(max, v);
    return v;
  }
  return {
    base,
    terms: terms.map(([variable, stride]) => ({ variable, stride })),
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
  };
}
