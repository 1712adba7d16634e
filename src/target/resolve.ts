/**
 * Reading target files and resolving `extends`: a file may name a base target and state only what
 * differs. Objects merge key by key; arrays whose items all have a `name` merge item by item (new
 * names are appended); any other value replaces the base's. Every leaf remembers the file that
 * wrote it, and every `sources` entry the file that declared it, for provenance and source checks.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { invalidInput, ioError } from "../diag/index.js";
import { formatPath, isPlainObject, leaves, type PathSeg } from "./json-path.js";
import { parseJsonText } from "./json-text.js";

/** One target file as read: a label for messages, its text (for line numbers) and its JSON. */
export interface TargetText {
  readonly label: string;
  readonly path: string;
  readonly text: string;
}

/** The merged JSON of a file and its bases, before validation. */
export interface ResolvedRaw {
  readonly raw: Record<string, unknown>;
  /** Formatted leaf path -> label of the file that wrote the leaf. */
  readonly origins: Map<string, string>;
  /** `sources` key -> label of the file that declared it. */
  readonly sourceOrigins: Map<string, string>;
  /** Files by label, top file first (for locating errors). */
  readonly files: Map<string, TargetText>;
  /** Per file: merged path -> path in that file, for named-array items that landed elsewhere. */
  readonly moved: Map<string, Map<string, string>>;
  /** Label of the file that was asked for. */
  readonly top: string;
}

const MAX_EXTENDS_DEPTH = 8;

export function builtinTargetsDir(): string {
  return fileURLToPath(new URL("../../targets/", import.meta.url));
}

/** A file label: `targets/<name>.json` for built-ins, else the path relative to cwd when inside it. */
export function labelFor(path: string, cwd: string): string {
  const rel = relative(builtinTargetsDir(), path);
  if (!rel.startsWith("..") && !isAbsolute(rel)) return `targets/${rel}`;
  const relCwd = relative(cwd, path);
  return !relCwd.startsWith("..") && !isAbsolute(relCwd) ? relCwd : path;
}

export function readTargetText(path: string, label: string): TargetText {
  try {
    return { label, path, text: readFileSync(path, "utf8") };
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw ioError("target/read", `cannot read target file ${label}: ${why}`, {
      at: { file: label },
      fix: "check the path, or use a built-in target name (pccxc targets list)",
    });
  }
}

export type BaseLocator = (ref: string, fromDir: string) => { path: string; label: string };

/** Read `file` and its chain of bases and merge them. */
export function resolveTargetFile(file: TargetText, locateBase: BaseLocator): ResolvedRaw {
  const files = new Map<string, TargetText>();
  const moved = new Map<string, Map<string, string>>();
  const out = resolveRec(file, locateBase, files, moved, []);
  return { ...out, files, moved, top: file.label };
}

function resolveRec(
  file: TargetText,
  locateBase: BaseLocator,
  files: Map<string, TargetText>,
  moved: Map<string, Map<string, string>>,
  seen: string[],
): Omit<ResolvedRaw, "files" | "moved" | "top"> {
  if (seen.includes(file.path)) {
    throw invalidInput("target/extends-cycle", `target files extend each other in a cycle: ${file.label}`, {
      at: { file: file.label, jsonPath: "$.extends" },
      notes: seen.map((p) => `via ${p}`),
      fix: "break the cycle: a base target must not extend the files built on it",
    });
  }
  if (seen.length >= MAX_EXTENDS_DEPTH)
    throw invalidInput("target/extends-depth", `more than ${MAX_EXTENDS_DEPTH} levels of extends`, {
      at: { file: file.label, jsonPath: "$.extends" },
    });
  files.set(file.label, file);
  const json = parseJsonText(file.text, file.label);
  if (!isPlainObject(json))
    throw invalidInput("target/invalid", `${file.label} at $: expected a JSON object`, {
      at: { file: file.label },
    });
  const { sources, ...own } = json;
  const ownSources = isPlainObject(sources) ? sources : {};
  if (sources !== undefined && !isPlainObject(sources))
    throw invalidInput("target/invalid", `${file.label} at $.sources: expected an object of strings`, {
      at: { file: file.label, jsonPath: "$.sources" },
    });
  const ext = own.extends;
  if (ext === undefined) {
    const origins = new Map<string, string>();
    markLeaves(own, [], file.label, origins);
    const sourceOrigins = new Map(Object.keys(ownSources).map((k) => [k, file.label] as const));
    return { raw: { ...own, sources: { ...ownSources } }, origins, sourceOrigins };
  }
  if (typeof ext !== "string" || ext.length === 0)
    throw invalidInput("target/invalid", `${file.label} at $.extends: expected a target name or path`, {
      at: { file: file.label, jsonPath: "$.extends" },
    });
  if (typeof own.name !== "string")
    throw invalidInput(
      "target/invalid",
      `${file.label} at $.name: a file that extends another needs its own name`,
      {
        at: { file: file.label, jsonPath: "$.name" },
        fix: 'add "name": "<your-target-name>"',
      },
    );
  const loc = locateBase(ext, dirname(file.path));
  const base = resolveRec(readTargetText(loc.path, loc.label), locateBase, files, moved, [
    ...seen,
    file.path,
  ]);
  const ctx: MergeContext = { label: file.label, origins: base.origins, moved: new Map() };
  const merged = mergeValue(base.raw, own, [], [], ctx) as Record<string, unknown>;
  const sourceOrigins = new Map(base.sourceOrigins);
  const mergedSources = { ...(base.raw.sources as Record<string, unknown>) };
  for (const [k, v] of Object.entries(ownSources)) {
    const key = toMergedPath(k, ctx.moved);
    mergedSources[key] = v;
    sourceOrigins.set(key, file.label);
  }
  merged.sources = mergedSources;
  moved.set(file.label, new Map([...ctx.moved].map(([from, to]) => [to, from])));
  return { raw: merged, origins: ctx.origins, sourceOrigins };
}

