/**
 * The `encode` pass: turns draft segments into the Program (docs/program.md): numeric L2
 * addresses, constant entries, DMA tags and waits by (port, tag); every relocated field becomes a
 * Relocation (the field holds the value with every variable at 0) and every NPU step is encoded
 * through src/isa (so a field out of range is caught here). Records allocations and the first
 * consumer of each stream segment.
 */
import { isPccxError } from "../../diag/index.js";
import { encode } from "../../isa/index.js";
import { stepAddrs } from "../alloc/l2.js";
import type { DSegment, DStep, L2Addr, Val } from "../draft.js";
import { isReloc } from "../draft.js";
import { internalError } from "../errors.js";
import type { Machine } from "../machine.js";
import type { Allocation, NpuInstr, Relocation, RelocExpr, Segment, Step } from "../program.js";
import type { Registry } from "../registry.js";

/** A relocated field's placeholder: its value with every variable at 0. */
function atZero(e: RelocExpr): number {
  let v = e.base;
  if (e.min !== undefined) v = Math.max(e.min, v);
  if (e.max !== undefined) v = Math.min(e.max, v);
  return v;
}

export interface Encoded {
  readonly segments: Segment[];
  readonly relocations: Relocation[];
  readonly allocations: Allocation[];
}

const addr = (a: L2Addr | undefined): number => (a ? (a.buf.offset ?? 0) + a.word : 0);

/**
 * `check`: encode every NPU step through src/isa here (when the verify pass will not: it encodes
 * every step itself).
 */
