/**
 * Export for the pccx bring-up tools: the program JSON they read (`kind`
 * "pccx_v002_runtime_smoke_program", schema_version 1 — the format of the pccx project's
 * runtime smoke-program generator, consumed by tools/v002/generate_driver_handoff.py of
 * pccxai/pccx-FPGA-NPU-LLM-kv260) and its .memh, agreeing word for word. Field formats follow
 * the pccx generator exactly: `word_hex` 0x + 16 hex digits, `body_hex` 0x + 15 hex digits (the
 * word without its opcode), `fields` the raw integer of every table field (reserved ones
 * included), keys sorted, Python `json.dumps(indent=2, sort_keys=True)` layout.
 */
import { readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { invalidInput, ioError } from "../../diag/index.js";
import { formatWord, V002 } from "../../isa/index.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { VERSION } from "../../version.js";
import type { Program } from "../program.js";
import { parseProgramJson } from "./json-read.js";
import { pythonJson } from "./json-text.js";
import { memhText, selectWords, type WordSelection } from "./memh.js";
import { type ArtifactOptions, type InstructionRef, type ProgramView, viewProgram } from "./view.js";

export const PCCX_PROGRAM_KIND = "pccx_v002_runtime_smoke_program";

export interface PccxExport {
  /** The program JSON text. */
  readonly json: string;
  /** The .memh text with the same words in the same order. */
  readonly memh: string;
  readonly selection: WordSelection;
}

export interface PccxExportOptions extends ArtifactOptions {
  /** File name of the .memh recorded in the JSON's `artifacts.memh` (default "pccx-program.memh"). */
  readonly memhName?: string;
}

/** Raw integer of every field of the word's opcode, reserved fields included, keyed by field name. */
export function rawFields(view: ProgramView, ins: InstructionRef): Record<string, number> {
  const op = view.compiled.byMnemonic.get(ins.instr.opcode)!;
  const out: Record<string, number> = {};
  for (const f of op.fields)
    out[f.name] = Number((ins.word >> BigInt(f.lsb)) & ((1n << BigInt(f.width)) - 1n));
  return out;
}

export function pccxInstruction(view: ProgramView, ins: InstructionRef, index: number) {
  const bodyBits = view.compiled.table.opcode.lsb;
  const body = ins.word & ((1n << BigInt(bodyBits)) - 1n);
  return {
    index,
    label: ins.label,
    opcode: ins.instr.opcode,
    opcode_value: view.compiled.byMnemonic.get(ins.instr.opcode)!.code,
    word_hex: formatWord(ins.word),
    body_hex: `0x${body.toString(16).padStart(bodyBits / 4, "0")}`,
    fields: rawFields(view, ins),
    segment: ins.segment,
    step: ins.step,
  };
}

/** The pccx program JSON and .memh of `program`'s chosen segments. */
export function renderPccxProgram(program: Program, opts: PccxExportOptions = {}): PccxExport {
  const view = viewProgram(program, opts);
  const selection = selectWords(view, opts.wordSegments);
  if (selection.instructions.length === 0) {
    throw invalidInput(
      "artifacts/export-empty",
      `segments ${selection.segments.join(", ") || "(none)"} hold no NPU instruction`,
      {
        fix: "the pccx tools need a non-empty program: choose segments with NPU steps (--segments)",
      },
    );
  }
  const p = view.program;
  const doc = {
    schema_version: 1,
    kind: PCCX_PROGRAM_KIND,
    preset: `pccxc:${p.model}`,
    not_hardware_execution: true,
    claim_boundary: {
      kv260_inference_success: false,
      gemma3n_e4b_hardware_execution: false,
      timing_closed: false,
      tokens_per_second_achieved: null,
    },
    target: {
      architecture: V002.name.replace("-", " "),
      isa_width_bits: V002.wordBits,
      name: p.target,
      fingerprint: p.targetFingerprint,
    },
    source: { generator: "pccxc", version: VERSION, model: p.model, segments: [...selection.segments] },
    artifacts: { memh: opts.memhName ?? "pccx-program.memh" },
    instructions: selection.instructions.map((ins, i) => pccxInstruction(view, ins, i)),
  };
  return { json: pythonJson(doc), memh: memhText(view, selection), selection };
}

export interface ExportFilesOptions {
  /** The program JSON path (default `<dir>/pccx-program.json`); the .memh goes beside it. */
  readonly file?: string;
  readonly segments?: readonly string[];
}

export interface ExportedFiles {
  readonly json: string;
  readonly memh: string;
  readonly instructions: number;
  readonly segments: readonly string[];
}

/** The .memh path beside a program JSON path: `x.json` → `x.memh`, otherwise `x` → `x.memh`. */
export function memhPathFor(jsonPath: string): string {
  return extname(jsonPath).toLowerCase() === ".json" ? `${jsonPath.slice(0, -5)}.memh` : `${jsonPath}.memh`;
}

/** Read `<dir>/program.json` and write the pccx program JSON and its .memh. */
export async function exportPccxProgramFiles(
  dir: string,
  opts: ExportFilesOptions = {},
): Promise<ExportedFiles> {
  const src = join(dir, "program.json");
  let text: string;
  try {
    text = await readFile(src, "utf8");
  } catch (e) {
    throw ioError("artifacts/read-failed", `cannot read ${src}: ${(e as Error).message}`, {
      fix: "give the output directory of pccxc compile (it holds program.json)",
    });
  }
  const file = parseProgramJson(text, { file: src });
  const json = opts.file ?? join(dir, "pccx-program.json");
  const memh = memhPathFor(json);
  const out = renderPccxProgram(file.program, {
    cvoExtensions: file.cvoExtensions,
    ...(opts.segments ? { wordSegments: opts.segments } : {}),
    memhName: basename(memh),
  });
  for (const [path, data] of [
    [json, out.json],
    [memh, out.memh],
  ] as const) {
    try {
      await writeFileAtomic(path, data);
    } catch (e) {
      throw ioError("artifacts/write-failed", `cannot write ${path}: ${(e as Error).message}`);
    }
  }
  return { json, memh, instructions: out.selection.instructions.length, segments: out.selection.segments };
}
