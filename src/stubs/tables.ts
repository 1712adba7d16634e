/**
 * Program → C tables: the typed, flat form of a Program that pccx_model.c spells out (steps,
 * instruction words, relocations with their ISA field macros, variables and how the driver sets
 * them, DDR regions with image checksums, host calls with operands, attributes and variables).
 * Every check that can fail on a program happens here, with a `stubs/...` error naming the step.
 */
import { relocTarget } from "../codegen/artifacts/check.js";
import { viewProgram } from "../codegen/artifacts/view.js";
import { HOST_FUNCTIONS } from "../codegen/host-ops/table.js";
import type { HostOperand, HostStep, Program, Step } from "../codegen/program.js";
import { ExitCode, PccxError, unsupported } from "../diag/index.js";
import { cFieldPrefix, compiledIsa } from "../isa/index.js";
import type { Target } from "../target/index.js";
import { portNames } from "./hal-header.js";
import { type AttrValue, attrValue, hostCallVars, hostSetsVar, hostSpec } from "./host-fns.js";
import { imageBytesOf, regionsOf } from "./regions.js";
import type { DriverOptions, ImageManifest, KvGeometry } from "./types.js";

export { REGION_KINDS } from "./regions.js";

export const DTYPES: readonly HostOperand["dtype"][] = ["f32", "bf16", "i32", "int4"];
const SEGMENT_KINDS = ["load", "prefill", "decode"] as const;
/** The pseudo-region of host inputs read from weights.bin itself (codegen's FILE_REGION). */
export const FILE_REGION = "offddr";
/** Its C region index (PCCX_FILE_REGION). */
export const FILE_REGION_INDEX = 0xffffffff;
const WAIT_KINDS = ["npu-idle", "dma", "host"] as const;
const STEP_KINDS = ["npu", "dma", "host", "wait"] as const;

export interface CRegion {
  readonly name: string;
  readonly offset: number;
  readonly bytes: number;
  readonly fileOffset: number;
  readonly kind: number;
  readonly image: boolean;
  readonly hash?: bigint;
}

export interface CStep {
  readonly kind: number;
  readonly port: number;
  readonly tag: number;
  readonly wait: number;
  readonly arg: number;
  readonly offset: number;
  readonly bytes: number;
  readonly comment: string;
}

export interface CReloc {
  readonly step: number;
  /** pccx_reloc_target code. */
  readonly target: number;
  /** C expressions (ISA macros for instruction fields). */
  readonly shift: string;
  readonly mask: string;
  readonly operand: number;
  readonly base: number;
  readonly min?: number;
  readonly max?: number;
  readonly termFirst: number;
  readonly termCount: number;
  readonly comment: string;
}

export interface CDvar {
  readonly variable: number;
  readonly role: number;
  readonly index: number;
  readonly window: number;
  readonly slots: number;
  readonly sink: number;
}

export interface COperand {
  readonly region: number;
  readonly dtype: number;
  readonly hasRows: boolean;
  readonly offset: number;
  readonly elements: number;
  readonly rows: number;
  readonly blockFirst: number;
  readonly blockCount: number;
}

export interface CAttr {
  readonly present: boolean;
  readonly num: number;
  readonly arrFirst: number;
  readonly arrCount: number;
}

export interface CHost {
  readonly fn: number;
  readonly nIn: number;
  readonly nOut: number;
  readonly opFirst: number;
  readonly attrFirst: number;
  readonly varFirst: number;
  readonly varCount: number;
  readonly comment: string;
}

export interface CSegment {
  readonly name: string;
  readonly kind: number;
  readonly firstStep: number;
  readonly stepCount: number;
  readonly maxPos?: number;
}

export interface CTables {
  readonly model: string;
  readonly target: string;
  readonly fingerprint: string;
  /** maxPos: Segment.maxPos (undefined: unbounded; negative: never replayed). */
  readonly segments: readonly CSegment[];
  readonly steps: readonly CStep[];
  readonly words: readonly { word: bigint; comment: string }[];
  readonly relocs: readonly CReloc[];
  readonly terms: readonly { variable: number; stride: number }[];
  readonly vars: readonly { name: string; setByHost: boolean }[];
  readonly dvars: readonly CDvar[];
  readonly regions: readonly CRegion[];
  readonly hosts: readonly CHost[];
  readonly operands: readonly COperand[];
  readonly attrs: readonly CAttr[];
  readonly attrArrays: readonly number[];
  readonly blocks: readonly number[];
  readonly hostVars: readonly number[];
  readonly prefillChunk: number;
  readonly logits: { region: number; offset: number; count: number; dtype: number };
  readonly vocab: number;
  readonly context: number;
  readonly imageBytes: number;
  readonly elemsPerWord: number;
}

