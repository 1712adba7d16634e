/**
 * Loading a target: find it (a built-in name or a path), resolve `extends`, apply overrides,
 * validate (schema, then semantic checks, then sources), derive, fingerprint and record each
 * value's provenance. Errors are PccxErrors: `target/invalid` (schema), `target/inconsistent`
 * (semantic), `target/unsourced` (sources), `target/json`, `target/unknown`, `target/read`.
 */
import { readdirSync } from "node:fs";
import { basename, dirname, join, resolve as resolvePath } from "node:path";
import { invalidInput, ioError, type PccxError } from "../diag/index.js";
import { type DerivedTarget, deriveTarget } from "./derive.js";
import { formatFingerprint, targetHash } from "./fingerprint.js";
import { Blame, problemsFromZod, type TargetProblem } from "./issues.js";
import { applyOverrides, type TargetOverrides } from "./overrides.js";
import { buildProvenance, type Provenance } from "./provenance.js";
import {
  builtinTargetsDir,
  labelFor,
  looksLikePath,
  type ResolvedRaw,
  readTargetText,
  resolveRelative,
  resolveTargetFile,
  type TargetText,
} from "./resolve.js";
import { type TargetFile, TargetFileSchema } from "./schema.js";
import { semanticProblems } from "./semantic.js";
import { checkSources } from "./sources.js";

export interface Target {
  /** The validated file: defaults filled in, hex parsed, `extends` and overrides applied. */
  readonly file: TargetFile;
  readonly derived: DerivedTarget;
  /** sha256 hex of the hardware content (see fingerprint.ts). */
  readonly hash: string;
  /** `<name>@<16 hex>`, carried by every artifact. */
  readonly fingerprint: string;
  /** `$.<path>` and `derived.<path>` -> where the value comes from. */
  readonly provenance: ReadonlyMap<string, Provenance>;
  /** The file it was loaded from (`targets/<name>.json` for built-ins). */
  readonly label: string;
}

export interface LoadOptions {
  /** Directory relative paths are resolved against (default: process.cwd()). */
  readonly cwd?: string;
}

/** Names of the built-in targets (files in the package's targets/ folder), sorted. */
export function listBuiltinTargets(): string[] {
  let names: string[];
  try {
    names = readdirSync(builtinTargetsDir());
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".json"))
    .map((n) => n.slice(0, -".json".length))
    .sort();
}

/** Where a target named or pointed to by `ref` (a path relative to `fromDir`) is. */
export function locateTarget(ref: string, fromDir: string, cwd = fromDir): { path: string; label: string } {
  if (looksLikePath(ref)) {
    const path = resolveRelative(ref, fromDir);
    return { path, label: labelFor(path, cwd) };
  }
  const names = listBuiltinTargets();
  if (!names.includes(ref)) {
    throw invalidInput("target/unknown", `unknown target "${ref}"; built-in targets: ${names.join(", ")}`, {
      fix: "use one of the built-in names or a path to a target .json file",
    });
  }
  const path = join(builtinTargetsDir(), `${ref}.json`);
  return { path, label: `targets/${ref}.json` };
}

/** Load a built-in target by name, or a target file by path, with optional overrides. */
export function loadTarget(
  nameOrPath: string,
  overrides: TargetOverrides = [],
  opts: LoadOptions = {},
): Target {
  const cwd = opts.cwd ?? process.cwd();
  const loc = locateTarget(nameOrPath, cwd);
  let text: TargetText;
  try {
    text = readTargetText(loc.path, loc.label);
  } catch (e) {
    throw withBuiltinList(e as PccxError);
  }
  return buildTarget(text, overrides, cwd);
}

/** A target from JSON text held in memory (tests, tools); `extends` resolves against `dir`. */
export function targetFromText(
  text: string,
  label = "<memory>",
  overrides: TargetOverrides = [],
  dir: string = process.cwd(),
): Target {
  return buildTarget({ label, path: join(dir, label), text }, overrides, dir);
}

/** A target from a JSON value (e.g. a built-in file modified by a test). */
export function targetFromJson(value: unknown, label = "<memory>", overrides: TargetOverrides = []): Target {
  return targetFromText(JSON.stringify(value, null, 2), label, overrides);
}

function withBuiltinList(e: PccxError): PccxError {
  const names = listBuiltinTargets();
  return ioError(e.code, e.message, {
    ...(e.at ? { at: e.at } : {}),
    notes: [...e.notes, `built-in targets: ${names.join(", ")}`],
    ...(e.fix ? { fix: e.fix } : {}),
  });
}

function buildTarget(text: TargetText, overrides: TargetOverrides, cwd: string): Target {
  const locateBase = (ref: string, fromDir: string) => locateTarget(ref, fromDir, cwd);
  const resolved = applyOverrides(resolveTargetFile(text, locateBase), overrides);
  const blame = new Blame(resolved);
  const parsed = TargetFileSchema.safeParse(resolved.raw);
  if (!parsed.success) {
    throw blame.error("target/invalid", problemsFromZod(parsed.error.issues, resolved.raw), {
      fix: "see docs/targets.md or schemas/target.schema.json for the field",
    });
  }
  const file = parsed.data;
  const semantic = [...builtinNameProblem(file, text), ...semanticProblems(file)];
  if (semantic.length > 0) throw blame.error("target/inconsistent", semantic);
  const { problems, sources } = checkSources(file, resolved);
  if (problems.length > 0) throw blame.error("target/unsourced", problems);
  return assemble({ ...file, sources }, resolved, text.label);
}

/** A built-in target (a file in the package's targets/ folder) is named after its file. */
export function builtinNameProblem(file: TargetFile, text: TargetText): TargetProblem[] {
  if (resolvePath(dirname(text.path)) !== resolvePath(builtinTargetsDir())) return [];
  const expected = basename(text.path, ".json");
  return file.name === expected
    ? []
    : [
        {
          path: ["name"],
          message: `a built-in target's name must equal its file name "${expected}"`,
          showValue: true,
        },
      ];
}

/** Targets are shared by every stage: freeze them so no stage can change another's view. */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function assemble(file: TargetFile, resolved: ResolvedRaw, label: string): Target {
  const derived = deriveTarget(file);
  const hash = targetHash(file);
  return {
    file: deepFreeze(file),
    derived: deepFreeze(derived),
    hash,
    fingerprint: formatFingerprint(file.name, hash),
    provenance: buildProvenance(file, resolved, file.sources, derived),
    label,
  };
}
