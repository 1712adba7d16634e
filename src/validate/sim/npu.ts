/**
 * NPU instruction steps: validation of the word (through src/isa and the target's opcode set),
 * relocation of fields, and dispatch to MEMSET, MEMCPY (docs/program.md §4.2, §4.4), the engines
 * (engine.ts) and the SFU (cvo.ts).
 */
import type { NpuStep, Relocation } from "../../codegen/program.js";
import { PccxError } from "../../diag/index.js";
import { decode, encode, formatWord, type Instr, type InstrOf, type IsaOptions } from "../../isa/index.js";
import type { Target } from "../../target/index.js";
import { execCvo } from "./cvo.js";
import { execMatmul } from "./engine.js";
import { fault, SimFault } from "./faults.js";
import type { SimState, StepCtx } from "./state.js";
import type { InStream, OutStream } from "./streams.js";

const isaOpts = new WeakMap<Target, IsaOptions>();

/** ISA options of a target: its CVO extension functions by name. */
export function isaOptionsFor(t: Target): IsaOptions {
  let o = isaOpts.get(t);
  if (!o) {
    const ext = t.file.isa.cvo_functions.filter((c) => c.extension);
    o = ext.length ? { cvoExtensions: Object.fromEntries(ext.map((c) => [c.name, c.code])) } : {};
    isaOpts.set(t, o);
  }
  return o;
}

const checked = new WeakMap<NpuStep, Instr | SimFault>();

/**
 * The instruction a step executes: its fields with relocated values patched in, encoded and
 * decoded strictly (so reserved bits, reserved values and out-of-range relocated values fault).
 */
export function instrOf(s: SimState, step: NpuStep, patches: ReadonlyMap<string, number> | undefined): Instr {
  if (!patches) {
    let c = checked.get(step);
    if (!c) {
      try {
        c = validate(s.target, step, undefined);
      } catch (e) {
        if (!(e instanceof SimFault)) throw e;
        c = e;
      }
      checked.set(step, c);
    }
    if (c instanceof SimFault) throw c;
    return c;
  }
  return validate(s.target, step, patches);
}

function validate(t: Target, step: NpuStep, patches: ReadonlyMap<string, number> | undefined): Instr {
  const fields = patches ? { ...step.instr.fields, ...Object.fromEntries(patches) } : step.instr.fields;
  const opts = isaOptionsFor(t);
  let word: bigint;
  try {
    word = encode({ opcode: step.instr.opcode, fields }, opts);
  } catch (e) {
    if (!(e instanceof PccxError)) throw e;
    const field = e.at?.jsonPath?.replace(/^fields\./, "").split(".")[0];
    if (field && patches?.has(field)) {
      throw fault(
        "reloc",
        `relocated ${step.instr.opcode} field ${field} = ${patches.get(field)}: ${e.message}`,
      );
    }
    throw fault("bad-instr", e.message);
  }
  const given = (step as { readonly word?: unknown }).word;
  if (given !== undefined && !patches) {
    const w = typeof given === "bigint" ? given : typeof given === "string" ? safeBigInt(given) : undefined;
    if (w !== word) {
      throw fault(
        "bad-instr",
        `the step's word ${String(given)} does not encode its fields (${formatWord(word)})`,
      );
    }
  }
  const instr = decode(word, "strict", opts);
  if (!t.file.isa.opcodes.some((o) => o.mnemonic === instr.opcode)) {
    throw fault("bad-instr", `target ${t.file.name} has no ${instr.opcode} instruction`);
  }
  return instr;
}

function safeBigInt(s: string): bigint | undefined {
  try {
    return BigInt(s);
  } catch {
    return undefined;
  }
}

/** Relocated field values of one step, or undefined when nothing relocates it. */
export type Patches = ReadonlyMap<string, number>;
export type StepRelocs = ReadonlyMap<number, readonly Relocation[]>;

export function execNpu(s: SimState, instr: Instr, ctx: StepCtx): void {
  switch (instr.opcode) {
    case "GEMV":
    case "GEMM":
      execMatmul(s, instr, ctx);
      break;
    case "CVO":
      execCvo(s, instr, ctx);
      break;
    case "MEMSET":
      execMemset(s, instr);
      break;
    case "MEMCPY":
      execMemcpy(s, instr, ctx);
      break;
  }
}

function execMemset(s: SimState, instr: InstrOf<"MEMSET">): void {
  const f = instr.fields;
  const code = typeof f.dest_cache === "number" ? f.dest_cache : Number(f.dest_cache);
  const bank = s.bankName(code);
  if (!bank) throw fault("bad-instr", `MEMSET dest_cache = ${f.dest_cache} names no bank of the target`);
  s.writeConst(bank, f.dest_addr, [f.a_value, f.b_value, f.c_value], "MEMSET dest_addr");
}

