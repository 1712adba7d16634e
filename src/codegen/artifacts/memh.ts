/**
 * program.memh: the NPU words of a chosen segment set, for the pccx RTL testbenches ($readmemh:
 * one 16-digit lower-case hex word per line). Written by src/isa's memh writer: comment lines first
 * (what the file holds), then a `// <segment>:` label line before each segment's first word, which
 * src/isa's reader (and `pccxc isa disasm`) turns back into labels. Relocated fields hold the value
 * codegen stored; the driver patches them per token (program.lst marks them).
 */
import { invalidInput } from "../../diag/index.js";
import { formatMemh } from "../../isa/index.js";
import { VERSION } from "../../version.js";
import type { Program } from "../program.js";
import {
  type ArtifactOptions,
  defaultWordSegments,
  type InstructionRef,
  type ProgramView,
  viewProgram,
} from "./view.js";

export interface WordSelection {
  readonly segments: readonly string[];
  /** The instructions of those segments, in selection order, then step order. */
  readonly instructions: readonly InstructionRef[];
}

const LABEL_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** The NPU instructions of `segments` (default: every load segment, then every decode segment). */
export function selectWords(view: ProgramView, segments?: readonly string[]): WordSelection {
  const names = segments ?? defaultWordSegments(view.program);
  const known = view.program.segments.map((s) => s.name);
  const seen = new Set<string>();
  for (const n of names) {
    if (!known.includes(n)) {
      throw invalidInput("artifacts/unknown-segment", `the program has no segment "${n}"`, {
        fix: `choose among ${known.join(", ")}`,
      });
    }
    if (seen.has(n)) throw invalidInput("artifacts/unknown-segment", `segment "${n}" is chosen twice`);
    seen.add(n);
  }
  const instructions = names.flatMap((n) => view.instructions.filter((i) => i.segment === n));
  return { segments: names, instructions };
}

/** The .memh text of a selection (labels are segment names, when they are valid label names). */
export function memhText(view: ProgramView, sel: WordSelection): string {
  const p = view.program;
  const header = [
    `pccxc ${VERSION} program.memh: ${sel.instructions.length} NPU words of ${p.model} for ${p.targetFingerprint}`,
    `segments, in order: ${sel.segments.join(", ") || "(none)"}; relocated fields hold codegen's stored values`,
  ];
  const labels: { name: string; index: number }[] = [];
  let index = 0;
  for (const name of sel.segments) {
    const n = sel.instructions.filter((i) => i.segment === name).length;
    header.push(`segment ${name}: ${n ? `words ${index}..${index + n - 1} (${n})` : "no NPU words"}`);
    if (LABEL_RE.test(name)) labels.push({ name, index });
    index += n;
  }
  return formatMemh(
    sel.instructions.map((i) => i.word),
    { header, labels },
  );
}

/** program.memh text of `program` (segments from `opts.wordSegments`, default load then decode). */
export function renderProgramMemh(program: Program, opts: ArtifactOptions = {}): string {
  const view = viewProgram(program, opts);
  return memhText(view, selectWords(view, opts.wordSegments));
}
