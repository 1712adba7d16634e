/**
 * manifest.json: what a compile read and wrote, by sha256 — every input (config, generation config,
 * safetensors files and index, target file, plugins) and every output file — with the compiler
 * version, the target fingerprint and the settings. No timestamps and no absolute paths, so two
 * compiles of the same inputs give the same bytes.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, isAbsolute, join, relative, sep } from "node:path";
import { ioError } from "../diag/index.js";
import type { Logger } from "../diag/log.js";

export const MANIFEST_FORMAT = "pccxc-manifest";
export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";

export interface FileDigest {
  /** Path relative to the model directory / output directory, with "/" separators. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface InputDigest extends FileDigest {
  readonly role: "config" | "generation-config" | "weights" | "weights-index" | "target" | "plugin" | "other";
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: typeof MANIFEST_VERSION;
  readonly compiler: { readonly name: "pccxc"; readonly version: string };
  readonly model: {
    readonly label: string;
    readonly origin:
      | { readonly kind: "dir" }
      | { readonly kind: "hf-cache"; readonly repo: string; readonly revision: string; readonly sha: string };
  };
  readonly target: {
    readonly name: string;
    readonly fingerprint: string;
    readonly hash: string;
    readonly file: string;
  };
  readonly settings: Readonly<Record<string, string | number | boolean | null>>;
  /** Stages that ran, in order. */
  readonly stages: readonly string[];
  readonly inputs: readonly InputDigest[];
  /** Every file of the output directory except manifest.json, sorted by path. */
  readonly outputs: readonly FileDigest[];
}

/** sha256 and size of a file, streamed (memory does not grow with the file). */
export async function digestFile(file: string, logger?: Logger): Promise<{ bytes: number; sha256: string }> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw ioError("pipeline/unreadable", `cannot read ${file}: ${(e as Error).message}`, { at: { file } });
  }
  const h = createHash("sha256");
  const bar = size > 64 << 20 && logger ? logger.progress(`hashing ${basename(file)}`, size) : undefined;
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) {
    h.update(chunk as Buffer);
    bar?.tick((chunk as Buffer).length);
  }
  bar?.done();
  return { bytes: size, sha256: h.digest("hex") };
}

/** A display path for a file given on the command line: relative to cwd when inside it, else its name. */
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  const shown = rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : basename(file);
  return shown.split(sep).join("/");
}

export function roleOf(name: string): InputDigest["role"] {
  if (name === "config.json") return "config";
  if (name === "generation_config.json") return "generation-config";
  if (name.endsWith(".safetensors.index.json")) return "weights-index";
  if (name.endsWith(".safetensors")) return "weights";
  return "other";
}

/** Every file under `dir` (recursively), relative "/"-separated paths, sorted. */
export async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

/** Digests of every output file (manifest.json excluded). */
export async function digestOutputs(dir: string): Promise<FileDigest[]> {
  const out: FileDigest[] = [];
  for (const path of await listFiles(dir)) {
    if (path === MANIFEST_FILE) continue;
    out.push({ path, ...(await digestFile(join(dir, path))) });
  }
  return out;
}
