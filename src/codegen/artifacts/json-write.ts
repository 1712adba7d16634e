/**
 * program.json: the whole program as deterministic, pretty JSON (docs/artifacts.md). Keys are
 * written in a fixed order, snake_case; NPU steps carry their word and the fields src/isa decodes
 * from it (so a hand-written instruction appears normalised), and every NPU word is listed again
 * in `instructions`.
 */
import { formatWord, V002 } from "../../isa/index.js";
import { VERSION } from "../../version.js";
import type { HostOperand, Origin, Program, Step } from "../program.js";
import { PROGRAM_JSON_KIND, PROGRAM_JSON_SCHEMA_VERSION, type ProgramJson } from "./json-schema.js";
import { linesJson } from "./json-text.js";
import { type ArtifactOptions, type InstructionRef, type ProgramView, viewProgram } from "./view.js";

/** Arrays whose elements program.json writes one per line. */
const ONE_LINE = new Set(["steps", "instructions", "relocations", "variables", "ddr", "allocations"]);

/** program.json text of `program`. */
export function renderProgramJson(program: Program, opts: ArtifactOptions = {}): string {
  return programJsonText(viewProgram(program, opts));
}

export function programJsonText(view: ProgramView): string {
  return linesJson(programJson(view), ONE_LINE);
}

export function programJson(view: ProgramView): ProgramJson {
  const p = view.program;
  const steps = p.segments.flatMap((s) => s.steps);
  const count = (k: Step["kind"]) => steps.filter((s) => s.kind === k).length;
  return {
    schema_version: PROGRAM_JSON_SCHEMA_VERSION,
    kind: PROGRAM_JSON_KIND,
    compiler: { name: "pccxc", version: VERSION },
    target: { name: p.target, fingerprint: p.targetFingerprint },
    model: p.model,
    ...(p.context !== undefined ? { context: p.context } : {}),
    isa: { table: V002.name, word_bits: 64, cvo_extensions: { ...view.cvoExtensions } },
    summary: {
      segments: p.segments.length,
      steps: steps.length,
      npu: count("npu"),
      dma: count("dma"),
      host: count("host"),
      wait: count("wait"),
      relocations: p.relocations.length,
    },
    variables: p.variables.map((v) => ({ name: v.name, doc: v.doc, set_by: v.setBy })),
    ddr: p.ddr.map((r) => ({
      name: r.name,
      offset: r.offset,
      bytes: r.bytes,
      kind: r.kind,
      ...(r.port !== undefined ? { port: r.port } : {}),
    })),
    allocations: p.allocations.map((a) => ({
      space: a.space,
      name: a.name,
      offset: a.offset,
      size: a.size,
      ...(a.segment !== undefined ? { segment: a.segment } : {}),
      ...(a.live !== undefined ? { live: [a.live[0], a.live[1]] as [number, number] } : {}),
    })),
    segments: p.segments.map((seg, si) => ({
      name: seg.name,
      kind: seg.kind,
      ...(seg.maxPos !== undefined ? { max_pos: seg.maxPos } : {}),
      steps: seg.steps.map((step, j) => stepJson(step, j, view.npu[si]![j])),
    })),
    relocations: p.relocations.map((r) => ({
      segment: r.segment,
      step: r.step,
      field: r.field,
      expr: {
        base: r.expr.base,
        terms: r.expr.terms.map((t) => ({ variable: t.variable, stride: t.stride })),
        ...(r.expr.min !== undefined ? { min: r.expr.min } : {}),
        ...(r.expr.max !== undefined ? { max: r.expr.max } : {}),
      },
    })),
    instructions: view.instructions.map((ins) => ({
      index: ins.index,
      segment: ins.segment,
      step: ins.step,
      label: ins.label,
      opcode: ins.instr.opcode,
      word_hex: formatWord(ins.word),
      fields: fieldsJson(ins),
    })),
  };
}

function fieldsJson(ins: InstructionRef): ProgramJson["instructions"][number]["fields"] {
  return ins.instr.fields as ProgramJson["instructions"][number]["fields"];
}

// Built by assignment rather than spreads: a big program has tens of thousands of steps.
function originJson(o: Origin): ProgramJson["segments"][number]["steps"][number]["origin"] {
  const out: { op?: string; layer?: number; tensors?: string[] } = {};
  if (o.op !== undefined) out.op = o.op;
  if (o.layer !== undefined) out.layer = o.layer;
  if (o.tensors !== undefined) out.tensors = [...o.tensors];
  return out;
}

function operandJson(o: HostOperand) {
  const out: {
    region: string;
    offset: number;
    elements: number;
    dtype: HostOperand["dtype"];
    rows?: number;
    blocks?: number[];
  } = { region: o.region, offset: o.offset, elements: o.elements, dtype: o.dtype };
  if (o.rows !== undefined) out.rows = o.rows;
  if (o.blocks !== undefined) out.blocks = [...o.blocks];
  return out;
}

type StepJsonOut = ProgramJson["segments"][number]["steps"][number];

function stepJson(step: Step, index: number, npu: InstructionRef | undefined): StepJsonOut {
  const base = { index, label: step.origin.label, origin: originJson(step.origin) };
  switch (step.kind) {
    case "npu": {
      const out: StepJsonOut & { kind: "npu" } = {
        ...base,
        kind: "npu",
        opcode: npu!.instr.opcode,
        word_hex: formatWord(npu!.word),
        fields: fieldsJson(npu!),
      };
      if (step.intent !== undefined) out.intent = step.intent;
      if (step.weightSegment !== undefined) out.weight_segment = step.weightSegment;
      return out;
    }
    case "dma":
      return {
        ...base,
        kind: "dma",
        port: step.port,
        region: step.region,
        offset: step.offset,
        bytes: step.bytes,
        tag: step.tag,
      };
    case "host":
      return {
        ...base,
        kind: "host",
        fn: step.fn,
        inputs: step.inputs.map(operandJson),
        outputs: step.outputs.map(operandJson),
        attrs: Object.fromEntries(
          Object.keys(step.attrs)
            .sort()
            .map((k) => {
              const v = step.attrs[k]!;
              return [k, Array.isArray(v) ? [...v] : v];
            }),
        ) as Record<string, number | string | boolean | number[]>,
      };
    case "wait":
      return {
        ...base,
        kind: "wait",
        on:
          step.on.kind === "dma"
            ? { kind: "dma", port: step.on.port, tag: step.on.tag }
            : { kind: step.on.kind },
      };
  }
}
