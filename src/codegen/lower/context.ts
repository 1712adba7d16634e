/**
 * The lowering context of one segment: where each graph value lives (an L2 copy, a DDR copy for
 * the host, or both), virtual L2 and host buffers, and the helpers every op lowering uses to emit
 * steps (SFU calls, copies, host round trips with their paired DataMover commands). A value moves
 * between L2 and DDR only when a consumer needs it on the other side.
 */
import type { GraphIndex, ModelGraph, Op, ValueId } from "../../resolver/graph/index.js";
import { opWeightRefs } from "../../resolver/graph/index.js";
import type { Analysis } from "../analysis.js";
import type { ConstReq, DHost, DSegment, DStep, L2Addr, L2Buf, Val } from "../draft.js";
import { internalError } from "../errors.js";
import type { Machine } from "../machine.js";
import type { CodegenOptions } from "../options.js";
import type { HostOperand, Origin } from "../program.js";
import { type Registry, rx } from "../registry.js";
import { blockWidths, hostBytes, hostOperandOf, type LValue, placeValue } from "../values.js";
import { splitCvo } from "./cvo-split.js";
import type { PlanInfo } from "./plan-info.js";
import { declareHostReads } from "./vars.js";

export interface HostBuf {
  readonly id: number;
  readonly bytes: number;
  readonly region: string;
}

interface Home {
  l2?: LValue;
  host?: HostOperand;
}

let nextBufId = 0;

export class Lower {
  readonly values = new Map<ValueId, Home>();
  readonly hostBufs: HostBuf[] = [];
  /** Notes for the stats (choices that deviate from the plan or cost performance). */
  readonly notes = new Set<string>();
  /** Adds whose result was produced by accumulating into the residual (see analysis). */
  readonly fusedAdds = new Set<string>();
  /** Token rows of the values being lowered (1 for the head ops of a prefill chunk). */
  curRows: number;
  op: Op | undefined;
  private tensorsOfOp: string[] = [];

  constructor(
    readonly m: Machine,
    readonly reg: Registry,
    readonly graph: ModelGraph,
    readonly gi: GraphIndex,
    readonly an: Analysis,
    readonly plan: PlanInfo,
    readonly opts: Required<Pick<CodegenOptions, "model">> & CodegenOptions,
    readonly seg: DSegment,
  ) {
    this.curRows = seg.rows;
  }

  get rows(): number {
    return this.curRows;
  }

  /** Position of the current op in the graph. */
  get opIndex(): number {
    return this.op ? (this.an.index.get(this.op.id) ?? -1) : -1;
  }

  /** An L2 copy of `id` this op may overwrite: the value itself when nothing reads it later. */
  ownable(id: ValueId): LValue | undefined {
    const h = this.values.get(id);
    const v = h?.l2;
    if (!v || v.view || v.buf.scope !== "segment" || this.an.liveAfter(id, this.opIndex)) return undefined;
    return v;
  }

  /** Starts lowering `op`: origins of the steps that follow name it. */
  begin(op: Op): void {
    this.op = op;
    this.tensorsOfOp = [...new Set(opWeightRefs(op).map((r) => this.tensorName(r.weight)))];
  }

  origin(label: string, tensors?: readonly string[]): Origin {
    const op = this.op;
    const t = tensors ?? this.tensorsOfOp;
    return {
      ...(op ? { op: op.id } : {}),
      ...(op?.layer !== undefined ? { layer: op.layer } : {}),
      label,
      ...(t.length ? { tensors: t } : {}),
    };
  }

  push(step: DStep): void {
    this.seg.steps.push(step);
  }

  buf(name: string, words: number, scope: L2Buf["scope"] = "segment"): L2Buf {
    const b: L2Buf = { id: nextBufId++, name, words, scope };
    if (scope === "segment") this.seg.bufs.push(b);
    return b;
  }

  /** A fresh L2 value in the canonical layout (blocks aligned to `unit` columns). */
  newValue(name: string, n: number, rows = this.rows, unit = 1): LValue {
    const widths = blockWidths(this.m, n, rows, unit);
    const words = widths.reduce((s, w) => s + 1 + rows * Math.ceil(w / this.m.elemsPerWord), 0);
    return placeValue(this.m, this.buf(name, words), name, n, rows, unit);
  }

  /** A fresh one-row value with explicit column blocks (each with its header word). */
  newValueWidths(name: string, widths: readonly number[], rows = 1): LValue {
    const epw = this.m.elemsPerWord;
    const words = widths.reduce((s, w) => s + 1 + rows * Math.ceil(w / epw), 0);
    const buf = this.buf(name, words);
    let w = 0;
    let start = 0;
    const blocks = widths.map((width) => {
      const rowWords = Math.ceil(width / epw);
      const b = { start, width, rowWords, header: { buf, word: w }, data: { buf, word: w + 1 } };
      w += 1 + rows * rowWords;
      start += width;
      return b;
    });
    return { name, n: start, rows, blocks, buf };
  }

