/**
 * The concrete half of verifyProgram: replays one segment for one assignment of the variables, as
 * an abstract machine that knows only what the contract says (docs/program.md §4–6): in-order NPU
 * with async instructions pending until an idle wait, DataMover channels completing in order, a
 * weight stream per port consumed by GEMV/GEMM tiles, the constant cache, L2 words initialised or
 * not, DDR ranges being read or written by unfinished transfers. Each violation is a diagnostic.
 */
import type { Diagnostic } from "../../diag/index.js";
import { variableEffects } from "../host-ops/index.js";
import type { Machine } from "../machine.js";
import { evalReloc, type HostOperand, type Program, type Step } from "../program.js";
import { portRows, tileBytes } from "../tiles.js";
import { diag, label } from "./static.js";

type Range = readonly [number, number];

interface Dma {
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

interface ConstEntry {
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

type RelocList = { field: string; expr: import("../program.js").RelocExpr }[];

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

const DT: Readonly<Record<HostOperand["dtype"], number>> = { f32: 4, bf16: 2, i32: 4, int4: 0.5 };

function operandBytes(m: Machine, o: HostOperand): number {
  const b = DT[o.dtype];
  if (o.blocks && o.rows !== undefined) {
    const rows = o.rows;
    return o.blocks.reduce((s, w) => s + rows * Math.ceil(w / m.elemsPerWord) * m.elemsPerWord * b, 0);
  }
  return Math.ceil(o.elements * b);
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** Replays segment `si` with driver variables `vars`; pushes problems into `out`. */
export function simulateSegment(
  ctx: SimContext,
  si: number,
  driverVars: ReadonlyMap<string, number>,
  hostChoice: (name: string, min: number, max: number) => number,
  out: Diagnostic[],
  sampleNote: string,
): void {
  const { m, p } = ctx;
  const seg = p.segments[si]!;
  const isLoad = seg.kind === "load";
  const vars = new Map(driverVars);
  const relocs = relocsOf(ctx, seg.name);
  const consts = new Map(ctx.constAfterLoad);
  const space = m.target.derived.l2.address_space_words;
  const init = isLoad ? new Uint8Array(space) : Uint8Array.from(ctx.l2AfterLoad);
  const asyncPending: { step: number; reads: Range[]; writes: Range[] }[] = [];
  const channels = new Map<string, Dma[]>();
  const streamQueue = new Map<string, { step: number; bytes: number; dma: Dma }[]>();
  const issued = new Map<string, number>();
  const consumed = new Map<string, number>();
  const dmaConsumers = new Map<Dma, number>();
  const hostInit = new IntervalSet();
  let emaxDefined = false;
  /** The previous NPU instruction was a sub_emax CVO: the next one may continue the same softmax. */
  let emaxPiece = false;
  const seen = new Set<string>();
  const err = (code: string, msg: string, i: number) => {
    const key = `${code}@${i}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(diag(code, `${msg}${sampleNote}`, si, i));
  };

  const value = (s: Step, i: number, field: string, raw: number): number => {
    const list = relocs[i];
    if (!list) return raw;
    const r = list.find((x) => x.field === field);
    if (!r) return raw;
    try {
      return evalReloc(r.expr, vars);
    } catch (e) {
      err("verify/reloc", `${label(s)}: ${(e as Error).message}`, i);
      return raw;
    }
  };
  const checkRange = (s: Step, i: number, cls: "gemv" | "gemm" | "memcpy" | "cvo", r: Range) => {
    if (r[0] < m.l2Start || r[1] > m.usableEnd[cls])
      err(
        "verify/l2-range",
        `${label(s)} touches L2 words ${r[0]}..${r[1] - 1}, outside the ${cls} range ${m.l2Start}..${m.usableEnd[cls] - 1}`,
        i,
      );
  };
  const read = (s: Step, i: number, r: Range, what: string) => {
    if (asyncPending.length)
      for (const a of asyncPending)
        if (a.writes.some((w) => w[0] < r[1] && r[0] < w[1]))
          err(
            "verify/raw-hazard",
            `${label(s)} reads ${what} that async step ${a.step} is still writing (no wait between)`,
            i,
          );
    const k = init.subarray(Math.max(0, r[0]), Math.min(r[1], space)).indexOf(0);
    if (k >= 0)
      err("verify/uninit-l2", `${label(s)} reads ${what} word ${r[0] + k}, which nothing wrote before`, i);
  };
  const write = (s: Step, i: number, r: Range) => {
    if (asyncPending.length)
      for (const a of asyncPending)
        if ([...a.reads, ...a.writes].some((w) => w[0] < r[1] && r[0] < w[1]))
          err(
            "verify/raw-hazard",
            `${label(s)} overwrites L2 that async step ${a.step} still uses (no wait between)`,
            i,
          );
    if (!isLoad) {
      const k = ctx.pinnedWords.subarray(Math.max(0, r[0]), Math.min(r[1], space)).indexOf(1);
      if (k >= 0)
        err(
          "verify/pinned",
          `${label(s)} overwrites word ${r[0] + k} of a buffer the load segment pinned`,
          i,
        );
    }
    init.fill(1, Math.max(0, r[0]), Math.min(space, r[1]));
  };
  const constRead = (s: Step, i: number, bank: number, entry: number): ConstEntry | undefined => {
    const c = consts.get(`${bank}:${entry}`);
    if (!c)
      err(
        "verify/uninit-const",
        `${label(s)} reads constant entry ${entry} of bank ${bank}, never written`,
        i,
      );
    return c;
  };
  const completeThrough = (port: string, idx: number) => {
    const list = channels.get(port) ?? [];
    const done = list.splice(0, idx + 1);
    for (const d of done) {
      if (d.port === "acp_result") hostInit.add(ddrKey(d.region, d.lo), ddrKey(d.region, d.hi));
    }
  };
  const regionKeys = new Map<string, number>();
  const ddrKey = (region: string, off: number) => {
    if (!regionKeys.has(region)) regionKeys.set(region, regionKeys.size);
    return regionKeys.get(region)! * 2 ** 36 + off;
  };

  seg.steps.forEach((s, i) => {
    if (s.kind === "npu") {
      const f = s.instr.fields as Record<string, number | string | Record<string, number>>;
      const n = (name: string) => value(s, i, name, f[name] as number);
      const op = s.instr.opcode;
      const prevEmaxPiece = emaxPiece;
      emaxPiece = false;
      if (op === "MEMSET") {
        consts.set(`${n("dest_cache")}:${n("dest_addr")}`, {
          a: n("a_value"),
          b: n("b_value"),
          c: n("c_value"),
        });
        for (const v of ["a_value", "b_value", "c_value"])
          if (n(v) < 0 || n(v) > m.constValueMax)
            err("verify/field", `${label(s)} ${v} = ${n(v)} outside 0..${m.constValueMax}`, i);
        return;
      }
      if (op === "GEMV" || op === "GEMM") gemv(s, i, op, f, n);
      else if (op === "CVO") cvo(s, i, f, n, prevEmaxPiece);
      else if (op === "MEMCPY") memcpy(s, i, f, n);
      return;
    }
    if (s.kind === "dma") {
      dma(s, i);
      return;
    }
    if (s.kind === "host") {
      host(s, i);
      return;
    }
    if (s.kind === "wait") {
      if (s.on.kind === "npu-idle") asyncPending.length = 0;
      else if (s.on.kind === "dma") {
        const on = s.on;
        const list = channels.get(on.port) ?? [];
        let idx = -1;
        list.forEach((d, k) => {
          if (d.tag === on.tag) idx = k;
        });
        if (idx < 0) {
          err(
            "verify/tag",
            `${label(s)} waits for tag ${on.tag} on ${on.port}, but no such command is outstanding`,
            i,
          );
          return;
        }
        const d = list[idx]!;
        const fifo = m.portFifoBytes[on.port] ?? 0;
        if (on.port.startsWith("hp") && (consumed.get(on.port) ?? 0) < d.streamEnd - fifo)
          err(
            "verify/deadlock",
            `${label(s)} waits for ${on.port} command (step ${d.step}) whose bytes no issued instruction has consumed yet`,
            i,
          );
        completeThrough(on.port, idx);
      }
    }
  });
  for (const [port, list] of channels)
    if (list.length)
      err(
        "verify/unfinished",
        `segment ends with ${list.length} ${port} command(s) not waited for`,
        seg.steps.length - 1,
      );
  if (asyncPending.length)
    err("verify/unfinished", "segment ends with async instructions not waited for", seg.steps.length - 1);
  for (const [port, q] of streamQueue)
    if (q.length)
      err(
        "verify/stream",
        `segment ends with ${q.reduce((a, b) => a + b.bytes, 0)} bytes on ${port} that no instruction consumed`,
        seg.steps.length - 1,
      );

  if (isLoad) {
    ctx.constAfterLoad = consts;
    ctx.l2AfterLoad = init;
  }

  function gemv(s: Step, i: number, op: string, f: Record<string, unknown>, n: (k: string) => number): void {
    const shape = constRead(s, i, m.bankCode.fmap_shape, n("shape_ptr_addr"));
    const ws = constRead(s, i, m.bankCode.weight_shape, n("size_ptr_addr"));
    if (!shape || !ws) return;
    const { a: M, b: N, c: K } = shape;
    const flags = f.flags as Record<string, number>;
    if (op === "GEMV" && M !== 1) err("verify/shape", `GEMV ${label(s)} has M = ${M} (must be 1)`, i);
    if (K > m.maxK) err("verify/shape", `${label(s)} K = ${K} exceeds the engine limit ${m.maxK}`, i);
    if (op === "GEMV" && N > m.gemvMaxRows)
      err("verify/shape", `GEMV ${label(s)} N = ${N} exceeds ${m.gemvMaxRows} rows per call`, i);
    if (N === 0 || K === 0 || M === 0) return;
    const epw = m.elemsPerWord;
    const cls = op === "GEMV" ? "gemv" : "gemm";
    const src: Range = [n("src_addr"), n("src_addr") + M * ceilDiv(K, epw)];
    const dst: Range = [n("dest_reg"), n("dest_reg") + M * ceilDiv(N, epw)];
    checkRange(s, i, cls, src);
    checkRange(s, i, cls, dst);
    read(s, i, src, "activations");
    if (flags.accm) read(s, i, dst, "the accumulator");
    write(s, i, dst);
    if (flags.findemax) emaxDefined = true;
    const order = ws.a === 1 ? 1 : 0;
    if (ws.a > 1) err("verify/tile", `${label(s)} weight tile order ${ws.a} is not defined`, i);
    if (order === 1 && ws.b !== m.int4PerBeat)
      err("verify/tile", `${label(s)} K-block-major tile needs group ${m.int4PerBeat}, got ${ws.b}`, i);
    const ports = m.enginePorts[cls];
    const split = portRows(N, ports.length);
    ports.forEach((port, j) => {
      {
        const need = tileBytes(m, { order, group: order === 1 ? ws.b : ws.b, n: split[j]!.count, k: K });
        if (need === 0) return;
        const q = streamQueue.get(port) ?? [];
        let got = 0;
        const used: typeof q = [];
        while (got < need && q.length) {
          const d = q.shift()!;
          used.push(d);
          got += d.bytes;
        }
        streamQueue.set(port, q);
        consumed.set(port, (consumed.get(port) ?? 0) + got);
        for (const u of used) dmaConsumers.set(u.dma, i);
        if (got !== need)
          err(
            "verify/stream",
            `${label(s)} consumes a ${need}-byte tile on ${port}, but the commands issued before it carry ${got} bytes there${got < need ? " (underrun)" : " (a command spans two tiles)"}`,
            i,
          );
      }
    });
  }

  function cvo(
    s: Step,
    i: number,
    f: Record<string, unknown>,
    n: (k: string) => number,
    continuesSoftmax: boolean,
  ): void {
    const fn = m.cvo.get(String(f.cvo_func));
    if (!fn) return;
    const len = n("length");
    const flags = f.flags as Record<string, number>;
    if (len > m.cvoMaxLength) err("verify/shape", `${label(s)} length ${len} exceeds ${m.cvoMaxLength}`, i);
    // Consecutive sub_emax CVOs are the pieces of one split EXP: they share the e_max (program.md §4.1).
    if (flags.sub_emax) {
      emaxPiece = true;
      if (!emaxDefined && !continuesSoftmax)
        err("verify/emax", `${label(s)} subtracts e_max, but no findemax GEMV ran since the last softmax`, i);
      emaxDefined = false;
    }
    if (len <= 0) return;
    const w = ceilDiv(len, m.elemsPerWord);
    const src = n("src_addr");
    const dst = n("dst_addr");
    const reads: Range[] =
      fn.operands === "scalar_first"
        ? [[src, src + 1 + w]]
        : fn.operands === "rope_pairs"
          ? [[src, src + w + 2 * ceilDiv(ceilDiv(len, 2), m.elemsPerWord)]]
          : [[src, src + w]];
    const dw: Range = [dst, dst + (fn.operands === "reduce" ? 1 : w)];
    if (fn.operands === "binary_dst" || flags.accm) reads.push(dw);
    for (const r of reads) {
      checkRange(s, i, "cvo", r);
      read(s, i, r, "its input");
    }
    checkRange(s, i, "cvo", dw);
    write(s, i, dw);
    if (n("async") === 1) asyncPending.push({ step: i, reads, writes: [dw] });
  }

  function memcpy(s: Step, i: number, f: Record<string, unknown>, n: (k: string) => number): void {
    const shape = constRead(s, i, m.bankCode.fmap_shape, n("shape_ptr_addr"));
    if (!shape) return;
    const count = shape.a * shape.b * shape.c;
    const words = ceilDiv(count, m.elemsPerWord);
    const from = f.from_device === 1;
    const to = f.to_device === 1;
    const reads: Range[] = [];
    const writes: Range[] = [];
    if (!from) {
      const r: Range = [n("src_addr"), n("src_addr") + words];
      checkRange(s, i, "memcpy", r);
      read(s, i, r, "its source");
      reads.push(r);
    }
    if (!to) {
      const r: Range = [n("dest_addr"), n("dest_addr") + words];
      checkRange(s, i, "memcpy", r);
      write(s, i, r);
      writes.push(r);
    }
    if (from || to) {
      const port = from ? "acp_fmap" : "acp_result";
      const list = channels.get(port) ?? [];
      const d = [...list].reverse().find((x) => x.pairedMemcpy === undefined);
      if (!d) err("verify/pairing", `${label(s)} has no unpaired ${port} DataMover command before it`, i);
      else {
        d.pairedMemcpy = i;
        if (d.hi - d.lo !== words * m.wordBytes)
          err(
            "verify/pairing",
            `${label(s)} moves ${words} words but its ${port} command (step ${d.step}) carries ${d.hi - d.lo} bytes`,
            i,
          );
      }
    }
    if (n("async") === 1) asyncPending.push({ step: i, reads, writes });
  }

  /** The host step with its relocated operand fields evaluated. */
  function relocatedHost(s: Extract<Step, { kind: "host" }>, i: number): Extract<Step, { kind: "host" }> {
    const list = relocs[i];
    if (!list) return s;
    const fix = (ops: readonly HostOperand[], side: string) =>
      ops.map((o, k) => {
        const off = list.find((r) => r.field === `${side}[${k}].offset`);
        const el = list.find((r) => r.field === `${side}[${k}].elements`);
        return {
          ...o,
          ...(off ? { offset: evalReloc(off.expr, vars) } : {}),
          ...(el ? { elements: evalReloc(el.expr, vars) } : {}),
        };
      });
    return { ...s, inputs: fix(s.inputs, "inputs"), outputs: fix(s.outputs, "outputs") };
  }

  function dma(s: Extract<Step, { kind: "dma" }>, i: number): void {
    const off = value(s, i, "offset", s.offset);
    const bytes = value(s, i, "bytes", s.bytes);
    const noop = bytes === 0;
    const reg = ctx.regions.get(s.region);
    if (bytes < 0 || off < 0 || (reg && off + bytes > reg.bytes))
      err(
        "verify/region",
        `${label(s)} moves ${s.region}[${off}..${off + bytes}), outside the region (${reg?.bytes ?? 0} bytes)`,
        i,
      );
    if (bytes > m.maxDmaBytes)
      err(
        "verify/dma-size",
        `${label(s)} moves ${bytes} bytes, more than one command carries (${m.maxDmaBytes})`,
        i,
      );
    const list = channels.get(s.port) ?? [];
    channels.set(s.port, list);
    const real = list.filter((d) => !d.noop).length;
    if (!noop && real >= m.maxOutstanding)
      err(
        "verify/outstanding",
        `${label(s)} is the ${real + 1}th outstanding command on ${s.port} (limit ${m.maxOutstanding})`,
        i,
      );
    if (list.some((d) => d.tag === s.tag))
      err("verify/tag", `${label(s)} reuses tag ${s.tag} of an outstanding ${s.port} command`, i);
    if (s.port === "acp_fmap" && s.region === "host") {
      const lo = ddrKey(s.region, off);
      const hi = ddrKey(s.region, off + bytes);
      if (!hostInit.covers(lo, hi))
        err("verify/uninit-ddr", `${label(s)} sends host buffer bytes nothing wrote in this segment`, i);
    }
    const end = (issued.get(s.port) ?? 0) + bytes;
    issued.set(s.port, end);
    const d: Dma = {
      step: i,
      port: s.port,
      tag: s.tag,
      region: s.region,
      lo: off,
      hi: off + bytes,
      streamEnd: end,
      noop,
    };
    list.push(d);
    if (s.port.startsWith("hp") && !noop) {
      const q = streamQueue.get(s.port) ?? [];
      q.push({ step: i, bytes, dma: d });
      streamQueue.set(s.port, q);
    }
  }

  function host(s0: Extract<Step, { kind: "host" }>, i: number): void {
    const s = relocatedHost(s0, i);
    const span = (o: HostOperand): [number, number] => [
      ddrKey(o.region, o.offset),
      ddrKey(o.region, o.offset + operandBytes(m, o)),
    ];
    for (const o of [...s.inputs, ...s.outputs]) {
      const reg = ctx.regions.get(o.region);
      if (reg && o.offset + operandBytes(m, o) > reg.bytes)
        err(
          "verify/region",
          `${label(s)} operand ${o.region}[${o.offset}..+${operandBytes(m, o)}) exceeds the region (${reg.bytes} bytes)`,
          i,
        );
    }
    for (const o of s.inputs) {
      const r = span(o);
      if (o.region === "host" && !hostInit.covers(r[0], r[1]))
        err("verify/uninit-ddr", `${label(s)} reads host buffer bytes nothing wrote in this segment`, i);
    }
    for (const [port, list] of channels)
      for (const d of list) {
        const dr: Range = [ddrKey(d.region, d.lo), ddrKey(d.region, d.hi)];
        const hit = (o: HostOperand) => {
          const r = span(o);
          return r[0] < dr[1] && dr[0] < r[1];
        };
        if (port === "acp_result" && [...s.inputs, ...s.outputs].some(hit))
          err(
            "verify/ddr-hazard",
            `${label(s)} uses DDR the ${port} command of step ${d.step} is still writing`,
            i,
          );
        if (port !== "acp_result" && s.outputs.some(hit))
          err(
            "verify/ddr-hazard",
            `${label(s)} overwrites DDR the ${port} command of step ${d.step} is still reading`,
            i,
          );
      }
    // Outputs extend to whole L2 words (the host zero-fills the padding: host-ops rules).
    for (const o of s.outputs) {
      const r = span(o);
      const pad = (x: number) => Math.ceil(x / m.wordBytes) * m.wordBytes;
      hostInit.add(r[0], ddrKey(o.region, pad(o.offset + operandBytes(m, o))));
    }
    for (const [name, v] of variableEffects(s.fn, s.attrs, vars))
      vars.set(name, typeof v === "number" ? v : hostChoice(name, v.min, v.max));
  }
}

/** Disjoint half-open ranges, sorted, merged on insert. */
class IntervalSet {
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];

  /** Index of the first range whose end is ≥ x. */
  private find(x: number): number {
    let a = 0;
    let b = this.hi.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.hi[m]! < x) a = m + 1;
      else b = m;
    }
    return a;
  }

  add(lo: number, hi: number): void {
    if (hi <= lo) return;
    let i = this.find(lo);
    let j = i;
    while (j < this.lo.length && this.lo[j]! <= hi) {
      lo = Math.min(lo, this.lo[j]!);
      hi = Math.max(hi, this.hi[j]!);
      j++;
    }
    this.lo.splice(i, j - i, lo);
    this.hi.splice(i, j - i, hi);
    i++;
  }

  covers(lo: number, hi: number): boolean {
    if (hi <= lo) return true;
    const i = this.find(lo);
    return i < this.lo.length && this.lo[i]! <= lo && this.hi[i]! >= hi;
  }
}