const words_ = (n: number) => `${n} word${n === 1 ? "" : "s"}`;

const DIRECTIONS = { "1,0": "host_to_l2", "0,1": "l2_to_host", "0,0": "l2_to_l2" } as const;

function execMemcpy(s: SimState, instr: InstrOf<"MEMCPY">, ctx: StepCtx): void {
  const f = instr.fields;
  const dir = DIRECTIONS[`${f.from_device},${f.to_device}` as keyof typeof DIRECTIONS];
  if (!dir || !s.target.file.memcpy.directions.includes(dir)) {
    throw fault(
      "bad-instr",
      `MEMCPY direction ${dir ?? "host_to_host"} is not one target ${s.target.file.name} executes`,
    );
  }
  if (f.aux_addr !== 0) {
    throw fault(
      "bad-instr",
      `MEMCPY aux_addr = ${f.aux_addr}: pccxc takes the DDR address from the paired DataMover command, aux_addr must be 0`,
    );
  }
  const [a = 0, b = 0, c = 0] = s.readConst("fmap_shape", f.shape_ptr_addr, "MEMCPY shape_ptr_addr");
  const words = s.l2.words(a * b * c);
  if (words === 0) return;
  const n = words * s.l2.epw;
  const bytes = words * s.target.file.l2.word_bytes;
  const what = `MEMCPY ${ctx.label}`;
  const async = f.async === 1 && s.target.file.control.async_supported;
  const l2 = s.l2.data;
  if (dir === "l2_to_host") {
    const src = s.l2.vector("memcpy", "src_addr", f.src_addr, n);
    s.hazards.checkRead("l2", src.w0, src.w1, what);
    const out = s.l2Channel("out") as OutStream | undefined;
    const cmd = out?.nextUnfilled();
    if (!out || !cmd) {
      throw fault(
        "memcpy-unpaired",
        `MEMCPY L2→host of ${words_(words)} has no ${out?.name ?? "L2→host"} DataMover command issued before it`,
      );
    }
    if (cmd.len !== bytes) {
      throw fault(
        "memcpy-unpaired",
        `MEMCPY L2→host moves ${words_(words)} = ${bytes} bytes, its ${out.name} command (step ${cmd.step}) carries ${cmd.len}`,
      );
    }
    const space = `ddr:${cmd.region.def.name}`;
    s.hazards.checkWrite(space, cmd.off, cmd.off + bytes, what);
    s.ddr.writeBf16(cmd.region, cmd.off, l2, src.el, n);
    cmd.filled = true;
    s.hazards.add(space, cmd.off, cmd.off + bytes, ctx.step, ctx.label, {
      kind: "dma",
      channel: out.name,
      seq: cmd.seq,
    });
    return;
  }
  const dst = s.l2.vector("memcpy", "dest_addr", f.dest_addr, n);
  if (dir === "host_to_l2") {
    const inp = s.l2Channel("in") as InStream | undefined;
    const cmd = inp?.peek();
    if (!inp || !cmd || inp.available === 0) {
      throw fault(
        "memcpy-unpaired",
        `MEMCPY host→L2 of ${words_(words)} has no ${inp?.name ?? "host→L2"} DataMover command issued before it`,
      );
    }
    if (cmd.len !== bytes || inp.available < bytes) {
      throw fault(
        "memcpy-unpaired",
        `MEMCPY host→L2 moves ${words_(words)} = ${bytes} bytes, its ${inp.name} command (step ${cmd.step}) carries ${cmd.len}`,
      );
    }
    s.hazards.checkWrite("l2", dst.w0, dst.w1, what);
    s.ddr.readBf16(cmd.region, cmd.off, n, l2, dst.el);
    s.numeric.storeRange(s.l2.bits, dst.el, n);
    inp.take(bytes);
    s.counters.streamBytes[inp.name] = (s.counters.streamBytes[inp.name] ?? 0) + bytes;
  } else {
    const src = s.l2.vector("memcpy", "src_addr", f.src_addr, n);
    s.hazards.checkRead("l2", src.w0, src.w1, what);
    s.hazards.checkWrite("l2", dst.w0, dst.w1, what);
    l2.copyWithin(dst.el, src.el, src.el + n);
  }
  if (async) s.hazards.add("l2", dst.w0, dst.w1, ctx.step, ctx.label, { kind: "npu" });
}
