/**
 * Loading `--plugin` modules: import each spec, take its default export or its named export
 * `pccxcPlugin`, check the shape `{ architectures?: ArchitecturePlugin[], features?: FeaturePlugin[] }`
 * member by member (an architecture's optional `modelTypes` too), and reject duplicate ids and
 * model types. Errors: file or package not found → exit 4
 * (`plugins/not-found`); a module that cannot be evaluated or has the wrong shape → exit 2.
 */
import { pathToFileURL } from "node:url";
import { invalidInput } from "../diag/index.js";
import type { FeaturePlugin } from "../features/index.js";
import { BUILTIN_FEATURES } from "../features/index.js";
import { checkModelTypeSpec, type PluginModelType } from "../parser/config/index.js";
import type { ArchitecturePlugin } from "../resolver/plugin.js";
import { resolvePluginSpec } from "./resolve-spec.js";

/** What one loaded module contributed. */
export interface LoadedPlugin {
  readonly spec: string;
  readonly file: string;
  readonly architectures: readonly string[];
  readonly features: readonly string[];
  /** The model types its architecture plugins declare. */
  readonly modelTypes: readonly string[];
}

export interface LoadedPlugins {
  /** In spec order; pass to resolve({ plugins }) (they are tried before the built-ins). */
  readonly architectures: readonly ArchitecturePlugin[];
  /** In spec order; combine with the built-ins with `featureList`. */
  readonly features: readonly FeaturePlugin[];
  /**
   * Model types declared by the architecture plugins (their `modelTypes`), in load order: pass them
   * to every config parse (`parseConfigText(text, file, { modelTypes })`, `openModel(spec, { parse:
   * { modelTypes } })`, `generateTiny(src, out, { modelTypes })`).
   */
  readonly modelTypes: readonly PluginModelType[];
  readonly sources: readonly LoadedPlugin[];
}

const MEMBERS = ["architectures", "features"];

function shapeError(spec: string, file: string, problems: readonly string[]) {
  return invalidInput("plugins/bad-shape", `plugin ${spec} (${file}): ${problems[0]}`, {
    at: { file },
    ...(problems.length > 1 ? { notes: problems.slice(1) } : {}),
    fix: "export default { architectures: [...], features: [...] } (or a named export pccxcPlugin); see docs/plugins.md",
  });
}

function checkMembers(o: Record<string, unknown>, where: string, members: [string, string][]): string[] {
  const problems: string[] = [];
  for (const [name, kind] of members) {
    const v = o[name];
    const optional = kind.endsWith("?");
    const k = optional ? kind.slice(0, -1) : kind;
    if (v === undefined && optional) continue;
    const ok =
      k === "string"
        ? typeof v === "string" && v !== ""
        : k === "string[]"
          ? Array.isArray(v) && v.every((x) => typeof x === "string")
          : typeof v === k;
    if (!ok)
      problems.push(
        `${where} ${v === undefined ? "is missing" : "has a wrong"} \`${name}\` (expected ${k === "string" ? "a non-empty string" : k === "string[]" ? "an array of strings" : "a function"})`,
      );
  }
  return problems;
}

function label(o: unknown, kind: string, i: number): string {
  const id = o && typeof o === "object" ? (o as { id?: unknown }).id : undefined;
  return `${kind}[${i}]${typeof id === "string" ? ` ("${id}")` : ""}`;
}

/** Validates a module's plugin object; returns its members typed. */
export function checkPluginModule(
  value: unknown,
  spec: string,
  file: string,
): { architectures: ArchitecturePlugin[]; features: FeaturePlugin[] } {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw shapeError(spec, file, [
      `the exported plugin is ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}, expected an object { architectures?, features? }`,
    ]);
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o))
    if (!MEMBERS.includes(k))
      problems.push(`unknown member \`${k}\` (a plugin object has \`architectures\` and/or \`features\`)`);
  for (const m of MEMBERS)
    if (o[m] !== undefined && !Array.isArray(o[m])) problems.push(`\`${m}\` must be an array`);
  const archs = Array.isArray(o.architectures) ? o.architectures : [];
  const feats = Array.isArray(o.features) ? o.features : [];
  if (problems.length === 0 && archs.length + feats.length === 0)
    problems.push("it has neither `architectures` nor `features` (at least one plugin is needed)");
  archs.forEach((a, i) => {
    const where = label(a, "architectures", i);
    if (!a || typeof a !== "object") {
      problems.push(`${where} is not an object`);
      return;
    }
    problems.push(
      ...checkMembers(a as Record<string, unknown>, where, [
        ["id", "string"],
        ["families", "string[]"],
        ["summary", "string"],
        ["reads", "string[]"],
        ["build", "function"],
      ]),
    );
    problems.push(...checkModelTypes(a as Record<string, unknown>, where));
  });
  feats.forEach((f, i) => {
    const where = label(f, "features", i);
    if (!f || typeof f !== "object") {
      problems.push(`${where} is not an object`);
      return;
    }
    problems.push(
      ...checkMembers(f as Record<string, unknown>, where, [
        ["id", "string"],
        ["summary", "string"],
        ["keys", "string[]"],
        ["detect", "function"],
        ["apply", "function"],
        ["prepare", "function?"],
      ]),
    );
  });
  if (problems.length > 0) throw shapeError(spec, file, problems);
  return { architectures: archs as ArchitecturePlugin[], features: feats as FeaturePlugin[] };
}

