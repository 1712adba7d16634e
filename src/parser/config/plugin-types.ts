/**
 * Model types added by architecture plugins (`--plugin`): a new top-level `model_type` read with
 * the keys, class defaults and normalisation of a built-in text family (`base`), optionally under
 * other key names (`keys`), with the plugin's own checks — a zod schema (`schema`, anything with
 * `safeParse`) on the raw object and semantic checks (`check`) on the normalised TextConfig. The
 * parsed config's `family` is the new model_type, so only an architecture plugin that lists it in
 * its `families` builds it. docs/plugins.md, "A new model type".
 *
 * The parser takes them from `ParseOptions.modelTypes` only: every caller that parses a config
 * (openModel, the tiny generator, the commands) passes them explicitly.
 */
import { SUPPORTED_MODEL_TYPES, TEXT_SPECS } from "./registry.js";
import type { TextConfig } from "./types.js";

/** One problem a plugin's `check` reports: the JSON path of the key to change and what is wrong. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  readonly fix?: string;
}

/** The part of a zod issue the parser reports (any zod version, or a hand-written schema). */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
}

/** A zod schema, or anything with zod's `safeParse` result shape. */
export interface ConfigSchema {
  safeParse(
    value: unknown,
  ):
    | { readonly success: true }
    | { readonly success: false; readonly error: { readonly issues: readonly SchemaIssue[] } };
}

export interface PluginModelType {
  /** The new top-level `model_type`, e.g. "my_llama"; never a built-in one. */
  readonly modelType: string;
  /** The built-in text model_type whose keys, defaults and rules are reused, e.g. "llama". */
  readonly base: string;
  /** Key spelled differently in this model type's config → the base family's key it stands for. */
  readonly keys?: Readonly<Record<string, string>>;
  /** Validated on the raw config object first; an issue is `config/invalid` at its JSON path. */
  readonly schema?: ConfigSchema;
  /** Semantic checks on the normalised config; the first problem is `config/invalid` at its path. */
  check?(cfg: TextConfig, raw: Readonly<Record<string, unknown>>): readonly ConfigProblem[] | undefined;
}

const MODEL_TYPE_RE = /^[a-z][a-z0-9_]*$/;

/** The shape problems of one declaration (empty when it is valid); `where` names it in messages. */
export function checkModelTypeSpec(v: unknown, where: string): string[] {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return [`${where} is not an object`];
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  const bases = [...TEXT_SPECS.keys()];
  const mt = o.modelType;
  if (typeof mt !== "string" || !MODEL_TYPE_RE.test(mt))
    problems.push(`${where} needs \`modelType\`: a lower-case model_type such as "my_llama"`);
  else if (SUPPORTED_MODEL_TYPES.includes(mt))
    problems.push(
      `${where}: model_type "${mt}" is built in (to change how it is built, list it in \`families\` without declaring it)`,
    );
  const base = typeof o.base === "string" ? TEXT_SPECS.get(o.base) : undefined;
  if (!base) problems.push(`${where} needs \`base\`: one of ${bases.join(", ")}`);
  if (o.keys !== undefined)
    problems.push(...checkKeys(o.keys, where, base?.modelType, base ? Object.keys(base.shape) : []));
  if (o.schema !== undefined && typeof (o.schema as { safeParse?: unknown } | null)?.safeParse !== "function")
    problems.push(`${where}: \`schema\` must have a safeParse method (a zod schema)`);
  if (o.check !== undefined && typeof o.check !== "function")
    problems.push(`${where}: \`check\` must be a function`);
  return problems;
}

/** `keys`: { "<key in the file>": "<key the base reads>" }, one-to-one, never a base key renamed. */
function checkKeys(
  keys: unknown,
  where: string,
  base: string | undefined,
  known: readonly string[],
): string[] {
  if (keys === null || typeof keys !== "object" || Array.isArray(keys))
    return [`${where}: \`keys\` must be an object { "<key in the file>": "<key of the base family>" }`];
  const problems: string[] = [];
  const targets = new Set<string>();
  for (const [from, to] of Object.entries(keys as Record<string, unknown>)) {
    if (typeof to !== "string") problems.push(`${where}: keys.${from} must be a string`);
    else if (base && !known.includes(to))
      problems.push(`${where}: keys.${from} → "${to}" is not a key ${base} reads`);
    else if (targets.has(to)) problems.push(`${where}: two keys map to "${to}"`);
    else if (known.includes(from))
      problems.push(`${where}: keys.${from}: "${from}" is already a key of ${base}`);
    if (typeof to === "string") targets.add(to);
  }
  return problems;
}
