/**
 * Reading program.json back into a `Program`: JSON syntax, then the zod schema, then what a schema
 * cannot say — every `word_hex` decodes (strictly, with the file's CVO extensions) to the step's
 * opcode and fields, step and instruction indices are positions, `instructions` and `summary` agree
 * with the steps, and the program is consistent (check.ts). Every failure is a PccxError (exit 2)
 * naming the JSON path.
 */
import { invalidInput, PccxError } from "../../diag/index.js";
import { compiledIsa, decode, type IsaOptions } from "../../isa/index.js";
import { formatPath, type PathSeg } from "../../target/index.js";
import { canonicalJson } from "../../util/json.js";
import type { HostOperand, NpuInstr, Origin, Program, Segment, Step } from "../program.js";
import { programProblems } from "./check.js";
import {
  type HostOperandJsonT,
  PROGRAM_JSON_KIND,
  PROGRAM_JSON_SCHEMA_VERSION,
  type ProgramJson,
  ProgramJsonSchema,
  type StepJsonT,
} from "./json-schema.js";
import { isaOptionsOf, sortedExtensions } from "./view.js";

/** A program read from an artifact, with what the artifact records beside the `Program`. */
export interface ProgramFile {
  readonly program: Program;
  readonly cvoExtensions: Readonly<Record<string, number>>;
  readonly compilerVersion: string;
}

export interface ReadOptions {
  /** File name used in error locations (default "program.json"). */
  readonly file?: string;
}

/** Validate program.json text and return the `Program` it holds. */
export function readProgramJson(text: string, opts: ReadOptions = {}): Program {
  return parseProgramJson(text, opts).program;
}

export function parseProgramJson(text: string, opts: ReadOptions = {}): ProgramFile {
  const file = opts.file ?? "program.json";
  const fail = (code: string, path: readonly PathSeg[], message: string, fix?: string, notes?: string[]) =>
    invalidInput(code, `${file} ${formatPath(path)}: ${message}`, {
      at: { file, jsonPath: formatPath(path) },
      ...(fix ? { fix } : {}),
      ...(notes?.length ? { notes } : {}),
    });

  const raw = parseJson(text, file);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw fail("artifacts/not-a-program", [], "expected a JSON object");
  }
  const r = raw as Record<string, unknown>;
  if (r.kind !== PROGRAM_JSON_KIND) {
    throw fail(
      "artifacts/not-a-program",
      ["kind"],
      `kind is ${JSON.stringify(r.kind)}, not "${PROGRAM_JSON_KIND}"`,
      "give the program.json a pccxc compile wrote (a pccx bring-up program is an export, not an input)",
    );
  }
  if (r.schema_version !== PROGRAM_JSON_SCHEMA_VERSION) {
    throw fail(
      "artifacts/schema-version",
      ["schema_version"],
      `schema_version ${JSON.stringify(r.schema_version)} is not supported (this pccxc reads ${PROGRAM_JSON_SCHEMA_VERSION})`,
      "recompile the model with this pccxc, or read the file with the pccxc version that wrote it",
    );
  }
  const parsed = ProgramJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    throw fail(
      "artifacts/program-json",
      first!.path as PathSeg[],
      first!.message,
      "the file does not match the program.json schema (pccxc schema program)",
      rest.slice(0, 9).map((i) => `${formatPath(i.path as PathSeg[])}: ${i.message}`),
    );
  }
  const pj = parsed.data;
  const cvoExtensions = sortedExtensions(pj.isa.cvo_extensions);
  const isa = isaOptionsOf(cvoExtensions);
  try {
    compiledIsa(isa);
  } catch (e) {
    if (e instanceof PccxError) throw fail(e.code, ["isa", "cvo_extensions"], e.message);
    throw e;
  }

  const segments = pj.segments.map(
    (seg, si): Segment => ({
      name: seg.name,
      kind: seg.kind,
      ...(seg.max_pos !== undefined ? { maxPos: seg.max_pos } : {}),
      steps: seg.steps.map((s, j) => {
        const path: PathSeg[] = ["segments", si, "steps", j];
        if (s.index !== j)
          throw fail(
            "artifacts/bad-index",
            [...path, "index"],
            `index ${s.index} should be ${j} (the step's position)`,
          );
        return stepFromJson(s, path, isa, fail);
      }),
    }),
  );
  const program: Program = {
    schemaVersion: 1,
    target: pj.target.name,
    targetFingerprint: pj.target.fingerprint,
    model: pj.model,
    segments,
    relocations: pj.relocations.map((x) => ({
      segment: x.segment,
      step: x.step,
      field: x.field,
      expr: {
        base: x.expr.base,
        terms: x.expr.terms.map((t) => ({ variable: t.variable, stride: t.stride })),
        ...(x.expr.min !== undefined ? { min: x.expr.min } : {}),
        ...(x.expr.max !== undefined ? { max: x.expr.max } : {}),
      },
    })),
    variables: pj.variables.map((v) => ({ name: v.name, doc: v.doc, setBy: v.set_by })),
    allocations: pj.allocations.map((a) => ({
      space: a.space,
      name: a.name,
      offset: a.offset,
      size: a.size,
      ...(a.segment !== undefined ? { segment: a.segment } : {}),
      ...(a.live !== undefined ? { live: [a.live[0], a.live[1]] as const } : {}),
    })),
    ddr: pj.ddr.map((d) => ({
      name: d.name,
      offset: d.offset,
      bytes: d.bytes,
      kind: d.kind,
      ...(d.port !== undefined ? { port: d.port } : {}),
    })),
    ...(pj.context !== undefined ? { context: pj.context } : {}),
  };

  const problems = programProblems(program, compiledIsa(isa));
  if (problems.length) {
    const [first, ...rest] = problems;
    throw fail(
      "artifacts/inconsistent",
      first!.path,
      first!.message,
      undefined,
      rest.slice(0, 9).map((p) => `${formatPath(p.path)}: ${p.message}`),
    );
  }
  checkInstructions(pj, fail);
  checkSummary(pj, fail);
  return { program, cvoExtensions, compilerVersion: pj.compiler.version };
}