  /** Row t of a value as a one-row view (no headers). */
  rowView(v: LValue, t: number): LValue {
    if (v.rows === 1) return v;
    return {
      name: `${v.name}[${t}]`,
      n: v.n,
      rows: 1,
      buf: v.buf,
      view: true,
      blocks: v.blocks.map((b) => ({
        start: b.start,
        width: b.width,
        rowWords: b.rowWords,
        data: { buf: b.data.buf, word: b.data.word + t * b.rowWords },
      })),
    };
  }

  width(id: ValueId): number {
    const v = this.gi.values.get(id);
    if (!v) throw internalError(`unknown value ${id}`);
    const d = v.shape[1];
    return typeof d === "number" ? d : 1;
  }

  has(id: ValueId): boolean {
    return this.values.has(id);
  }

  inL2(id: ValueId): boolean {
    return this.values.get(id)?.l2 !== undefined;
  }

  onHostOnly(id: ValueId): boolean {
    const h = this.values.get(id);
    return h?.host !== undefined && h.l2 === undefined;
  }

  setL2(id: ValueId, v: LValue): void {
    this.values.set(id, { l2: v });
  }

  setHost(id: ValueId, h: HostOperand): void {
    this.values.set(id, { host: h });
  }

  /** The L2 copy of a value, writing its DDR copy back to L2 first if needed. */
  l2(id: ValueId): LValue {
    const h = this.values.get(id);
    if (!h) throw internalError(`value ${id} has not been computed`);
    if (h.l2) return h.l2;
    if (!h.host) throw internalError(`value ${id} has no home`);
    const v = this.newValue(id, this.width(id), h.host.rows ?? this.rows, this.an.unit(id));
    this.writeback(h.host, v, id);
    h.l2 = v;
    return v;
  }

  /** The DDR (host) copy of a value, reading it back from L2 first if needed. */
  host(id: ValueId): HostOperand {
    const h = this.values.get(id);
    if (!h) throw internalError(`value ${id} has not been computed`);
    if (h.host) return h.host;
    if (!h.l2) throw internalError(`value ${id} has no home`);
    h.host = this.readback(h.l2, id);
    return h.host;
  }

  /** A virtual host (DDR) buffer; allocate-l2 places it in the `host` region. */
  hostBuf(bytes: number): HostBuf {
    const b = {
      id: this.hostBufs.length,
      bytes: Math.max(bytes, this.m.wordBytes),
      region: `@h${this.seg.name}.${this.hostBufs.length}`,
    };
    this.hostBufs.push(b);
    return b;
  }

  /** A host operand for a value that a host step will produce, in the canonical layout. */
  hostOut(id: ValueId, n = this.width(id), rows = this.rows): HostOperand {
    const shadow = placeValue(
      this.m,
      { id: -1, name: id, words: 0, scope: "segment" },
      id,
      n,
      rows,
      this.an.unit(id),
    );
    const b = this.hostBuf(hostBytes(this.m, shadow));
    return hostOperandOf(this.m, shadow, b.region, 0);
  }

  /** Copies an L2 value to a fresh DDR buffer (per block: ACP DataMover command + MEMCPY L2→host). */
  readback(v: LValue, label: string): HostOperand {
    const b = this.hostBuf(hostBytes(this.m, v));
    let off = 0;
    for (const blk of v.blocks) {
      const words = v.rows * blk.rowWords;
      const elements = v.rows === 1 && v.blocks.length === 1 ? v.n : words * this.m.elemsPerWord;
      this.transfer("l2_to_host", blk.data, b.region, off, elements, `readback ${label}`);
      off += words * this.m.wordBytes;
    }
    return hostOperandOf(this.m, v, b.region, 0);
  }

  /** Copies a DDR image (canonical layout) into an L2 value, block by block. */
  writeback(h: HostOperand, v: LValue, label: string): void {
    let off = h.offset;
    for (const blk of v.blocks) {
      const words = v.rows * blk.rowWords;
      const elements = v.rows === 1 && v.blocks.length === 1 ? v.n : words * this.m.elemsPerWord;
      this.transfer("host_to_l2", blk.data, h.region, off, elements, `writeback ${label}`);
      off += words * this.m.wordBytes;
    }
  }

