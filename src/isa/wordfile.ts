/**
 * Program files: `.memh`, the $readmemh text the pccx RTL testbenches read (one 16-digit lower-case
 * hex word per line, no 0x), and `.bin`, raw little-endian 64-bit words. The .memh reader also
 * accepts `//` comments, blank lines and upper-case digits; a comment that is exactly `// name:`
 * records a label (the writer emits them, so labels survive asm → memh → disasm). Anything else is
 * an error at its line.
 */
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { invalidInput, ioError, type SourceLoc, usageError } from "../diag/index.js";
import { writeFileAtomic } from "../util/atomic.js";
import type { AsmLabel } from "./asm.js";
import { toWordArray } from "./words.js";

export type WordFormat = "memh" | "bin";

export interface WordFile {
  readonly words: BigUint64Array;
  readonly labels: readonly AsmLabel[];
  /** Where word `index` came from: its line (memh) or byte offset (bin). */
  at(index: number): SourceLoc;
}

const HEX_WORD = /^[0-9a-fA-F]{16}$/;
const LABEL_COMMENT = /^([A-Za-z_][A-Za-z0-9_.]*):$/;

export interface MemhWriteOptions {
  readonly labels?: readonly AsmLabel[];
  /** Comment lines written first (each prefixed with `// `). */
  readonly header?: readonly string[];
}

/** The comment `isa asm` writes first in a .memh: names the source (by base name, so it is stable). */
export function memhHeaderFor(sourcePath: string): string[] {
  return [`assembled by pccxc from ${basename(sourcePath)}`];
}

/** .memh text: one word per line, label comments before the word they name. */
export function formatMemh(words: readonly bigint[] | BigUint64Array, opts: MemhWriteOptions = {}): string {
  const ws = toWordArray(words);
  const out = (opts.header ?? []).map((h) => `// ${h}`);
  const labels = [...(opts.labels ?? [])];
  let li = 0;
  for (let i = 0; i <= ws.length; i++) {
    while (li < labels.length && labels[li]!.index === i) out.push(`// ${labels[li++]!.name}:`);
    if (i < ws.length) out.push(ws[i]!.toString(16).padStart(16, "0"));
  }
  return out.length ? `${out.join("\n")}\n` : "";
}

export function parseMemh(text: string, file = "<memh>"): WordFile {
  const words: bigint[] = [];
  const lines: number[] = [];
  const labels: AsmLabel[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const c = raw.indexOf("//");
    const body = (c >= 0 ? raw.slice(0, c) : raw).trim();
    const label = c >= 0 ? LABEL_COMMENT.exec(raw.slice(c + 2).trim()) : null;
    if (label && !body) labels.push({ name: label[1]!, index: words.length });
    if (!body) return;
    if (!HEX_WORD.test(body)) {
      throw invalidInput("isa/memh-syntax", `"${body}" is not a 64-bit word of 16 hex digits`, {
        at: { file, line: i + 1, column: raw.indexOf(body) + 1 },
        fix: "write one word per line as 16 hex digits without 0x (e.g. 3030001000100090); comments start with //",
      });
    }
    words.push(BigInt(`0x${body}`));
    lines.push(i + 1);
  });
  return { words: BigUint64Array.from(words), labels, at: (index) => ({ file, line: lines[index] }) };
}

/** Raw little-endian 64-bit words. */
export function formatBin(words: readonly bigint[] | BigUint64Array): Uint8Array {
  const ws = toWordArray(words);
  const out = new Uint8Array(ws.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < ws.length; i++) view.setBigUint64(i * 8, ws[i]!, true);
  return out;
}

export function parseBin(bytes: Uint8Array, file = "<bin>"): WordFile {
  if (bytes.length % 8 !== 0) {
    throw invalidInput("isa/bin-length", `${bytes.length} bytes is not a whole number of 64-bit words`, {
      at: { file, byteOffset: bytes.length - (bytes.length % 8) },
      fix: "a .bin program holds 8 bytes per instruction word; the file may be truncated",
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const words = new BigUint64Array(bytes.length / 8);
  for (let i = 0; i < words.length; i++) words[i] = view.getBigUint64(i * 8, true);
  return { words, labels: [], at: (index) => ({ file, byteOffset: index * 8 }) };
}

/** The format a path's extension names (.memh/.hex → memh, .bin → bin), if any. */
export function formatFromPath(path: string): WordFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === ".memh" || ext === ".hex" || ext === ".mem") return "memh";
  if (ext === ".bin") return "bin";
  return undefined;
}

export function resolveFormat(path: string, given: string | undefined): WordFormat {
  if (given === "memh" || given === "bin") return given;
  if (given !== undefined) {
    throw usageError("isa/bad-format", `unknown format "${given}"`, {
      fix: "use --format memh or --format bin",
    });
  }
  const f = formatFromPath(path);
  if (f) return f;
  throw usageError("isa/bad-format", `cannot tell the format of ${path} from its extension`, {
    fix: "name it .memh or .bin, or pass --format memh|bin",
  });
}

/** Read a program; `name` (default: `path`) is the file name used in error locations. */
export async function readWordFile(path: string, format: WordFormat, name = path): Promise<WordFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw ioError("isa/read-failed", `cannot read ${name}: ${(e as Error).message}`);
  }
  return format === "bin" ? parseBin(bytes, name) : parseMemh(new TextDecoder().decode(bytes), name);
}

/** Write a program atomically (a failed write leaves no partial file). */
export async function writeWordFile(
  path: string,
  words: readonly bigint[] | BigUint64Array,
  format: WordFormat,
  opts: MemhWriteOptions = {},
): Promise<void> {
  const data = format === "bin" ? formatBin(words) : formatMemh(words, opts);
  try {
    await writeFileAtomic(path, data);
  } catch (e) {
    throw ioError("isa/write-failed", `cannot write ${path}: ${(e as Error).message}`);
  }
}