/** Step comment: where it is, its layer and op, label and HF tensors. */
function stepComment(seg: string, i: number, s: Step): string {
  const o = s.origin;
  const parts = [`${seg}[${i}] ${s.kind}`];
  if (o.layer !== undefined) parts.push(`L${o.layer}`);
  if (o.op) parts.push(o.op);
  parts.push(o.label);
  if (o.tensors?.length) parts.push(`| ${o.tensors.join(", ")}`);
  if (s.kind === "host") parts.push(`| host ${s.fn}`);
  return parts.join(" ");
}

const TOKEN_I = /^token\[(\d+)\]$/;
const LAYER_VAR = /^(kv_len|kv_slot)\[(\d+)\]$/;

function driverVar(name: string, geo: KvGeometry): Omit<CDvar, "variable"> | undefined {
  const none = { index: 0, window: -1, slots: -1, sink: -1 };
  if (name === "pos") return { role: 0, ...none };
  if (name === "token") return { role: 1, ...none };
  if (name === "chunk_len") return { role: 3, ...none };
  const t = TOKEN_I.exec(name);
  if (t) return { role: 2, ...none, index: Number(t[1]) };
  const l = LAYER_VAR.exec(name);
  if (l) {
    return {
      role: l[1] === "kv_len" ? 4 : 5,
      index: 0,
      window: geo.window ?? -1,
      slots: geo.slots ?? -1,
      sink: geo.sink ?? -1,
    };
  }
  return undefined;
}

class Builder {
  readonly steps: CStep[] = [];
  readonly words: { word: bigint; comment: string }[] = [];
  readonly relocs: CReloc[] = [];
  readonly terms: { variable: number; stride: number }[] = [];
  readonly vars: { name: string; setByHost: boolean }[] = [];
  readonly varIndex = new Map<string, number>();
  readonly hosts: CHost[] = [];
  readonly operands: COperand[] = [];
  readonly attrs: CAttr[] = [];
  readonly attrArrays: number[] = [];
  readonly blocks: number[] = [];
  readonly hostVars: number[] = [];
  readonly regionIndex: Map<string, number>;
  readonly ports: string[];

  constructor(
    readonly p: Program,
    readonly t: Target,
    readonly manifest: ImageManifest | undefined,
  ) {
    this.regionIndex = new Map(p.ddr.map((r, i) => [r.name, i]));
    this.ports = portNames(t);
    for (const v of p.variables) this.variable(v.name, v.setBy === "host");
  }

  variable(name: string, setByHost: boolean): number {
    let i = this.varIndex.get(name);
    if (i === undefined) {
      i = this.vars.length;
      this.vars.push({ name, setByHost });
      this.varIndex.set(name, i);
    }
    return i;
  }

  region(name: string, where: string): number {
    const i = this.regionIndex.get(name);
    if (i === undefined)
      throw unsupported("stubs/unknown-region", `${where}: the program has no DDR region "${name}"`);
    return i;
  }

  port(name: string, where: string): number {
    const i = this.ports.indexOf(name);
    if (i < 0) {
      throw unsupported(
        "stubs/unknown-port",
        `${where}: target ${this.t.file.name} has no DataMover channel "${name}"`,
        {
          fix: `channels: ${this.ports.join(", ")}`,
        },
      );
    }
    return i;
  }

  host(step: HostStep, where: string): number {
    const spec = hostSpec(step, where);
    const operands = [...step.inputs, ...step.outputs];
    const opFirst = this.operands.length;
    operands.forEach((o, k) => {
      this.operand(o, `${where} operand ${k}`);
    });
    const attrFirst = this.attrs.length;
    for (const a of spec.attrs) {
      const v: AttrValue = attrValue(step, a.name, where);
      if (v && "arr" in v) {
        this.attrs.push({ present: true, num: 0, arrFirst: this.attrArrays.length, arrCount: v.arr.length });
        this.attrArrays.push(...v.arr);
      } else this.attrs.push({ present: v !== undefined, num: v?.num ?? 0, arrFirst: 0, arrCount: 0 });
    }
    const names = hostCallVars(step);
    const varFirst = this.hostVars.length;
    for (const n of names) this.hostVars.push(this.variable(n, hostSetsVar(step.fn, n)));
    this.hosts.push({
      fn: HOST_FUNCTIONS.indexOf(spec),
      nIn: step.inputs.length,
      nOut: step.outputs.length,
      opFirst,
      attrFirst,
      varFirst,
      varCount: names.length,
      comment: `${where}: ${step.fn}`,
    });
    return this.hosts.length - 1;
  }

