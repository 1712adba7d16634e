/**
 * The state of one segment replay in verifyProgram's abstract machine (docs/program.md §4–6) and the
 * checks every step kind shares: relocated field values, L2 address ranges, L2 words read before
 * anything wrote them, RAW/WAR against unfinished async instructions, writes into pinned words,
 * constant entries read before a MEMSET, DataMover channels completing in order.
 */
import type { Diagnostic } from "../../diag/index.js";
import type { Machine } from "../machine.js";
import { evalReloc, type HostOperand, type Program, type RelocExpr, type Step } from "../program.js";
import { IntervalSet } from "./interval-set.js";
import { diag, label } from "./static.js";

export type Range = readonly [number, number];

/** One DataMover command as the replay tracks it. */
export interface Dma {
  readonly step: number;
  readonly port: string;
  readonly tag: number;
  readonly region: string;
  readonly lo: number;
  readonly hi: number;
  /** End of this command's bytes in its port's stream (weight ports). */
  readonly streamEnd: number;
  /** A command whose size relocated to 0: not issued; it completes in order with its channel. */
  readonly noop: boolean;
  pairedMemcpy?: number;
}

export interface ConstEntry {
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

type RelocList = { field: string; expr: RelocExpr }[];

/** What the replays of one program share: the load segment's results and per-segment caches. */
export interface SimContext {
  readonly relocCache: Map<string, (RelocList | undefined)[]>;
  readonly m: Machine;
  readonly p: Program;
  readonly regions: ReadonlyMap<string, { bytes: number }>;
  /** Const cache and L2 words left by the load segment. */
  constAfterLoad: Map<string, ConstEntry>;
  l2AfterLoad: Uint8Array;
  /** Words owned by program buffers (written by load, read-only afterwards). */
  pinnedWords: Uint8Array;
}

/** Relocations of a segment indexed by step (built once per segment, shared by the samples). */
function relocsOf(ctx: SimContext, segment: string): (RelocList | undefined)[] {
  const cached = ctx.relocCache.get(segment);
  if (cached) return cached;
  const out: (RelocList | undefined)[] = [];
  for (const r of ctx.p.relocations) {
    if (r.segment !== segment) continue;
    const l = out[r.step] ?? [];
    l.push({ field: r.field, expr: r.expr });
    out[r.step] = l;
  }
  ctx.relocCache.set(segment, out);
  return out;
}

const DT: Readonly<Record<HostOperand["dtype"], number>> = { f32: 4, bf16: 2, i32: 4, int4: 0.5 };

/** Bytes of a host operand in DDR (row blocks padded to whole L2 words). */
export function operandBytes(m: Machine, o: HostOperand): number {
  const b = DT[o.dtype];
  if (o.blocks && o.rows !== undefined) {
    const rows = o.rows;
    return o.blocks.reduce((s, w) => s + rows * Math.ceil(w / m.elemsPerWord) * m.elemsPerWord * b, 0);
  }
  return Math.ceil(o.elements * b);
}

/** The first relocation of `field` in a step's list. */
function findField(list: RelocList | undefined, field: string): RelocList[number] | undefined {
  if (list) for (const x of list) if (x.field === field) return x;
  return undefined;
}

/** Whether range `r` overlaps one of `ranges`. */
function overlapsAny(ranges: readonly Range[], r: Range): boolean {
  for (const w of ranges) if (w[0] < r[1] && r[0] < w[1]) return true;
  return false;
}

/**
 * Index (from `lo`) of the first `v` in words lo..hi of `a`, or -1: `a.subarray(lo, hi).indexOf(v)`
 * without the view the replay would allocate at every L2 access.
 */
function indexIn(a: Uint8Array, lo0: number, hi0: number, v: number): number {
  const lo = bound(a.length, lo0);
  const hi = bound(a.length, hi0);
  for (let k = lo; k < hi; k++) if (a[k] === v) return k - lo;
  return -1;
}

/** An index argument of `subarray` as it reads it (NaN → 0, truncated, negative from the end, clamped). */
function bound(len: number, x: number): number {
  const t = Number.isNaN(x) ? 0 : Math.trunc(x);
  return t < 0 ? Math.max(0, len + t) : Math.min(len, t);
}

export const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** One replay of segment `si` for one assignment of the variables. */
export class SegmentReplay {
  readonly m: Machine;
  readonly isLoad: boolean;
  readonly vars: Map<string, number>;
  readonly relocs: (RelocList | undefined)[];
  readonly consts: Map<string, ConstEntry>;
  readonly space: number;
  /** 1 for every L2 word something wrote (the load segment's words included). */
  readonly init: Uint8Array;
  readonly asyncPending: { step: number; reads: Range[]; writes: Range[] }[] = [];
  /** Outstanding commands per channel, in issue order. */
  readonly channels = new Map<string, Dma[]>();
  /** Issued, not yet consumed weight-stream commands per port. */
  readonly streamQueue = new Map<string, { step: number; bytes: number; dma: Dma }[]>();
  readonly issued = new Map<string, number>();
  readonly consumed = new Map<string, number>();
  /** DDR bytes of `host` buffers written in this segment (readbacks and host outputs). */
  readonly hostInit = new IntervalSet();
  emaxDefined = false;
  /** The previous NPU instruction was a sub_emax CVO: the next one may continue the same softmax. */
  emaxPiece = false;
  private readonly seen = new Set<string>();
  private readonly regionKeys = new Map<string, number>();