function markLeaves(v: unknown, path: PathSeg[], label: string, origins: Map<string, string>): void {
  for (const [segs] of leaves(v, path)) origins.set(formatPath(segs), label);
}

/** Forget the origins of `path` and everything under it. */
export function clearUnder(path: PathSeg[], origins: Map<string, string>): void {
  const p = formatPath(path);
  for (const k of [...origins.keys()]) {
    if (k === p || k.startsWith(`${p}.`) || k.startsWith(`${p}[`)) origins.delete(k);
  }
}

const isNamedArray = (v: unknown): v is Array<Record<string, unknown> & { name: string }> =>
  Array.isArray(v) && v.every((x) => isPlainObject(x) && typeof x.name === "string");

interface MergeContext {
  readonly label: string;
  readonly origins: Map<string, string>;
  /** Child-file path -> merged path, for items of named arrays that moved (e.g. appended). */
  readonly moved: Map<string, string>;
}

/** Merge `child` (at `childPath` in its file) over `base` at `path` in the merged target. */
function mergeValue(
  base: unknown,
  child: unknown,
  path: PathSeg[],
  childPath: PathSeg[],
  ctx: MergeContext,
): unknown {
  if (isPlainObject(base) && isPlainObject(child)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(child))
      out[k] = mergeValue(base[k], v, [...path, k], [...childPath, k], ctx);
    return out;
  }
  if (isNamedArray(base) && isNamedArray(child) && child.length > 0) {
    const out: unknown[] = [...base];
    child.forEach((item, j) => {
      const i = base.findIndex((b) => b.name === item.name);
      const at = i >= 0 ? i : out.length;
      if (at !== j) ctx.moved.set(formatPath([...childPath, j]), formatPath([...path, at]));
      out[at] = mergeValue(i >= 0 ? base[i] : undefined, item, [...path, at], [...childPath, j], ctx);
    });
    return out;
  }
  clearUnder(path, ctx.origins);
  markLeaves(child, path, ctx.label, ctx.origins);
  return child;
}

/**
 * A `sources` key of a file that extends another names a value in that file; where a named-array
 * item landed elsewhere in the merged target (e.g. appended after the base's items), rewrite it.
 */
function toMergedPath(key: string, moved: ReadonlyMap<string, string>): string {
  return replacePrefix(key, moved);
}

/** `key` with its longest prefix found in `map` (a whole path step) replaced by the mapped value. */
export function replacePrefix(key: string, map: ReadonlyMap<string, string>): string {
  let best = "";
  for (const from of map.keys()) {
    const under = key === from || key.startsWith(`${from}.`) || key.startsWith(`${from}[`);
    if (under && from.length > best.length) best = from;
  }
  return best ? `${map.get(best)}${key.slice(best.length)}` : key;
}

/** Resolve a reference to another target: a path relative to `fromDir`, or a built-in name. */
export function looksLikePath(ref: string): boolean {
  return ref.includes("/") || ref.includes("\\") || ref.endsWith(".json");
}

export function resolveRelative(ref: string, fromDir: string): string {
  return resolvePath(fromDir, ref);
}