  /** One host↔L2 transfer: the DataMover command then its MEMCPY, split at the count limits. */
  transfer(
    dir: "l2_to_host" | "host_to_l2",
    at: L2Addr,
    region: string,
    offset: Val,
    elements: number,
    label: string,
    bytesOverride?: Val,
  ): void {
    const epw = this.m.elemsPerWord;
    const maxWords = Math.floor(this.m.constValueMax / 1);
    let done = 0;
    const totalWords = Math.ceil(elements / epw);
    while (done < totalWords) {
      const words = Math.min(maxWords, totalWords - done);
      const count = done === 0 && words === totalWords ? elements : words * epw;
      const off = typeof offset === "number" ? offset + done * this.m.wordBytes : offset;
      const bytes = bytesOverride ?? words * this.m.wordBytes;
      const port = dir === "l2_to_host" ? "acp_result" : "acp_fmap";
      const o = this.origin(label);
      this.push({ kind: "dma", port, region, offset: off, bytes, origin: o });
      const addr = { buf: at.buf, word: at.word + done };
      this.push({
        kind: "memcpy",
        dir,
        ...(dir === "l2_to_host" ? { src: addr } : { dest: addr }),
        count,
        origin: o,
      });
      done += words;
    }
  }

  /** An L2→L2 copy of `words` words. */
  copy(src: L2Addr, dest: L2Addr, words: number, label: string): void {
    const max = this.m.constValueMax;
    for (let d = 0; d < words; d += max) {
      const w = Math.min(max, words - d);
      this.push({
        kind: "memcpy",
        dir: "l2_to_l2",
        src: { buf: src.buf, word: src.word + d },
        dest: { buf: dest.buf, word: dest.word + d },
        count: w * this.m.elemsPerWord,
        origin: this.origin(label),
      });
    }
  }

  /** The L2 constant-table word holding `value` (element 0). */
  constAddr(value: number): L2Addr {
    const word = this.reg.constWord(value);
    return { buf: this.constBuf(), word };
  }

  constBuf(): L2Buf {
    if (!this.reg.constBuf) this.reg.constBuf = this.buf("consts", 0, "program");
    return this.reg.constBuf;
  }

  /** Writes scalar `value` into the word at `at` (a header), from the constant table. */
  setScalar(at: L2Addr, value: number, label: string): void {
    this.copy(this.constAddr(value), at, 1, label);
  }

  /**
   * One SFU call; longer than one instruction takes, it becomes several (see cvo-split.ts). A split
   * SCALE gets its scalar into the word before each piece's vector: that word is saved to a scratch
   * word, overwritten with the scalar (from `src`), and restored after the piece.
   */
  cvo(
    func: string,
    src: L2Addr,
    dst: L2Addr,
    length: Val,
    label: string,
    flags: { subEmax?: boolean; recipScale?: boolean; accm?: boolean; intent?: string } = {},
  ): void {
    const fn = this.m.cvo.get(func);
    if (!fn) throw internalError(`target has no CVO ${func}`);
    const pieces = splitCvo(this.m, func, fn.operands, length, flags.accm === true);
    const split = pieces.length > 1;
    const saved = split && fn.operands === "scalar_first" ? this.buf(`${label} scalar save`, 1) : undefined;
    pieces.forEach((p, k) => {
      const at = (a: L2Addr): L2Addr => ({ buf: a.buf, word: a.word + p.word });
      const lbl = split ? `${label} [${k + 1}/${pieces.length}]` : label;
      const scalarWord = saved && k > 0 ? at(src) : undefined;
      if (saved && scalarWord) {
        this.copy(scalarWord, { buf: saved, word: 0 }, 1, `${lbl} save`);
        this.copy(src, scalarWord, 1, `${lbl} scalar`);
      }
      this.push({
        kind: "cvo",
        func,
        src: at(src),
        dst: fn.operands === "reduce" ? dst : at(dst),
        length: p.length,
        ...(flags.subEmax ? { subEmax: true } : {}),
        ...(flags.recipScale ? { recipScale: true } : {}),
        ...(p.accm ? { accm: true } : {}),
        ...(flags.intent ? { intent: flags.intent } : {}),
        origin: this.origin(lbl),
      });
      if (saved && scalarWord) this.copy({ buf: saved, word: 0 }, scalarWord, 1, `${lbl} restore`);
    });
  }

  hostStep(
    fn: string,
    inputs: HostOperand[],
    outputs: HostOperand[],
    attrs: DHost["attrs"],
    label?: string,
  ): void {
    declareHostReads(this, fn, attrs);
    this.push({ kind: "host", fn, inputs, outputs, attrs, origin: this.origin(label ?? fn) });
  }

  fmap(a: Val, b: Val, c: Val): ConstReq {
    return { bank: "fmap_shape", a, b, c };
  }

  wshape(order: 0 | 1, group: number): ConstReq {
    return { bank: "weight_shape", a: order, b: group, c: 0 };
  }

  /** Registers a variable and returns its name. */
  variable(name: string, doc: string, setBy: "driver" | "host"): string {
    return this.reg.variable(name, doc, setBy);
  }

  rx = rx;

  /** The HF name of a weight id. */
  tensorName(id: string): string {
    const w = this.gi.weights.get(id);
    if (!w) throw internalError(`unknown weight ${id}`);
    return w.tiedTo !== undefined ? (this.gi.weights.get(w.tiedTo)?.name ?? w.name) : w.name;
  }
}