  constructor(
    readonly ctx: SimContext,
    readonly si: number,
    driverVars: ReadonlyMap<string, number>,
    readonly hostChoice: (name: string, min: number, max: number) => number,
    private readonly out: Diagnostic[],
    private readonly sampleNote: string,
  ) {
    this.m = ctx.m;
    const seg = ctx.p.segments[si]!;
    this.isLoad = seg.kind === "load";
    this.vars = new Map(driverVars);
    this.relocs = relocsOf(ctx, seg.name);
    this.consts = new Map(ctx.constAfterLoad);
    this.space = this.m.target.derived.l2.address_space_words;
    this.init = this.isLoad ? new Uint8Array(this.space) : Uint8Array.from(ctx.l2AfterLoad);
  }

  /** Reports a problem once per code and step. */
  err(code: string, msg: string, i: number): void {
    const key = `${code}@${i}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.out.push(diag(code, `${msg}${this.sampleNote}`, this.si, i));
  }

  /** A field of step i after its relocation (if any) with the current variables. */
  value(s: Step, i: number, field: string, raw: number): number {
    const r = findField(this.relocs[i], field);
    if (!r) return raw;
    try {
      return evalReloc(r.expr, this.vars);
    } catch (e) {
      this.err("verify/reloc", `${label(s)}: ${(e as Error).message}`, i);
      return raw;
    }
  }

  /** The relocation of a field of step i, if any. */
  relocOf(i: number, field: string): RelocExpr | undefined {
    return findField(this.relocs[i], field)?.expr;
  }

  checkRange(s: Step, i: number, cls: "gemv" | "gemm" | "memcpy" | "cvo", r: Range): void {
    const m = this.m;
    if (r[0] < m.l2Start || r[1] > m.usableEnd[cls])
      this.err(
        "verify/l2-range",
        `${label(s)} touches L2 words ${r[0]}..${r[1] - 1}, outside the ${cls} range ${m.l2Start}..${m.usableEnd[cls] - 1}`,
        i,
      );
  }

  read(s: Step, i: number, r: Range, what: string): void {
    for (const a of this.asyncPending)
      if (overlapsAny(a.writes, r))
        this.err(
          "verify/raw-hazard",
          `${label(s)} reads ${what} that async step ${a.step} is still writing (no wait between)`,
          i,
        );
    const k = indexIn(this.init, Math.max(0, r[0]), Math.min(r[1], this.space), 0);
    if (k >= 0)
      this.err(
        "verify/uninit-l2",
        `${label(s)} reads ${what} word ${r[0] + k}, which nothing wrote before`,
        i,
      );
  }

  write(s: Step, i: number, r: Range): void {
    for (const a of this.asyncPending)
      if (overlapsAny(a.reads, r) || overlapsAny(a.writes, r))
        this.err(
          "verify/raw-hazard",
          `${label(s)} overwrites L2 that async step ${a.step} still uses (no wait between)`,
          i,
        );
    if (!this.isLoad) {
      const k = indexIn(this.ctx.pinnedWords, Math.max(0, r[0]), Math.min(r[1], this.space), 1);
      if (k >= 0)
        this.err(
          "verify/pinned",
          `${label(s)} overwrites word ${r[0] + k} of a buffer the load segment pinned`,
          i,
        );
    }
    this.init.fill(1, Math.max(0, r[0]), Math.min(this.space, r[1]));
  }

  constRead(s: Step, i: number, bank: number, entry: number): ConstEntry | undefined {
    const c = this.consts.get(`${bank}:${entry}`);
    if (!c)
      this.err(
        "verify/uninit-const",
        `${label(s)} reads constant entry ${entry} of bank ${bank}, never written`,
        i,
      );
    return c;
  }

  /** Completes the commands of `port` up to index idx (in order); readbacks mark their DDR written. */
  completeThrough(port: string, idx: number): void {
    const done = (this.channels.get(port) ?? []).splice(0, idx + 1);
    for (const d of done)
      if (d.port === "acp_result")
        this.hostInit.add(this.ddrKey(d.region, d.lo), this.ddrKey(d.region, d.hi));
  }

  /** A DDR byte as one number: region index × 2^36 + offset. */
  ddrKey(region: string, off: number): number {
    let k = this.regionKeys.get(region);
    if (k === undefined) {
      k = this.regionKeys.size;
      this.regionKeys.set(region, k);
    }
    return k * 2 ** 36 + off;
  }
}