  operand(o: HostOperand, where: string): void {
    const dtype = DTYPES.indexOf(o.dtype);
    if (dtype < 0) throw unsupported("stubs/host-dtype", `${where}: dtype ${o.dtype} has no C view`);
    const blocks = o.blocks ?? [];
    const inFile = o.region === FILE_REGION && !this.regionIndex.has(o.region);
    const offDdr = this.manifest?.image?.offDdr;
    if (inFile && !offDdr) {
      throw unsupported(
        "stubs/no-offddr",
        `${where}: the operand reads the off-DDR part of weights.bin, which the manifest does not locate`,
        {
          fix: "generate the driver with the weights.json manifest of the image (DriverOptions.manifest)",
        },
      );
    }
    this.operands.push({
      region: inFile ? FILE_REGION_INDEX : this.region(o.region, where),
      dtype,
      hasRows: o.rows !== undefined,
      offset: inFile ? offDdr!.fileOffset + o.offset : o.offset,
      elements: o.elements,
      rows: o.rows ?? 0,
      blockFirst: this.blocks.length,
      blockCount: blocks.length,
    });
    this.blocks.push(...blocks);
  }
}

function lowerStep(b: Builder, s: Step, comment: string, where: string, word: bigint | undefined): CStep {
  const base = { port: 0, tag: 0, wait: 0, arg: 0, offset: 0, bytes: 0, comment };
  switch (s.kind) {
    case "npu":
      if (word === undefined)
        throw new PccxError("stubs/no-word", ExitCode.INTERNAL, `${where}: no encoded word (a bug)`);
      b.words.push({ word, comment });
      return { ...base, kind: 0, arg: b.words.length - 1 };
    case "dma":
      return {
        ...base,
        kind: 1,
        port: b.port(s.port, where),
        tag: s.tag,
        arg: b.region(s.region, where),
        offset: s.offset,
        bytes: s.bytes,
      };
    case "host":
      return { ...base, kind: 2, arg: b.host(s, where) };
    case "wait": {
      const on = s.on;
      const w = { ...base, kind: 3, wait: WAIT_KINDS.indexOf(on.kind) };
      return on.kind === "dma" ? { ...w, port: b.port(on.port, where), tag: on.tag } : w;
    }
  }
}

const HOST_FIELD = /^(inputs|outputs)\[(\d+)\]\.(offset|elements)$/;

function lowerReloc(
  step: Step,
  globalStep: number,
  field: string,
  where: string,
): Omit<CReloc, "base" | "termFirst" | "termCount" | "comment"> {
  if (step.kind === "host") {
    const m = HOST_FIELD.exec(field);
    const k = m ? (m[1] === "inputs" ? 0 : step.inputs.length) + Number(m[2]) : -1;
    if (!m || k >= step.inputs.length + step.outputs.length) {
      throw unsupported("stubs/reloc-field", `${where}: host step has no relocatable field ${field}`);
    }
    return { step: globalStep, target: m[3] === "offset" ? 4 : 5, shift: "0", mask: "0", operand: k };
  }
  if (step.kind === "dma" && field === "tag")
    return { step: globalStep, target: 3, shift: "0", mask: "0", operand: 0 };
  const rt = relocTarget(step, field, compiledIsa());
  if (typeof rt === "string") throw unsupported("stubs/reloc-field", `${where}: ${rt}`);
  if (step.kind === "npu") {
    const prefix = cFieldPrefix({ mnemonic: step.instr.opcode }, field);
    return {
      step: globalStep,
      target: 0,
      shift: `${prefix}_SHIFT`,
      mask: `(uint64_t)${prefix}_MASK`,
      operand: 0,
    };
  }
  return { step: globalStep, target: field === "offset" ? 1 : 2, shift: "0", mask: "0", operand: 0 };
}

function logitsOf(p: Program, b: Builder, opts: DriverOptions): CTables["logits"] {
  const name = opts.logitsRegion ?? p.ddr.find((r) => r.kind === "logits")?.name;
  if (name === undefined) {
    throw unsupported(
      "stubs/no-logits",
      "the program has no DDR region of kind logits: the driver cannot sample tokens",
      {
        fix: "compile a program whose last steps store the logits (codegen), or pass logitsRegion",
      },
    );
  }
  const idx = b.region(name, "logits");
  let dtype = 1;
  for (const seg of p.segments) {
    for (const s of seg.steps) {
      if (s.kind === "dma" && s.port === "acp_result" && s.region === name) dtype = 1;
      if (s.kind === "host")
        for (const o of s.outputs) if (o.region === name) dtype = o.dtype === "f32" ? 0 : 1;
    }
  }
  const region = p.ddr[idx]!;
  const max = Math.floor(region.bytes / (dtype === 0 ? 4 : 2));
  const count = opts.vocab !== undefined ? Math.min(opts.vocab, max) : max;
  return { region: idx, offset: 0, count, dtype };
}

