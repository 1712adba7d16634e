/**
 * program.bin writer (layout in bin-layout.ts, specified in docs/artifacts.md). The program is first
 * flattened into tables of fixed-size records — origins deduplicated, strings interned once — then
 * the sections are laid out 8-byte aligned after the header and directory, and the CRC-32 of the
 * whole file is stored in the header.
 */
import { V002 } from "../../isa/index.js";
import { VERSION } from "../../version.js";
import type { HostOperand, Origin, Program } from "../program.js";
import {
  ALLOC,
  ALLOC_HAS_LIVE,
  ATTR,
  alignUp,
  CVO_EXT,
  DDR,
  DIR_ENTRY_BYTES,
  H,
  HEADER_BYTES,
  MAGIC,
  NONE,
  OPERAND,
  OPERAND_HAS_BLOCKS,
  OPERAND_HAS_ROWS,
  ORIGIN,
  ORIGIN_HAS_TENSORS,
  RELOC,
  RELOC_HAS_MAX,
  RELOC_HAS_MIN,
  SECTIONS,
  SEG,
  SEG_HAS_MAX_POS,
  type SectionName,
  STEP,
  TERM,
  VAR,
  VERSION_MAJOR,
  VERSION_MINOR,
} from "./bin-layout.js";
import { relocTarget } from "./check.js";
import { crc32 } from "./crc32.js";
import {
  ALLOC_SPACES,
  ATTR_TYPES,
  DDR_KINDS,
  DMA_PORTS,
  HOST_DTYPES,
  SEGMENT_KINDS,
  STEP_KINDS,
  VARIABLE_SETTERS,
  WAIT_KINDS,
} from "./enums.js";
import { type ArtifactOptions, type ProgramView, viewProgram } from "./view.js";

/** Interned NUL-terminated UTF-8 strings; offset 0 is the empty string. */
class StringTable {
  private readonly at = new Map<string, number>([["", 0]]);
  private readonly chunks: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;
  private readonly enc = new TextEncoder();

  ref(s: string): number {
    const hit = this.at.get(s);
    if (hit !== undefined) return hit;
    const bytes = this.enc.encode(`${s}\u0000`);
    const off = this.size;
    this.chunks.push(bytes);
    this.size += bytes.length;
    this.at.set(s, off);
    return off;
  }