type Fail = (
  code: string,
  path: readonly PathSeg[],
  message: string,
  fix?: string,
  notes?: string[],
) => PccxError;

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    const offset = m ? Number(m[1]) : text.length;
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - before.lastIndexOf("\n");
    throw invalidInput(
      "artifacts/json-syntax",
      `${file}:${line}:${column}: invalid JSON: ${(e as Error).message}`,
      {
        at: { file, line, column },
        fix: "the file is damaged or truncated: write it again with pccxc compile",
      },
    );
  }
}

function originFromJson(label: string, o: StepJsonT["origin"]): Origin {
  return {
    label,
    ...(o.op !== undefined ? { op: o.op } : {}),
    ...(o.layer !== undefined ? { layer: o.layer } : {}),
    ...(o.tensors !== undefined ? { tensors: [...o.tensors] } : {}),
  };
}

function stepFromJson(s: StepJsonT, path: PathSeg[], isa: IsaOptions, fail: Fail): Step {
  const origin = originFromJson(s.label, s.origin);
  switch (s.kind) {
    case "npu": {
      const word = BigInt(s.word_hex);
      const d = decode(word, "lenient", isa);
      if (!d.ok) {
        throw fail(
          d.problems[0]!.code,
          [...path, "word_hex"],
          `${s.word_hex}: ${d.problems.map((p) => p.message).join("; ")}`,
          "the word is not a valid pccx v002 instruction",
        );
      }
      if (d.instr.opcode !== s.opcode) {
        throw fail(
          "artifacts/word-mismatch",
          [...path, "opcode"],
          `opcode ${s.opcode} disagrees with word_hex ${s.word_hex} (${d.instr.opcode})`,
        );
      }
      const diff = fieldDiff(s.fields, d.instr.fields as Record<string, unknown>);
      if (diff)
        throw fail(
          "artifacts/word-mismatch",
          [...path, "fields", ...diff.path],
          `${diff.message} (word_hex ${s.word_hex})`,
          "fields and word_hex must describe the same instruction; correct one of them",
        );
      const instr: NpuInstr = { opcode: d.instr.opcode, fields: d.instr.fields as NpuInstr["fields"] };
      return {
        kind: "npu",
        instr,
        ...(s.intent !== undefined ? { intent: s.intent } : {}),
        ...(s.weight_segment !== undefined ? { weightSegment: s.weight_segment } : {}),
        origin,
      };
    }
    case "dma":
      return {
        kind: "dma",
        port: s.port,
        region: s.region,
        offset: s.offset,
        bytes: s.bytes,
        tag: s.tag,
        origin,
      };
    case "host":
      return {
        kind: "host",
        fn: s.fn,
        inputs: s.inputs.map(operandFromJson),
        outputs: s.outputs.map(operandFromJson),
        attrs: Object.fromEntries(
          Object.entries(s.attrs).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]),
        ),
        origin,
      };
    case "wait":
      return {
        kind: "wait",
        on: s.on.kind === "dma" ? { kind: "dma", port: s.on.port, tag: s.on.tag } : { kind: s.on.kind },
        origin,
      };
  }
}

