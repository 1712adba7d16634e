/**
 * What every artifact writer needs from a `Program`, computed once: the 64-bit word and the
 * normalised decoded instruction of each NPU step (through src/isa, with the target's CVO extension
 * names), the flat list of NPU instructions in program order, and the consistency problems of the
 * program (`programProblems`). A program that fails here is a codegen bug: writers refuse it with an
 * internal error rather than write an artifact a reader would reject.
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import {
  type CompiledIsa,
  compiledIsa,
  decode,
  encode,
  type Instr,
  type IsaOptions,
} from "../../isa/index.js";
import { formatPath, type Target } from "../../target/index.js";
import type { NpuStep, Program } from "../program.js";
import { programProblems } from "./check.js";

export interface ArtifactOptions {
  /** Names of the target's CVO extension codes 0x8–0xF (e.g. { SILU: 8 }), recorded in the artifacts. */
  readonly cvoExtensions?: Readonly<Record<string, number>>;
  /** Segments whose NPU words go to program.memh and the pccx export (default: `defaultWordSegments`). */
  readonly wordSegments?: readonly string[];
}

/** One NPU instruction of the program, in program order. */
export interface InstructionRef {
  /** Position among all NPU words of the program (all segments, in order). */
  readonly index: number;
  readonly segment: string;
  readonly segmentIndex: number;
  readonly step: number;
  readonly word: bigint;
  readonly instr: Instr;
  readonly label: string;
}

export interface ProgramView {
  readonly program: Program;
  readonly isa: IsaOptions;
  readonly compiled: CompiledIsa;
  /** Sorted by code, then name: the form every artifact records. */
  readonly cvoExtensions: Readonly<Record<string, number>>;
  /** Per segment, per step: the NPU word and its decoded instruction (undefined for other kinds). */
  readonly npu: readonly (readonly (InstructionRef | undefined)[])[];
  readonly instructions: readonly InstructionRef[];
}

/** The CVO extension map in its canonical order (by code, then name). */
export function sortedExtensions(ext: Readonly<Record<string, number>> | undefined): Record<string, number> {
  const entries = Object.entries(ext ?? {}).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  return Object.fromEntries(entries);
}

/** The CVO extension names a target declares (`isa.cvo_functions` with `extension: true`). */
export function cvoExtensionsOf(target: Target): Record<string, number> {
  const ext = target.file.isa.cvo_functions.filter((f) => f.extension);
  return sortedExtensions(Object.fromEntries(ext.map((f) => [f.name, f.code])));
}

export function isaOptionsOf(cvoExtensions: Readonly<Record<string, number>>): IsaOptions {
  return Object.keys(cvoExtensions).length ? { cvoExtensions } : {};
}

const cache = new WeakMap<Program, Map<string, ProgramView>>();

/** Encode and check `program` (cached per program and extension set). Throws `artifacts/bad-program` (exit 70). */
export function viewProgram(program: Program, opts: ArtifactOptions = {}): ProgramView {
  const cvoExtensions = sortedExtensions(opts.cvoExtensions);
  const key = JSON.stringify(cvoExtensions);
  let byKey = cache.get(program);
  const hit = byKey?.get(key);
  if (hit) return hit;
  const isa = isaOptionsOf(cvoExtensions);
  const compiled = compiledIsa(isa);
  const instructions: InstructionRef[] = [];
  const npu = program.segments.map((seg, si) =>
    seg.steps.map((step, j) => {
      if (step.kind !== "npu") return undefined;
      const { word, instr } = encodeStep(step, isa, ["segments", si, "steps", j]);
      const ref: InstructionRef = {
        index: instructions.length,
        segment: seg.name,
        segmentIndex: si,
        step: j,
        word,
        instr,
        label: step.origin.label,
      };
      instructions.push(ref);
      return ref;
    }),
  );
  const problems = programProblems(program, compiled);
  if (problems.length) {
    const [first, ...rest] = problems;
    throw new PccxError(
      "artifacts/bad-program",
      ExitCode.INTERNAL,
      `the program is inconsistent at ${formatPath(first!.path)}: ${first!.message}`,
      {
        at: { jsonPath: formatPath(first!.path) },
        notes: rest.slice(0, 9).map((p) => `${formatPath(p.path)}: ${p.message}`),
        fix: "this is a bug in codegen (the program it produced breaks the contract of docs/program.md); please report it",
      },
    );
  }
  const view: ProgramView = { program, isa, compiled, cvoExtensions, npu, instructions };
  if (!byKey) {
    byKey = new Map();
    cache.set(program, byKey);
  }
  byKey.set(key, view);
  return view;
}

function encodeStep(
  step: NpuStep,
  isa: IsaOptions,
  path: (string | number)[],
): { word: bigint; instr: Instr } {
  try {
    const word = encode(step.instr, isa);
    return { word, instr: decode(word, "strict", isa) };
  } catch (e) {
    if (!(e instanceof PccxError)) throw e;
    const at = formatPath([...path, "instr"]);
    throw new PccxError("artifacts/bad-instruction", ExitCode.INTERNAL, `${at}: ${e.message}`, {
      at: { jsonPath: at },
      notes: [...e.notes],
      fix: "codegen produced an instruction the ISA table refuses (a bug); CVO extension names need the target's cvoExtensions",
    });
  }
}

/** Default segment set of program.memh and the pccx export: every `load` segment, then every `decode` one. */
export function defaultWordSegments(program: Program): string[] {
  const load = program.segments.filter((s) => s.kind === "load").map((s) => s.name);
  const decodeSegs = program.segments.filter((s) => s.kind === "decode").map((s) => s.name);
  return [...load, ...decodeSegs];
}