  opt(s: string | undefined): number {
    return s === undefined ? NONE : this.ref(s);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** A section being filled: fixed-size records in one growing buffer. */
class Records {
  private buf: Uint8Array;
  view: DataView;
  count = 0;
  constructor(readonly size: number) {
    this.buf = new Uint8Array(size * 64);
    this.view = new DataView(this.buf.buffer);
  }
  /** Append a zeroed record; returns its byte offset in the section. */
  add(): number {
    const off = this.count * this.size;
    if (off + this.size > this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    this.count++;
    return off;
  }
  u8(o: number, v: number) {
    this.view.setUint8(o, v);
  }
  u16(o: number, v: number) {
    this.view.setUint16(o, v, true);
  }
  u32(o: number, v: number) {
    this.view.setUint32(o, v, true);
  }
  u64(o: number, v: number | bigint) {
    this.view.setBigUint64(o, BigInt(v), true);
  }
  i64(o: number, v: number) {
    this.view.setBigInt64(o, BigInt(v), true);
  }
  /** -0 is written as 0, as in program.json (JSON has no -0). */
  f64(o: number, v: number) {
    this.view.setFloat64(o, v === 0 ? 0 : v, true);
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.count * this.size);
  }
}

const code = (list: readonly string[], v: string) => list.indexOf(v);

/** program.bin bytes of `program`. */
export function encodeProgramBin(program: Program, opts: ArtifactOptions = {}): Uint8Array {
  return encodeView(viewProgram(program, opts));
}

export function encodeView(view: ProgramView): Uint8Array {
  const p = view.program;
  const str = new StringTable();
  const rec = Object.fromEntries(SECTIONS.map((s) => [s.name, new Records(s.size)])) as Record<
    SectionName,
    Records
  >;
  const header = {
    target: str.ref(p.target),
    fingerprint: str.ref(p.targetFingerprint),
    model: str.ref(p.model),
    compilerVersion: str.ref(VERSION),
    isaTable: str.ref(V002.name),
  };

  for (const [name, c] of Object.entries(view.cvoExtensions)) {
    const r = rec.cvo_ext;
    const o = r.add();
    r.u32(o + CVO_EXT.name, str.ref(name));
    r.u32(o + CVO_EXT.code, c);
  }

  const originIndex = new Map<string, number>();
  const origin = (og: Origin): number => {
    const key = JSON.stringify([og.label, og.op ?? null, og.layer ?? null, og.tensors ?? null]);
    const hit = originIndex.get(key);
    if (hit !== undefined) return hit;
    const r = rec.origins;
    const o = r.add();
    r.u32(o + ORIGIN.label, str.ref(og.label));
    r.u32(o + ORIGIN.op, str.opt(og.op));
    r.u32(o + ORIGIN.layer, og.layer ?? NONE);
    r.u32(o + ORIGIN.firstTensor, rec.tensors.count);
    r.u32(o + ORIGIN.tensorCount, og.tensors?.length ?? 0);
    r.u32(o + ORIGIN.flags, og.tensors ? ORIGIN_HAS_TENSORS : 0);
    for (const t of og.tensors ?? []) rec.tensors.u32(rec.tensors.add(), str.ref(t));
    originIndex.set(key, r.count - 1);
    return r.count - 1;
  };
  const operand = (op: HostOperand) => {
    const r = rec.operands;
    const o = r.add();
    r.u32(o + OPERAND.region, str.ref(op.region));
    r.u8(o + OPERAND.dtype, code(HOST_DTYPES, op.dtype));
    r.u8(
      o + OPERAND.flags,
      (op.rows !== undefined ? OPERAND_HAS_ROWS : 0) | (op.blocks ? OPERAND_HAS_BLOCKS : 0),
    );
    r.u64(o + OPERAND.offset, op.offset);
    r.u64(o + OPERAND.elements, op.elements);
    r.u32(o + OPERAND.rows, op.rows ?? 0);
    r.u32(o + OPERAND.firstBlock, op.blocks ? rec.blocks.count : 0);
    r.u32(o + OPERAND.blockCount, op.blocks?.length ?? 0);
    for (const b of op.blocks ?? []) rec.blocks.u32(rec.blocks.add(), b);
  };

  for (const [si, seg] of p.segments.entries()) {
    const so = rec.segments.add();
    rec.segments.u32(so + SEG.name, str.ref(seg.name));
    rec.segments.u8(so + SEG.kind, code(SEGMENT_KINDS, seg.kind));
    rec.segments.u32(so + SEG.firstStep, rec.steps.count);
    rec.segments.u32(so + SEG.stepCount, seg.steps.length);
    rec.segments.i64(so + SEG.maxPos, seg.maxPos ?? 0);
    rec.segments.u32(so + SEG.flags, seg.maxPos !== undefined ? SEG_HAS_MAX_POS : 0);
    for (const [j, step] of seg.steps.entries()) {
      const r = rec.steps;
      const o = r.add();
      r.u8(o + STEP.kind, code(STEP_KINDS, step.kind));
      r.u32(o + STEP.origin, origin(step.origin));
      switch (step.kind) {
        case "npu": {
          const ins = view.npu[si]![j]!;
          r.u8(o + STEP.a, view.compiled.byMnemonic.get(ins.instr.opcode)!.code);
          r.u64(o + STEP.p0, ins.word);
          r.u32(o + STEP.p8, str.opt(step.intent));
          r.u32(o + STEP.p12, str.opt(step.weightSegment));
          break;
        }
        case "dma":
          r.u8(o + STEP.a, code(DMA_PORTS, step.port));
          r.u64(o + STEP.p0, step.offset);
          r.u64(o + STEP.p8, step.bytes);
          r.u32(o + STEP.p16, str.ref(step.region));
          r.u32(o + STEP.p20, step.tag);
          break;
        case "host": {
          r.u32(o + STEP.p0, str.ref(step.fn));
          r.u32(o + STEP.p4, rec.operands.count);
          r.u32(o + STEP.p8, step.inputs.length);
          r.u32(o + STEP.p12, step.outputs.length);
          for (const op of [...step.inputs, ...step.outputs]) operand(op);
          const keys = Object.keys(step.attrs).sort();
          r.u32(o + STEP.p16, rec.attrs.count);
          r.u32(o + STEP.p20, keys.length);
          for (const k of keys) writeAttr(rec, str, k, step.attrs[k]!);
          break;
        }
        case "wait":
          r.u8(o + STEP.a, code(WAIT_KINDS, step.on.kind));
          if (step.on.kind === "dma") {
            r.u8(o + STEP.b, code(DMA_PORTS, step.on.port));
            r.u32(o + STEP.p0, step.on.tag);
          }
          break;
      }
    }
  }

  const segIndex = new Map(p.segments.map((s, i) => [s.name, i]));
  for (const rl of p.relocations) {
    const si = segIndex.get(rl.segment)!;
    const t = relocTarget(p.segments[si]!.steps[rl.step]!, rl.field, view.compiled);
    if (typeof t === "string") throw new Error(`unchecked relocation: ${t}`);
    const r = rec.relocs;
    const o = r.add();
    r.u32(o + RELOC.segment, si);
    r.u32(o + RELOC.step, rl.step);
    r.u32(o + RELOC.field, str.ref(rl.field));
    r.u16(o + RELOC.fieldId, t.id);
    r.u8(o + RELOC.lsb, t.lsb);
    r.u8(o + RELOC.width, t.width);
    r.i64(o + RELOC.base, rl.expr.base);
    r.i64(o + RELOC.min, rl.expr.min ?? 0);
    r.i64(o + RELOC.max, rl.expr.max ?? 0);
    r.u32(o + RELOC.firstTerm, rec.terms.count);
    r.u16(o + RELOC.termCount, rl.expr.terms.length);
    r.u16(
      o + RELOC.flags,
      (rl.expr.min !== undefined ? RELOC_HAS_MIN : 0) | (rl.expr.max !== undefined ? RELOC_HAS_MAX : 0),
    );
    for (const term of rl.expr.terms) {
      const to = rec.terms.add();
      rec.terms.u32(to + TERM.variable, str.ref(term.variable));
      rec.terms.i64(to + TERM.stride, term.stride);
    }
  }

  for (const v of p.variables) {
    const r = rec.variables;
    const o = r.add();
    r.u32(o + VAR.name, str.ref(v.name));
    r.u32(o + VAR.doc, str.ref(v.doc));
    r.u8(o + VAR.setBy, code(VARIABLE_SETTERS, v.setBy));
  }
  for (const a of p.allocations) {
    const r = rec.allocations;
    const o = r.add();
    r.u8(o + ALLOC.space, code(ALLOC_SPACES, a.space));
    r.u8(o + ALLOC.flags, a.live ? ALLOC_HAS_LIVE : 0);
    r.u32(o + ALLOC.name, str.ref(a.name));
    r.u64(o + ALLOC.offset, a.offset);
    r.u64(o + ALLOC.size, a.size);
    r.u32(o + ALLOC.segment, str.opt(a.segment));
    r.u32(o + ALLOC.liveLo, a.live?.[0] ?? 0);
    r.u32(o + ALLOC.liveHi, a.live?.[1] ?? 0);
  }
  for (const d of p.ddr) {
    const r = rec.ddr;
    const o = r.add();
    r.u32(o + DDR.name, str.ref(d.name));
    r.u8(o + DDR.kind, code(DDR_KINDS, d.kind));
    r.u8(o + DDR.port, d.port === undefined ? 0xff : code(DMA_PORTS, d.port));
    r.u64(o + DDR.offset, d.offset);
    r.u64(o + DDR.bytes, d.bytes);
  }

  return assemble(str.bytes(), rec, header, p);
}

function writeAttr(
  rec: Record<SectionName, Records>,
  str: StringTable,
  key: string,
  v: number | string | boolean | readonly number[],
) {
  const r = rec.attrs;
  const o = r.add();
  r.u32(o + ATTR.key, str.ref(key));
  if (typeof v === "number") {
    r.u8(o + ATTR.type, code(ATTR_TYPES, "number"));
    r.f64(o + ATTR.value, v);
  } else if (typeof v === "string") {
    r.u8(o + ATTR.type, code(ATTR_TYPES, "string"));
    r.u32(o + ATTR.value, str.ref(v));
  } else if (typeof v === "boolean") {
    r.u8(o + ATTR.type, code(ATTR_TYPES, "bool"));
    r.u32(o + ATTR.value, v ? 1 : 0);
  } else {
    r.u8(o + ATTR.type, code(ATTR_TYPES, "numbers"));
    r.u32(o + ATTR.value, rec.numbers.count);
    r.u32(o + ATTR.count, v.length);
    for (const x of v) rec.numbers.f64(rec.numbers.add(), x);
  }
}

function assemble(
  strings: Uint8Array,
  rec: Record<SectionName, Records>,
  header: Record<"target" | "fingerprint" | "model" | "compilerVersion" | "isaTable", number>,
  p: Program,
): Uint8Array {
  const parts = SECTIONS.map((s) => ({
    ...s,
    bytes: s.name === "strings" ? strings : rec[s.name].bytes(),
    count: s.name === "strings" ? strings.length : rec[s.name].count,
    offset: 0,
  }));
  let off = HEADER_BYTES + SECTIONS.length * DIR_ENTRY_BYTES;
  for (const part of parts) {
    off = alignUp(off);
    part.offset = off;
    off += part.bytes.length;
  }
  const total = alignUp(off);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), H.magic);
  dv.setUint16(H.versionMajor, VERSION_MAJOR, true);
  dv.setUint16(H.versionMinor, VERSION_MINOR, true);
  dv.setUint32(H.headerBytes, HEADER_BYTES, true);
  dv.setUint32(H.fileBytes, total, true);
  dv.setUint32(H.sectionCount, SECTIONS.length, true);
  out.set(fingerprintHash(p.targetFingerprint), H.fingerprintHash);
  dv.setUint32(H.target, header.target, true);
  dv.setUint32(H.fingerprint, header.fingerprint, true);
  dv.setUint32(H.model, header.model, true);
  dv.setUint32(H.compilerVersion, header.compilerVersion, true);
  dv.setUint32(H.isaTable, header.isaTable, true);
  dv.setUint32(H.schemaVersion, p.schemaVersion, true);
  for (const [i, part] of parts.entries()) {
    const d = HEADER_BYTES + i * DIR_ENTRY_BYTES;
    dv.setUint32(d, part.id, true);
    dv.setUint32(d + 4, part.size, true);
    dv.setUint32(d + 8, part.count, true);
    dv.setUint32(d + 12, part.offset, true);
    out.set(part.bytes, part.offset);
  }
  dv.setUint32(H.context, p.context ?? NONE, true);
  dv.setUint32(H.crc32, crc32(out), true);
  return out;
}

/** The 8 bytes of the fingerprint's 16 hex digits (`name@<16 hex>`), or zeros when it has none. */
export function fingerprintHash(fingerprint: string): Uint8Array {
  const m = /@([0-9a-f]{16})$/.exec(fingerprint);
  const out = new Uint8Array(8);
  if (m) for (let i = 0; i < 8; i++) out[i] = Number.parseInt(m[1]!.slice(2 * i, 2 * i + 2), 16);
  return out;
}
