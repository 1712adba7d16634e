/**
 * KV caches: one ring per layer that owns a cache, in DDR. The NPU format (int4_tiles) stores, per
 * KV head, the K rows row-major (one row per slot) followed by one scale beat per slot, and V as
 * K-block-major tiles (32 slots per block) split by V feature into the GEMV ports' sub-tiles, so
 * that the first kv_len slots of every port stream are one contiguous range whose size is linear in
 * the host-set variables kv_rows / kv_blocks (docs/program.md §4.3). The host format (bf16_rows) is
 * used when the NPU cannot stream the cache (a KV dtype other than int4, head widths that are not
 * whole words); attention then runs on the host.
 */
import type { AttentionOp, MlaAttentionOp, Op } from "../../resolver/graph/index.js";
import { unsupportedOp } from "../errors.js";
import type { HostOperand } from "../program.js";
import { kvTileGeometry, kvTileProblem, portRows } from "../tiles.js";
import type { Lower } from "./context.js";
import { kvBlocksVar, kvLenVar, kvRowsVar, kvSlotVar } from "./vars.js";

export interface KvCache {
  readonly layer: number;
  readonly capacity: number;
  readonly window?: number;
  readonly format: "int4_tiles" | "bf16_rows";
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vHeadDim: number;
  readonly kScale: number;
  /** The ring's DDR region `kv.L<layer>`: the K part from 0, the V part from vBase. */
  readonly region: string;
  readonly vBase: number;
  /** Why the host format was chosen (undefined for int4_tiles). */
  readonly hostReason?: string;
  // int4_tiles geometry
  readonly chunk: number;
  readonly chunks: number;
  readonly ports: number;
  readonly kRowBytes: number;
  readonly kGroup: number;
  readonly kHeadBytes: number;
  readonly kScaleOffset: number;
  readonly vParts: readonly { start: number; count: number }[];
  readonly vPortOffsets: readonly number[];
  readonly vBlockBytes: readonly number[];
  readonly vHeadBytes: number;
}

const caches = new WeakMap<object, Map<number, KvCache>>();

/** The KV caches of a program (keyed by the program's registry, or a Lower of it). */
export function cachesOf(of: Lower | object): Map<number, KvCache> {
  const key = "reg" in of ? (of as Lower).reg : of;
  let m = caches.get(key);
  if (!m) {
    m = new Map();
    caches.set(key, m);
  }
  return m;
}

/** Why this attention cannot stream its cache through the GEMV, or undefined. */
function npuProblem(L: Lower, op: Op, headDim: number, vHeadDim: number): string | undefined {
  // MLA has no host fallback (it would need kv_b_proj in BF16): its ring is always int4 tiles.
  if (L.plan.kvDtype !== "int4" && op.kind !== "mla_attention")
    return `the layout plan stores the KV cache as ${L.plan.kvDtype}; the GEMV engines stream INT4 tiles only`;
  const p = kvTileProblem(L.m, headDim, vHeadDim);
  if (p) return p;
  if (op.kind === "attention" && op.softcap !== undefined && op.sinks) return "softcap and sinks together";
  if (op.kind === "mla_attention") {
    const epw = L.m.elemsPerWord;
    if (![op.nopeDim, op.ropeDim, op.vHeadDim, op.kvRank].every((d) => d % epw === 0))
      return `MLA dims (nope ${op.nopeDim}, rope ${op.ropeDim}, v ${op.vHeadDim}, rank ${op.kvRank}) are not whole L2 words`;
  }
  return undefined;
}

/** The sliding window, or undefined when it is full attention (a window ≥ the context never masks). */
function effectiveWindow(L: Lower, op: AttentionOp | MlaAttentionOp): number | undefined {
  if (op.mask.kind !== "sliding" || op.mask.window >= L.plan.context) return undefined;
  return op.mask.window;
}