/** The C tables of a program for a target. */
export function buildTables(p: Program, t: Target, opts: DriverOptions = {}): CTables {
  const ext = Object.fromEntries(
    t.file.isa.cvo_functions.filter((c) => c.extension).map((c) => [c.name, c.code]),
  );
  const view = viewProgram(p, { cvoExtensions: ext });
  const b = new Builder(p, t, opts.manifest);
  const segments: CSegment[] = [];
  const relocsBySeg = new Map<string, Program["relocations"][number][]>();
  for (const r of p.relocations) relocsBySeg.set(r.segment, [...(relocsBySeg.get(r.segment) ?? []), r]);
  p.segments.forEach((seg, si) => {
    // maxPos is checked by viewProgram (codegen/artifacts/check.ts: any safe integer), the rule the
    // program files follow. A negative one means the segment is never replayed (a prefill chunk
    // longer than a shared sliding ring): the driver feeds the whole prompt through decode.
    const first = b.steps.length;
    segments.push({
      name: seg.name,
      kind: SEGMENT_KINDS.indexOf(seg.kind),
      firstStep: first,
      stepCount: seg.steps.length,
      ...(seg.maxPos !== undefined ? { maxPos: seg.maxPos } : {}),
    });
    seg.steps.forEach((s, i) => {
      const where = `segment ${seg.name} step ${i} (${s.origin.label})`;
      b.steps.push(lowerStep(b, s, stepComment(seg.name, i, s), where, view.npu[si]?.[i]?.word));
    });
    const relocs = [...(relocsBySeg.get(seg.name) ?? [])].sort((x, y) => x.step - y.step);
    for (const r of relocs) {
      const step = seg.steps[r.step];
      const where = `relocation of segment ${seg.name} step ${r.step} field ${r.field}`;
      if (!step) throw unsupported("stubs/reloc-step", `${where}: the segment has ${seg.steps.length} steps`);
      const termFirst = b.terms.length;
      for (const term of r.expr.terms)
        b.terms.push({ variable: b.variable(term.variable, false), stride: term.stride });
      const expr = `${r.expr.base}${r.expr.terms.map((x) => ` + ${x.stride}*${x.variable}`).join("")}`;
      b.relocs.push({
        ...lowerReloc(step, first + r.step, r.field, where),
        base: r.expr.base,
        ...(r.expr.min !== undefined ? { min: r.expr.min } : {}),
        ...(r.expr.max !== undefined ? { max: r.expr.max } : {}),
        termFirst,
        termCount: r.expr.terms.length,
        comment: `${seg.name}[${r.step}].${r.field} = ${expr}`,
      });
    }
  });
  // The driver always knows the position (host functions such as kv_write read it), declared or not.
  const dvars: CDvar[] = p.variables.some((v) => v.name === "pos" && v.setBy === "driver")
    ? []
    : [{ variable: b.variable("pos", false), ...driverVar("pos", {})! }];
  for (const v of p.variables) {
    if (v.setBy !== "driver") continue;
    const l = LAYER_VAR.exec(v.name);
    const geo = { ...(v as KvGeometry), ...(l ? opts.layers?.[Number(l[2])] : {}) };
    const d = driverVar(v.name, geo);
    if (!d) {
      throw unsupported(
        "stubs/unknown-variable",
        `the driver does not know how to set variable "${v.name}" (set by the driver)`,
        {
          fix: "use the driver variables of docs/program.md section 2 (pos, token, token[i], chunk_len, kv_len[l], kv_slot[l])",
        },
      );
    }
    dvars.push({ variable: b.varIndex.get(v.name)!, ...d });
  }
  const regions = regionsOf(p, opts);
  return {
    model: p.model,
    target: p.target,
    fingerprint: p.targetFingerprint,
    segments,
    steps: b.steps,
    words: b.words,
    relocs: b.relocs,
    terms: b.terms,
    vars: b.vars,
    dvars,
    regions,
    hosts: b.hosts,
    operands: b.operands,
    attrs: b.attrs,
    attrArrays: b.attrArrays,
    blocks: b.blocks,
    hostVars: b.hostVars,
    prefillChunk: Math.max(1, p.variables.filter((v) => TOKEN_I.test(v.name)).length),
    logits: logitsOf(p, b, opts),
    vocab: opts.vocab ?? 0,
    context: opts.context ?? 0,
    imageBytes: imageBytesOf(regions, opts),
    elemsPerWord: t.file.l2.word_bytes / 2,
  };
}

export { STEP_KINDS };
