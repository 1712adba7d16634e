/**
 * Consistency of a `Program` as the artifacts need it (docs/program.md, docs/artifacts.md): unique
 * names, relocations that point at an existing step and at a field that step has, declared
 * variables, allocations and DMA/host operands that name existing segments and DDR regions, numbers
 * that fit the fixed-size records of program.bin. Returns problems as data with their JSON path in
 * program.json terms; writers turn them into internal errors, readers into invalid-input errors.
 */
import type { CompiledIsa } from "../../isa/index.js";
import type { PathSeg } from "../../target/index.js";
import type { Program, RelocExpr, Step } from "../program.js";
import { FILE_REGION } from "../verify/static.js";
import { DMA_RELOC_FIELDS } from "./enums.js";

export interface Problem {
  readonly path: readonly PathSeg[];
  readonly message: string;
}

/** Largest value of the u32 slots of program.bin (0xFFFFFFFF itself means "none"). */
export const U32_MAX = 0xfffffffe;

/**
 * Where a relocation writes: an instruction field (bit position from the ISA table), a DMA field or
 * a host operand's offset or element count (docs/program.md §2).
 */
export interface RelocTarget {
  /**
   * Instruction field: its index in the opcode's table field list. DMA field: 0x8000 + index in
   * DMA_RELOC_FIELDS. Host operand field: 0x4000 + 2 × operand (inputs, then outputs) + (0 offset,
   * 1 elements).
   */
  readonly id: number;
  readonly lsb: number;
  /** Bit width of an instruction field; 0 for a DMA or host field (the whole stored value). */
  readonly width: number;
}

export const DMA_FIELD_ID_BASE = 0x8000;
export const HOST_FIELD_ID_BASE = 0x4000;
const HOST_FIELD_RE = /^(inputs|outputs)\[(0|[1-9]\d*)\]\.(offset|elements)$/;

/** The relocation target of `field` on `step`, or a reason it has none. */
export function relocTarget(step: Step, field: string, isa: CompiledIsa): RelocTarget | string {
  if (step.kind === "npu") {
    const op = isa.byMnemonic.get(step.instr.opcode);
    if (!op) return `the step's opcode ${step.instr.opcode} is unknown`;
    const id = op.fields.findIndex((f) => f.name === field);
    const f = op.fields[id];
    if (f?.kind !== "uint") {
      const uints = op.fields.filter((x) => x.kind === "uint").map((x) => x.name);
      return `${op.mnemonic} has no integer field "${field}" (relocatable fields: ${uints.join(", ")})`;
    }
    return { id, lsb: f.lsb, width: f.width };
  }
  if (step.kind === "dma") {
    const id = (DMA_RELOC_FIELDS as readonly string[]).indexOf(field);
    if (id < 0) return `a DMA step relocates only ${DMA_RELOC_FIELDS.join(", ")}, not "${field}"`;
    return { id: DMA_FIELD_ID_BASE + id, lsb: 0, width: 0 };
  }
  if (step.kind === "host") {
    const m = HOST_FIELD_RE.exec(field);
    if (!m)
      return `a host step relocates only inputs[i].offset, inputs[i].elements, outputs[i].offset or outputs[i].elements, not "${field}"`;
    const i = Number(m[2]);
    const n = m[1] === "inputs" ? step.inputs.length : step.outputs.length;
    if (i >= n) return `${field}: the host step has ${n} ${m[1]}`;
    const operand = m[1] === "inputs" ? i : step.inputs.length + i;
    if (operand >= (DMA_FIELD_ID_BASE - HOST_FIELD_ID_BASE) / 2)
      return `${field}: too many operands for a field id`;
    return { id: HOST_FIELD_ID_BASE + 2 * operand + (m[3] === "elements" ? 1 : 0), lsb: 0, width: 0 };
  }
  return "a wait step has no relocatable field";
}

/** In u-mode a surrogate pair is one code point, so \p{Cs} matches only unpaired surrogates. */
const LONE_SURROGATE = /\p{Cs}/u;

const isU32 = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= U32_MAX;
const isU53 = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** What is wrong with a string of the program, if anything (checked without allocating). */
function textProblem(s: unknown): string | undefined {
  if (typeof s !== "string") return "expected a string";
  if (s.includes("\u0000")) return "a string may not contain NUL characters";
  if (LONE_SURROGATE.test(s))
    return "a string may not contain unpaired UTF-16 surrogates (not valid Unicode)";
  return undefined;
}

