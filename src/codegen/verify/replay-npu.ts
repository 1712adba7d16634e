/**
 * The NPU instructions in a segment replay (docs/program.md §4): MEMSET writes a constant entry;
 * GEMV/GEMM read their shape and tile descriptor, check the engine limits and consume exactly their
 * tile's bytes from each feeding port's stream; CVO checks its length, operands and e_max; MEMCPY
 * checks its L2 ranges and pairs with its DataMover command.
 */
import type { Step } from "../program.js";
import { portRows, tileBytes } from "../tiles.js";
import { ceilDiv, type Range, type SegmentReplay } from "./replay-state.js";
import { label } from "./static.js";

type NpuStep = Extract<Step, { kind: "npu" }>;
type Fields = Record<string, unknown>;

export function npuStep(r: SegmentReplay, s: NpuStep, i: number): void {
  const f = s.instr.fields as Fields;
  const op = s.instr.opcode;
  const continuesSoftmax = r.emaxPiece;
  r.emaxPiece = false;
  if (op === "MEMSET") memset(r, s, i);
  else if (op === "GEMV" || op === "GEMM") gemv(r, s, i, op, f);
  else if (op === "CVO") cvo(r, s, i, f, continuesSoftmax);
  else if (op === "MEMCPY") memcpy(r, s, i, f);
}

/** Field `name` of step i after its relocation (a function, not a closure per step: hot path). */
function fv(r: SegmentReplay, s: NpuStep, i: number, name: string): number {
  return r.value(s, i, name, (s.instr.fields as Fields)[name] as number);
}

function memset(r: SegmentReplay, s: NpuStep, i: number): void {
  r.consts.set(`${fv(r, s, i, "dest_cache")}:${fv(r, s, i, "dest_addr")}`, {
    a: fv(r, s, i, "a_value"),
    b: fv(r, s, i, "b_value"),
    c: fv(r, s, i, "c_value"),
  });
  for (const v of ["a_value", "b_value", "c_value"])
    if (fv(r, s, i, v) < 0 || fv(r, s, i, v) > r.m.constValueMax)
      r.err("verify/field", `${label(s)} ${v} = ${fv(r, s, i, v)} outside 0..${r.m.constValueMax}`, i);
}

function gemv(r: SegmentReplay, s: NpuStep, i: number, op: string, f: Fields): void {
  const m = r.m;
  const shape = r.constRead(s, i, m.bankCode.fmap_shape, fv(r, s, i, "shape_ptr_addr"));
  const ws = r.constRead(s, i, m.bankCode.weight_shape, fv(r, s, i, "size_ptr_addr"));
  if (!shape || !ws) return;
  const { a: M, b: N, c: K } = shape;
  const flags = f.flags as Record<string, number>;
  if (op === "GEMV" && M !== 1) r.err("verify/shape", `GEMV ${label(s)} has M = ${M} (must be 1)`, i);
  if (K > m.maxK) r.err("verify/shape", `${label(s)} K = ${K} exceeds the engine limit ${m.maxK}`, i);
  if (op === "GEMV" && N > m.gemvMaxRows)
    r.err("verify/shape", `GEMV ${label(s)} N = ${N} exceeds ${m.gemvMaxRows} rows per call`, i);
  if (N === 0 || K === 0 || M === 0) return;
  const epw = m.elemsPerWord;
  const cls = op === "GEMV" ? "gemv" : "gemm";
  const src: Range = [fv(r, s, i, "src_addr"), fv(r, s, i, "src_addr") + M * ceilDiv(K, epw)];
  const dst: Range = [fv(r, s, i, "dest_reg"), fv(r, s, i, "dest_reg") + M * ceilDiv(N, epw)];
  r.checkRange(s, i, cls, src);
  r.checkRange(s, i, cls, dst);
  r.read(s, i, src, "activations");
  if (flags.accm) r.read(s, i, dst, "the accumulator");
  r.write(s, i, dst);
  if (flags.findemax) r.emaxDefined = true;
  const order = ws.a === 1 ? 1 : 0;
  if (ws.a > 1) r.err("verify/tile", `${label(s)} weight tile order ${ws.a} is not defined`, i);
  if (order === 1 && ws.b !== m.int4PerBeat)
    r.err("verify/tile", `${label(s)} K-block-major tile needs group ${m.int4PerBeat}, got ${ws.b}`, i);
  const ports = m.enginePorts[cls];
  const split = portRows(N, ports.length);
  for (let j = 0; j < ports.length; j++) {
    const port = ports[j]!;
    const need = tileBytes(m, { order, group: ws.b, n: split[j]!.count, k: K });
    if (need === 0) continue;
    const q = r.streamQueue.get(port) ?? [];
    let got = 0;
    while (got < need && q.length) got += q.shift()!.bytes;
    r.streamQueue.set(port, q);
    r.consumed.set(port, (r.consumed.get(port) ?? 0) + got);
    if (got !== need)
      r.err(
        "verify/stream",
        `${label(s)} consumes a ${need}-byte tile on ${port}, but the commands issued before it carry ${got} bytes there${got < need ? " (underrun)" : " (a command spans two tiles)"}`,
        i,
      );
  }
}