export function encodeSegments(m: Machine, reg: Registry, segs: readonly DSegment[], check = true): Encoded {
  const relocations: Relocation[] = [];
  const allocations: Allocation[] = [];
  const segments: Segment[] = [];
  const consumers = new Map<string, { segment: string; step: number }>();
  const programBufs = new Set<number>();
  for (const seg of segs) {
    const tagOf = new Map<object, number>();
    const steps: Step[] = [];
    const live = new Map<
      number,
      { name: string; offset: number; words: number; first: number; last: number }
    >();
    seg.steps.forEach((s, i) => {
      const relocs: { field: string; expr: Val }[] = [];
      const num = (field: string, v: Val): number => {
        if (!isReloc(v)) return v;
        relocs.push({ field, expr: v });
        return atZero(v);
      };
      steps.push(encodeStep(m, s, num, tagOf, check));
      for (const r of relocs)
        if (isReloc(r.expr)) relocations.push({ segment: seg.name, step: i, field: r.field, expr: r.expr });
      if (s.kind === "host")
        for (const r of s.relocs ?? [])
          relocations.push({ segment: seg.name, step: i, field: r.field, expr: r.expr });
      if (s.kind === "dma") tagOf.set(s, s.tag ?? 0);
      if (s.kind === "gemv")
        for (const t of s.tiles)
          for (const p of t.pieces)
            if (p.segmentId && !consumers.has(p.segmentId))
              consumers.set(p.segmentId, { segment: seg.name, step: i });
      for (const a of stepAddrs(s)) {
        if (a.buf.scope === "program") {
          programBufs.add(a.buf.id);
          if (!live.has(-a.buf.id - 1))
            allocations.push({ space: "l2", name: a.buf.name, offset: a.buf.offset ?? 0, size: a.buf.words });
          live.set(-a.buf.id - 1, { name: a.buf.name, offset: 0, words: 0, first: 0, last: 0 });
          continue;
        }
        const cur = live.get(a.buf.id);
        if (cur) cur.last = i;
        else
          live.set(a.buf.id, {
            name: a.buf.name,
            offset: a.buf.offset ?? 0,
            words: a.buf.words,
            first: i,
            last: i,
          });
      }
    });
    for (const [id, b] of live)
      if (id >= 0)
        allocations.push({
          space: "l2",
          name: b.name,
          offset: b.offset,
          size: b.words,
          segment: seg.name,
          live: [b.first, b.last],
        });
    segments.push({
      name: seg.name,
      kind: seg.kind,
      steps,
      ...(seg.maxPos !== undefined ? { maxPos: seg.maxPos } : {}),
    });
  }
  for (const s of reg.streamSegments) {
    const c = consumers.get(s.id);
    (s as { consumer: { segment: string; step: number } }).consumer = c ?? { segment: "", step: -1 };
  }
  const seen = new Set<string>();
  const dedup = allocations.filter((a) => {
    const k = `${a.space}|${a.name}|${a.offset}|${a.segment ?? ""}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { segments, relocations, allocations: dedup };
}

function encodeStep(
  m: Machine,
  s: DStep,
  num: (field: string, v: Val) => number,
  tagOf: ReadonlyMap<object, number>,
  check: boolean,
): Step {
  const npu = (opcode: NpuInstr["opcode"], fields: NpuInstr["fields"], weightSegment?: string) =>
    npuStep(m, opcode, fields, s, weightSegment, check);
  switch (s.kind) {
    case "gemv":
      return npu(
        s.engine,
        {
          dest_reg: addr(s.dest),
          src_addr: addr(s.src),
          flags: { findemax: s.findemax ? 1 : 0, accm: s.accm ? 1 : 0, w_scale: 1 },
          size_ptr_addr: s.wshapeEntry ?? 0,
          shape_ptr_addr: s.shapeEntry ?? 0,
          parallel_lane: 0,
        },
        s.weightSegment,
      );
    case "cvo":
      return npu("CVO", {
        cvo_func: s.func,
        src_addr: addr(s.src),
        dst_addr: addr(s.dst),
        length: num("length", s.length),
        flags: { sub_emax: s.subEmax ? 1 : 0, recip_scale: s.recipScale ? 1 : 0, accm: s.accm ? 1 : 0 },
        async: s.async ? 1 : 0,
      });
    case "memcpy":
      return npu("MEMCPY", {
        from_device: s.dir === "host_to_l2" ? 1 : 0,
        to_device: s.dir === "l2_to_host" ? 1 : 0,
        dest_addr: addr(s.dest),
        src_addr: addr(s.src),
        aux_addr: 0,
        shape_ptr_addr: s.shapeEntry ?? 0,
        async: s.async ? 1 : 0,
      });
    case "memset":
      return npu("MEMSET", {
        dest_cache: m.bankCode[s.bank],
        dest_addr: s.entry,
        a_value: num("a_value", s.a),
        b_value: num("b_value", s.b),
        c_value: num("c_value", s.c),
      });
    case "dma":
      return {
        kind: "dma",
        port: s.port,
        region: s.region,
        offset: num("offset", s.offset),
        bytes: num("bytes", s.bytes),
        tag: s.tag ?? 0,
        origin: s.origin,
      };
    case "host":
      return {
        kind: "host",
        fn: s.fn,
        inputs: s.inputs,
        outputs: s.outputs,
        attrs: s.attrs,
        origin: s.origin,
      };
    case "wait": {
      const on = s.on;
      if (on.kind === "dma")
        return {
          kind: "wait",
          on: { kind: "dma", port: on.dma.port, tag: tagOf.get(on.dma) ?? on.dma.tag ?? 0 },
          origin: s.origin,
        };
      return { kind: "wait", on, origin: s.origin };
    }
  }
}

function npuStep(
  m: Machine,
  opcode: NpuInstr["opcode"],
  fields: NpuInstr["fields"],
  s: DStep,
  weightSegment: string | undefined,
  check: boolean,
): Step {
  const instr: NpuInstr = { opcode, fields };
  try {
    if (check) encode(instr as Parameters<typeof encode>[0], m.isaOptions);
  } catch (e) {
    if (isPccxError(e)) throw internalError(`step "${s.origin.label}" does not encode: ${e.message}`);
    throw e;
  }
  return {
    kind: "npu",
    instr,
    ...(s.kind === "cvo" && s.intent ? { intent: s.intent } : {}),
    ...(weightSegment ? { weightSegment } : {}),
    origin: s.origin,
  };
}
