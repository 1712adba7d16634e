/**
 * All program artifacts at once: rendered in a fixed order from one encoded view of the program
 * (each NPU word is encoded once), then written through an `AtomicDir`-like sink. Same program and
 * options → byte-identical files.
 */
import { sha256Hex } from "../../util/hash.js";
import type { Program } from "../program.js";
import { encodeView } from "./bin-write.js";
import { programJsonText } from "./json-write.js";
import { listingText } from "./listing.js";
import { memhText, selectWords } from "./memh.js";
import { renderTraceIndexJson } from "./trace.js";
import { type ArtifactOptions, viewProgram } from "./view.js";

/** The file names writeProgramArtifacts writes, in order. */
export const PROGRAM_ARTIFACTS = [
  "program.json",
  "program.bin",
  "program.memh",
  "program.lst",
  "trace-index.json",
] as const;
export type ProgramArtifactName = (typeof PROGRAM_ARTIFACTS)[number];

/** Where artifacts go: `AtomicDir` fits (`write(rel, data)`). */
export interface ArtifactSink {
  write(rel: string, data: string | Uint8Array): Promise<void>;
}

export interface WrittenArtifact {
  readonly name: ProgramArtifactName;
  readonly bytes: number;
  readonly sha256: string;
}

/** Every artifact's content, keyed by file name, in PROGRAM_ARTIFACTS order. */
export function renderProgramArtifacts(
  program: Program,
  opts: ArtifactOptions = {},
): Map<ProgramArtifactName, string | Uint8Array> {
  const view = viewProgram(program, opts);
  return new Map<ProgramArtifactName, string | Uint8Array>([
    ["program.json", programJsonText(view)],
    ["program.bin", encodeView(view)],
    ["program.memh", memhText(view, selectWords(view, opts.wordSegments))],
    ["program.lst", listingText(view)],
    ["trace-index.json", renderTraceIndexJson(program)],
  ]);
}

/** Write every artifact of `program` into `dir`; returns their names, sizes and sha256. */
export async function writeProgramArtifacts(
  program: Program,
  dir: ArtifactSink,
  opts: ArtifactOptions = {},
): Promise<WrittenArtifact[]> {
  const out: WrittenArtifact[] = [];
  for (const [name, data] of renderProgramArtifacts(program, opts)) {
    await dir.write(name, data);
    const bytes = typeof data === "string" ? Buffer.byteLength(data) : data.length;
    out.push({ name, bytes, sha256: sha256Hex(data) });
  }
  return out;
}