function cvo(r: SegmentReplay, s: NpuStep, i: number, f: Fields, continuesSoftmax: boolean): void {
  const m = r.m;
  const fn = m.cvo.get(String(f.cvo_func));
  if (!fn) return;
  const len = fv(r, s, i, "length");
  const flags = f.flags as Record<string, number>;
  if (len > m.cvoMaxLength) r.err("verify/shape", `${label(s)} length ${len} exceeds ${m.cvoMaxLength}`, i);
  // Consecutive sub_emax CVOs are the pieces of one split EXP: they share the e_max (program.md §4.1).
  if (flags.sub_emax) {
    r.emaxPiece = true;
    if (!r.emaxDefined && !continuesSoftmax)
      r.err("verify/emax", `${label(s)} subtracts e_max, but no findemax GEMV ran since the last softmax`, i);
    r.emaxDefined = false;
  }
  if (len <= 0) return;
  const w = ceilDiv(len, m.elemsPerWord);
  const src = fv(r, s, i, "src_addr");
  const dst = fv(r, s, i, "dst_addr");
  const reads: Range[] =
    fn.operands === "scalar_first"
      ? [[src, src + 1 + w]]
      : fn.operands === "rope_pairs"
        ? [[src, src + w + 2 * ceilDiv(ceilDiv(len, 2), m.elemsPerWord)]]
        : [[src, src + w]];
  const dw: Range = [dst, dst + (fn.operands === "reduce" ? 1 : w)];
  if (fn.operands === "binary_dst" || flags.accm) reads.push(dw);
  for (const x of reads) {
    r.checkRange(s, i, "cvo", x);
    r.read(s, i, x, "its input");
  }
  r.checkRange(s, i, "cvo", dw);
  r.write(s, i, dw);
  if (fv(r, s, i, "async") === 1) r.asyncPending.push({ step: i, reads, writes: [dw] });
}

function memcpy(r: SegmentReplay, s: NpuStep, i: number, f: Fields): void {
  const m = r.m;
  const shape = r.constRead(s, i, m.bankCode.fmap_shape, fv(r, s, i, "shape_ptr_addr"));
  if (!shape) return;
  const count = shape.a * shape.b * shape.c;
  const words = ceilDiv(count, m.elemsPerWord);
  const from = f.from_device === 1;
  const to = f.to_device === 1;
  const reads: Range[] = [];
  const writes: Range[] = [];
  if (!from) {
    const x: Range = [fv(r, s, i, "src_addr"), fv(r, s, i, "src_addr") + words];
    r.checkRange(s, i, "memcpy", x);
    r.read(s, i, x, "its source");
    reads.push(x);
  }
  if (!to) {
    const x: Range = [fv(r, s, i, "dest_addr"), fv(r, s, i, "dest_addr") + words];
    r.checkRange(s, i, "memcpy", x);
    r.write(s, i, x);
    writes.push(x);
  }
  if (from || to) {
    const port = from ? "acp_fmap" : "acp_result";
    const list = r.channels.get(port) ?? [];
    let d: (typeof list)[number] | undefined;
    for (let k = list.length - 1; k >= 0 && !d; k--) if (list[k]!.pairedMemcpy === undefined) d = list[k];
    if (!d) r.err("verify/pairing", `${label(s)} has no unpaired ${port} DataMover command before it`, i);
    else {
      d.pairedMemcpy = i;
      if (d.hi - d.lo !== words * m.wordBytes)
        r.err(
          "verify/pairing",
          `${label(s)} moves ${words} words but its ${port} command (step ${d.step}) carries ${d.hi - d.lo} bytes`,
          i,
        );
    }
  }
  if (fv(r, s, i, "async") === 1) r.asyncPending.push({ step: i, reads, writes });
}