type Add = (path: PathSeg[], message: string) => void;

/** Every problem of `program`, in document order. Paths are built only for problems found. */
export function programProblems(program: Program, isa: CompiledIsa): Problem[] {
  const out: Problem[] = [];
  const add: Add = (path, message) => out.push({ path, message });
  const text = (s: unknown, path: () => PathSeg[]) => {
    const m = textProblem(s);
    if (m) add(path(), m);
  };
  const num = (v: unknown, ok: (v: unknown) => boolean, what: string, path: () => PathSeg[]) => {
    if (!ok(v)) add(path(), `${String(v)} is not ${what}`);
  };

  text(program.model, () => ["model"]);
  text(program.target, () => ["target", "name"]);
  text(program.targetFingerprint, () => ["target", "fingerprint"]);
  if (program.context !== undefined) num(program.context, isU32, "a context length", () => ["context"]);

  const segByName = new Map<string, number>();
  for (const [si, seg] of program.segments.entries()) {
    if (!seg.name) add(["segments", si, "name"], "a segment needs a name");
    if (segByName.has(seg.name)) add(["segments", si, "name"], `segment name "${seg.name}" is used twice`);
    segByName.set(seg.name, si);
    text(seg.name, () => ["segments", si, "name"]);
    // Any safe integer: codegen records a negative maxPos when a prefill chunk can never be replayed.
    if (seg.maxPos !== undefined)
      num(seg.maxPos, Number.isSafeInteger, "a position (a safe integer)", () => ["segments", si, "max_pos"]);
  }

  const regions = new Set<string>();
  for (const [i, r] of program.ddr.entries()) {
    text(r.name, () => ["ddr", i, "name"]);
    if (regions.has(r.name)) add(["ddr", i, "name"], `DDR region "${r.name}" is declared twice`);
    regions.add(r.name);
    num(r.offset, isU53, "a byte offset (integer >= 0)", () => ["ddr", i, "offset"]);
    num(r.bytes, isU53, "a byte count (integer >= 0)", () => ["ddr", i, "bytes"]);
  }

  for (const [si, seg] of program.segments.entries()) {
    for (const [j, step] of seg.steps.entries()) {
      stepProblems(step, (...tail) => ["segments", si, "steps", j, ...tail], add, regions);
    }
  }

  const vars = new Set<string>();
  for (const [i, v] of program.variables.entries()) {
    text(v.name, () => ["variables", i, "name"]);
    text(v.doc, () => ["variables", i, "doc"]);
    if (vars.has(v.name)) add(["variables", i, "name"], `variable "${v.name}" is declared twice`);
    vars.add(v.name);
  }
  // `kv_len[3]` is declared either by itself or by its family `kv_len`.
  const declared = (name: string) => vars.has(name) || vars.has(name.split("[")[0]!);

  for (const [i, r] of program.relocations.entries()) {
    const p: PathSeg[] = ["relocations", i];
    exprProblems(r.expr, [...p, "expr"], add, declared);
    const si = segByName.get(r.segment);
    if (si === undefined) {
      add([...p, "segment"], `segment "${r.segment}" does not exist`);
      continue;
    }
    const step = program.segments[si]!.steps[r.step];
    if (!step) {
      add(
        [...p, "step"],
        `segment "${r.segment}" has no step ${r.step} (it has ${program.segments[si]!.steps.length})`,
      );
      continue;
    }
    const t = relocTarget(step, r.field, isa);
    if (typeof t === "string") add([...p, "field"], t);
  }

  for (const [i, a] of program.allocations.entries()) {
    text(a.name, () => ["allocations", i, "name"]);
    num(a.offset, isU53, "an offset (integer >= 0)", () => ["allocations", i, "offset"]);
    num(a.size, isU53, "a size (integer >= 0)", () => ["allocations", i, "size"]);
    if (a.segment !== undefined && !segByName.has(a.segment)) {
      add(["allocations", i, "segment"], `segment "${a.segment}" does not exist`);
    }
    if (a.live) {
      const [lo, hi] = a.live;
      if (!isU32(lo) || !isU32(hi) || lo > hi)
        add(["allocations", i, "live"], `[${lo}, ${hi}] is not a step range`);
      const si = a.segment === undefined ? undefined : segByName.get(a.segment);
      const n = si === undefined ? undefined : program.segments[si]!.steps.length;
      if (n !== undefined && hi >= n) {
        add(["allocations", i, "live"], `step ${hi} is past the end of segment "${a.segment}" (${n} steps)`);
      }
    }
  }
  return out;
}