/** An architecture's `modelTypes`: each valid, and each listed in the plugin's `families`. */
function checkModelTypes(a: Record<string, unknown>, where: string): string[] {
  if (a.modelTypes === undefined) return [];
  if (!Array.isArray(a.modelTypes)) return [`${where} has a wrong \`modelTypes\` (expected an array)`];
  const families = Array.isArray(a.families) ? (a.families as unknown[]) : [];
  return a.modelTypes.flatMap((t: unknown, j) => {
    const at = `${where} modelTypes[${j}]`;
    const problems = checkModelTypeSpec(t, at);
    const mt = (t as { modelType?: unknown } | null)?.modelType;
    if (problems.length === 0 && !families.includes(mt))
      problems.push(`${at}: "${String(mt)}" is not in \`families\` (add it: this plugin builds it)`);
    return problems;
  });
}

async function importModule(spec: string, file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const ts = /\.[mc]?ts$/.test(file);
    const fix =
      ts && err.code === "ERR_UNKNOWN_FILE_EXTENSION"
        ? "a .ts plugin needs a TypeScript loader: run pccxc under tsx (npx tsx src/cli/run.ts …) or compile the plugin to .js/.mjs"
        : "fix the error in the plugin module (it must be an ES module or CommonJS file Node can import)";
    throw invalidInput(
      "plugins/load-failed",
      `plugin ${spec} (${file}) could not be loaded: ${err.message ?? String(e)}`,
      {
        at: { file },
        fix,
      },
    );
  }
}

/** Loads the `--plugin` specs in order; relative paths and packages are resolved from `cwd`. */
export async function loadPlugins(specs: readonly string[], cwd: string): Promise<LoadedPlugins> {
  const architectures: ArchitecturePlugin[] = [];
  const features: FeaturePlugin[] = [];
  const modelTypes: PluginModelType[] = [];
  const sources: LoadedPlugin[] = [];
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const file = resolvePluginSpec(spec, cwd);
    const mod = await importModule(spec, file);
    const value = mod.pccxcPlugin ?? mod.default;
    if (value === undefined)
      throw shapeError(spec, file, [
        `the module has neither a default export nor a named export \`pccxcPlugin\` (exports: ${Object.keys(mod).join(", ") || "none"})`,
      ]);
    const got = checkPluginModule(value, spec, file);
    const types = got.architectures.flatMap((a) => a.modelTypes ?? []);
    for (const [kind, ids] of [
      ["architecture plugin id", got.architectures.map((a) => a.id)],
      ["feature plugin id", got.features.map((f) => f.id)],
      ["model_type", types.map((t) => t.modelType)],
    ] as const) {
      for (const id of ids) {
        const key = `${kind}:${id}`;
        const prev = seen.get(key);
        if (prev !== undefined)
          throw invalidInput(
            "plugins/duplicate-id",
            `${kind} "${id}" is defined by both ${prev} and ${spec}`,
            {
              fix: "load each plugin module once, or give the plugins distinct ids",
            },
          );
        seen.set(key, spec);
      }
    }
    architectures.push(...got.architectures);
    features.push(...got.features);
    modelTypes.push(...types);
    sources.push({
      spec,
      file,
      architectures: got.architectures.map((a) => a.id),
      features: got.features.map((f) => f.id),
      modelTypes: types.map((t) => t.modelType),
    });
  }
  return { architectures, features, modelTypes, sources };
}

/**
 * The feature plugins to run: the built-ins in their order, a loaded plugin with a built-in's id
 * replacing it in place, the other loaded plugins after them in load order.
 */
export function featureList(
  loaded: readonly FeaturePlugin[],
  builtins: readonly FeaturePlugin[] = BUILTIN_FEATURES,
): FeaturePlugin[] {
  const byId = new Map(loaded.map((p) => [p.id, p]));
  const out = builtins.map((b) => byId.get(b.id) ?? b);
  const builtinIds = new Set(builtins.map((b) => b.id));
  return [...out, ...loaded.filter((p) => !builtinIds.has(p.id))];
}

/** Commander collector for a repeatable option (`--plugin a --plugin b`). */
export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}