function operandFromJson(o: HostOperandJsonT): HostOperand {
  return {
    region: o.region,
    offset: o.offset,
    elements: o.elements,
    dtype: o.dtype,
    ...(o.rows !== undefined ? { rows: o.rows } : {}),
    ...(o.blocks !== undefined ? { blocks: [...o.blocks] } : {}),
  };
}

/** Equal field values: numbers, names, or flags objects with the same bits. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k]);
}

function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameValue(a[k], b[k]));
}

/** The first difference between written fields and the word's decoded fields. */
function fieldDiff(
  given: Record<string, unknown>,
  decoded: Record<string, unknown>,
): { path: PathSeg[]; message: string } | undefined {
  for (const k of Object.keys(decoded)) {
    if (!(k in given)) return { path: [], message: `field ${k} is missing` };
    if (!sameValue(given[k], decoded[k])) {
      return {
        path: [k],
        message: `${k} is ${canonicalJson(given[k])} but the word holds ${canonicalJson(decoded[k])}`,
      };
    }
  }
  for (const k of Object.keys(given))
    if (!(k in decoded)) return { path: [k], message: `${k} is not a field of this opcode` };
  return undefined;
}

function checkInstructions(pj: ProgramJson, fail: Fail): void {
  let n = 0;
  for (const seg of pj.segments) {
    for (const s of seg.steps) {
      if (s.kind !== "npu") continue;
      const path: PathSeg[] = ["instructions", n];
      const ins = pj.instructions[n];
      if (!ins)
        throw fail(
          "artifacts/instructions",
          ["instructions"],
          `lists ${pj.instructions.length} words; the steps hold more`,
        );
      const want = {
        index: n,
        segment: seg.name,
        step: s.index,
        label: s.label,
        opcode: s.opcode,
        word_hex: s.word_hex,
      };
      for (const [k, v] of Object.entries(want)) {
        const got = (ins as Record<string, unknown>)[k];
        if (got !== v)
          throw fail(
            "artifacts/instructions",
            [...path, k],
            `${JSON.stringify(got)} should be ${JSON.stringify(v)} (segment ${seg.name} step ${s.index})`,
          );
      }
      if (!sameFields(ins.fields, s.fields)) {
        throw fail(
          "artifacts/instructions",
          [...path, "fields"],
          `differ from the fields of segment ${seg.name} step ${s.index}`,
        );
      }
      n++;
    }
  }
  if (pj.instructions.length !== n) {
    throw fail(
      "artifacts/instructions",
      ["instructions", n],
      `lists ${pj.instructions.length} words but the steps hold ${n}`,
    );
  }
}

function checkSummary(pj: ProgramJson, fail: Fail): void {
  const steps = pj.segments.flatMap((s) => s.steps);
  const count = (k: string) => steps.filter((s) => s.kind === k).length;
  const want = {
    segments: pj.segments.length,
    steps: steps.length,
    npu: count("npu"),
    dma: count("dma"),
    host: count("host"),
    wait: count("wait"),
    relocations: pj.relocations.length,
  };
  for (const [k, v] of Object.entries(want)) {
    const got = pj.summary[k as keyof typeof want];
    if (got !== v) throw fail("artifacts/summary", ["summary", k], `${got} should be ${v}`);
  }
}