function stepProblems(
  step: Step,
  at: (...tail: PathSeg[]) => PathSeg[],
  add: Add,
  regions: ReadonlySet<string>,
): void {
  const text = (s: unknown, ...tail: PathSeg[]) => {
    const m = textProblem(s);
    if (m) add(at(...tail), m);
  };
  const num = (v: unknown, ok: (v: unknown) => boolean, what: string, ...tail: PathSeg[]) => {
    if (!ok(v)) add(at(...tail), `${String(v)} is not ${what}`);
  };
  const region = (name: unknown, ...tail: PathSeg[]) => {
    text(name, ...tail);
    if (typeof name === "string" && !regions.has(name)) {
      add(at(...tail), `DDR region "${name}" is not declared in the program's ddr list`);
    }
  };
  const o = step.origin;
  text(o.label, "label");
  if (o.op !== undefined) text(o.op, "origin", "op");
  if (o.layer !== undefined) num(o.layer, isU32, "a layer index", "origin", "layer");
  if (o.tensors) for (let k = 0; k < o.tensors.length; k++) text(o.tensors[k], "origin", "tensors", k);
  switch (step.kind) {
    case "npu":
      if (step.intent !== undefined) text(step.intent, "intent");
      if (step.weightSegment !== undefined) text(step.weightSegment, "weight_segment");
      return;
    case "dma":
      region(step.region, "region");
      num(step.offset, isU53, "a byte offset (integer >= 0)", "offset");
      num(step.bytes, isU53, "a byte count (integer >= 0)", "bytes");
      num(step.tag, isU32, "a DMA tag (integer >= 0)", "tag");
      return;
    case "host":
      text(step.fn, "fn");
      for (const side of ["inputs", "outputs"] as const) {
        for (const [k, op] of step[side].entries()) {
          // a host input may read the off-DDR part of weights.bin (codegen's FILE_REGION), not a DDR region
          if (side === "inputs" && op.region === FILE_REGION) text(op.region, side, k, "region");
          else region(op.region, side, k, "region");
          num(op.offset, isU53, "a byte offset (integer >= 0)", side, k, "offset");
          num(op.elements, isU53, "an element count (integer >= 0)", side, k, "elements");
          if (op.rows !== undefined) num(op.rows, isU32, "a row count", side, k, "rows");
          for (const [b, w] of (op.blocks ?? []).entries())
            num(w, isU32, "a block width", side, k, "blocks", b);
        }
      }
      for (const [key, v] of Object.entries(step.attrs)) {
        text(key, "attrs", key);
        if (typeof v === "string") text(v, "attrs", key);
        else if (typeof v === "number" && !Number.isFinite(v)) add(at("attrs", key), `${v} is not finite`);
        else if (Array.isArray(v) && v.some((x) => !Number.isFinite(x))) {
          add(at("attrs", key), "every number of the list must be finite");
        }
      }
      return;
    case "wait":
      if (step.on.kind === "dma") num(step.on.tag, isU32, "a DMA tag (integer >= 0)", "on", "tag");
      return;
  }
}

function exprProblems(e: RelocExpr, p: PathSeg[], add: Add, declared: (n: string) => boolean): void {
  const int = (path: PathSeg[], v: number | undefined) => {
    if (v !== undefined && !Number.isSafeInteger(v)) add(path, `${v} is not an integer`);
  };
  int([...p, "base"], e.base);
  int([...p, "min"], e.min);
  int([...p, "max"], e.max);
  if (e.min !== undefined && e.max !== undefined && e.min > e.max)
    add(p, `min ${e.min} is above max ${e.max}`);
  for (const [k, t] of e.terms.entries()) {
    const m = textProblem(t.variable);
    if (m) add([...p, "terms", k, "variable"], m);
    int([...p, "terms", k, "stride"], t.stride);
    if (!declared(t.variable))
      add([...p, "terms", k, "variable"], `variable "${t.variable}" is not declared`);
  }
}