/** Creates (or returns) the cache owned by `op`'s layer. */
export function ownCache(L: Lower, op: AttentionOp | MlaAttentionOp): KvCache {
  const layer = op.layer!;
  const all = cachesOf(L);
  const hit = all.get(layer);
  if (hit) return hit;
  const [kvHeads, hd, vhd] =
    op.kind === "attention" ? [op.kvHeads, op.headDim, op.vHeadDim] : [1, op.kvRank + op.ropeDim, op.kvRank];
  const window = effectiveWindow(L, op);
  const slots = L.plan.slots(layer);
  const capacity = window ?? slots;
  if (window !== undefined && slots < window)
    throw unsupportedOp(
      op,
      `the ring of layer ${layer} has ${slots} slots, fewer than its window ${window}`,
      "give sliding layers min(window, context) KV slots in the layout plan",
    );
  const reason = npuProblem(L, op, hd, vhd);
  if (!reason && L.plan.kvDtype !== "int4")
    L.notes.add(
      `layer ${layer}: the MLA cache is stored as int4 tiles, not the plan's ${L.plan.kvDtype} (the engines stream INT4 only and MLA has no host fallback)`,
    );
  const kScale = op.scale;
  const m = L.m;
  const P = m.enginePorts.gemv.length;
  const chunk = m.tileRows;
  const base = {
    layer,
    capacity,
    ...(window !== undefined ? { window } : {}),
    kvHeads,
    headDim: hd,
    vHeadDim: vhd,
    kScale,
    region: `kv.L${layer}`,
    chunk,
    chunks: Math.ceil(capacity / chunk),
    ports: P,
  };
  let cache: KvCache;
  if (reason) {
    const kb = capacity * kvHeads * hd * m.activationBytes;
    const vb = capacity * kvHeads * vhd * m.activationBytes;
    const kPart = Math.ceil(kb / m.beatBytes) * m.beatBytes;
    L.reg.reserve(base.region, "kv", kPart + vb);
    cache = {
      ...base,
      vBase: kPart,
      format: "bf16_rows",
      hostReason: reason,
      kRowBytes: hd * m.activationBytes,
      kGroup: 0,
      kHeadBytes: 0,
      kScaleOffset: 0,
      vParts: [],
      vPortOffsets: [],
      vBlockBytes: [],
      vHeadBytes: 0,
    };
  } else {
    const g = kvTileGeometry(m, hd, vhd);
    const blocks = Math.ceil(capacity / g.slotsPerBlock);
    const vParts = portRows(vhd, P);
    const vBlockBytes = vParts.map((r) =>
      r.count === 0
        ? 0
        : r.count * m.beatBytes + Math.ceil((r.count * m.scaleBytes) / m.beatBytes) * m.beatBytes,
    );
    const vPortOffsets: number[] = [];
    let acc = 0;
    for (const b of vBlockBytes) {
      vPortOffsets.push(acc);
      acc += b * blocks;
    }
    const kHeadBytes = capacity * (g.kRowBytes + g.kScaleRowBytes);
    L.reg.reserve(base.region, "kv", kHeadBytes * kvHeads + acc * kvHeads);
    cache = {
      ...base,
      vBase: kHeadBytes * kvHeads,
      format: "int4_tiles",
      kRowBytes: g.kRowBytes,
      kGroup: g.kGroup,
      kHeadBytes,
      kScaleOffset: capacity * g.kRowBytes,
      vParts,
      vPortOffsets,
      vBlockBytes,
      vHeadBytes: acc,
    };
  }
  all.set(layer, cache);
  return cache;
}

/** The cache a sharing attention reads (written by an earlier layer). */
export function sharedCache(L: Lower, op: AttentionOp, layer: number): KvCache {
  const c = cachesOf(L).get(layer);
  if (!c) throw unsupportedOp(op, `it reads the cache of layer ${layer}, which no earlier op writes`);
  const window = effectiveWindow(L, op);
  if (window !== c.window)
    throw unsupportedOp(
      op,
      `it reads layer ${layer}'s cache with ${window ? `a window of ${window}` : "full attention"}, but that cache is kept as ${c.window ? `a ring of ${c.window}` : "a full ring"}: the visible rows would not be a prefix of the ring`,
    );
  return c;
}

/** The K part and the V part of a ring as host operands. */
export function ringOperands(c: KvCache, total: number): [HostOperand, HostOperand] {
  const part = (offset: number, bytes: number): HostOperand =>
    c.format === "int4_tiles"
      ? { region: c.region, offset, elements: bytes * 2, dtype: "int4" }
      : { region: c.region, offset, elements: bytes / 2, dtype: "bf16" };
  return [part(0, c.vBase), part(c.vBase, total - c.vBase)];
}

/** The host step writing row `row` of k/v into the ring; it sets the cache's variables. */
export function kvWrite(L: Lower, c: KvCache, k: HostOperand, v: HostOperand, row: number): void {
  const ring = ringOperands(c, L.reg.regionBytes(c.region));
  kvLenVar(L, c.layer);
  kvBlocksVar(L, c.layer);
  kvSlotVar(L, c.layer);
  if (c.format === "int4_tiles")
    for (let ch = 0; ch < c.chunks; ch++) for (let j = 0; j < c.ports; j++) kvRowsVar(L, c.layer, ch, j);
  L.hostStep(
    "kv_write",
    [k, v],
    ring,
    {
      layer: c.layer,
      row,
      capacity: c.capacity,
      kvHeads: c.kvHeads,
      headDim: c.headDim,
      vHeadDim: c.vHeadDim,
      kScale: c.kScale,
      format: c.format,
      ...(c.format === "int4_tiles"
        ? {
            chunk: c.chunk,
            ports: c.ports,
            kHeadBytes: c.kHeadBytes,
            kScaleOffset: c.kScaleOffset,
            vBase: c.vBase,
            vParts: c.vParts.map((p) => p.count),
            vPortOffsets: [...c.vPortOffsets],
            vHeadBytes: c.vHeadBytes,
          }
        : {}),
    },
    `kv_write L${c.layer} row ${row}`,
  );
}

/** Prefill, a layer sharing cache `c`: sets c's visible-row variables for row `row`. */
export function kvView(L: Lower, c: KvCache, row: number): void {
  kvLenVar(L, c.layer);
  kvBlocksVar(L, c.layer);
  L.hostStep(
    "kv_view",
    [],
    [],
    {
      layer: c.layer,
      row,
      capacity: c.capacity,
      ...(c.format === "int4_tiles" ? { chunk: c.chunk, ports: c.ports } : {}),
    },
    `kv_view L${c.layer} row ${row}`,
  );
  if (c.format === "int4_tiles")
    for (let ch = 0; ch < c.chunks; ch++) for (let j = 0; j < c.ports; j++) kvRowsVar(L, c.layer, ch, j);
}
