/**
 * Running the feature stage: `prepareConfig` (plugins' config rewrites, before resolution) and
 * `runFeatures` (detect → apply for each plugin in order, checking every plugin's output, then the
 * key accounting, unknown-key warnings and rejections).
 */
import { type Diagnostic, ExitCode, formatDiagnostic, isPccxError, PccxError } from "../diag/index.js";
import type { ParsedConfig } from "../parser/config/index.js";
import { type ModelGraph, verifyGraph } from "../resolver/graph/index.js";
import type { Target } from "../target/index.js";
import { makeContext } from "./context.js";
import { accountKeys, cmp } from "./keys.js";
import { buildLedger, LedgerSchema } from "./ledger.js";
import { BUILTIN_FEATURES } from "./plugins/index.js";
import type { FeaturePlugin, FeatureResult, KeyAccount, LedgerEntry } from "./types.js";

/** Id of the pseudo-feature that records unknown keys. */
export const UNKNOWN_KEY_FEATURE = "unknown-key";

const pluginBug = (id: string, message: string, notes: readonly string[] = []) =>
  new PccxError("features/plugin-bug", ExitCode.INTERNAL, `feature plugin "${id}": ${message}`, {
    notes,
    fix: "this is a bug in the feature plugin; report it to its author",
  });

/** Runs each plugin's `prepare` hook in order (config rewrites needed before resolution). */
export function prepareConfig(
  parsed: ParsedConfig,
  plugins: readonly FeaturePlugin[] = BUILTIN_FEATURES,
): ParsedConfig {
  let p = parsed;
  for (const pl of plugins) {
    if (!pl.prepare) continue;
    const next = callPlugin(pl, () => pl.prepare!(p));
    if (next !== undefined) p = next;
  }
  return p;
}

function callPlugin<T>(pl: FeaturePlugin, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isPccxError(e)) throw e;
    throw pluginBug(pl.id, `threw ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Checks a plugin's output: a valid graph (verified when rewritten) and well-formed entries. */
function checkOutput(
  pl: FeaturePlugin,
  before: ModelGraph,
  graph: ModelGraph,
  entries: readonly LedgerEntry[],
) {
  if (graph === null || typeof graph !== "object" || !Array.isArray(graph.ops))
    throw pluginBug(pl.id, "apply() did not return { graph, entries } with a graph");
  if (!Array.isArray(entries)) throw pluginBug(pl.id, "apply() returned no entries array");
  if (graph !== before) {
    const errors = verifyGraph(graph).filter((d) => d.severity === "error");
    if (errors.length > 0)
      throw pluginBug(
        pl.id,
        "its rewrite produced an invalid graph",
        errors.slice(0, 10).map(formatDiagnostic),
      );
  }
  const opIds = new Set(graph.ops.map((o) => o.id));
  const one = LedgerSchema.shape.entries.element;
  for (const [i, e] of entries.entries()) {
    const r = one.safeParse(e);
    if (!r.success)
      throw pluginBug(
        pl.id,
        `entry ${i} is malformed: ${r.error.issues[0]?.message} at ${r.error.issues[0]?.path.join(".")}`,
      );
    if (e.feature !== pl.id) throw pluginBug(pl.id, `entry ${i} names feature "${e.feature}"`);
    const bad = e.ops.find((o: string) => !opIds.has(o));
    if (bad !== undefined)
      throw pluginBug(pl.id, `entry ${i} points at op "${bad}", which the graph does not have`);
  }
}

function lastKey(path: string): string {
  const m = /(?:\.([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\])$/.exec(path);
  return m ? (m[1] ?? (JSON.parse(`"${m[2]}"`) as string)) : path;
}

function valueAt(raw: unknown, path: string): unknown {
  let v: unknown = raw;
  for (const m of path.matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\]/g)) {
    const k = m[1] ?? (JSON.parse(`"${m[2]}"`) as string);
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  }
  return v;
}

function unknownEntries(parsed: ParsedConfig, keys: readonly KeyAccount[]): LedgerEntry[] {
  return keys
    .filter((k) => k.status === "unknown")
    .map((k) => ({
      feature: UNKNOWN_KEY_FEATURE,
      key: lastKey(k.path),
      paths: [k.path],
      value: valueAt(parsed.raw, k.path) ?? null,
      detail: `${k.path} is not a key of ${parsed.text.model_type}'s configuration class`,
      verdict: {
        kind: "ignored",
        reason: "unknown key: no supported config class defines it and no feature plugin recognises it",
      },
      ops: [],
    }));
}

/**
 * Runs the feature plugins over a resolved graph. Plugins run in order; each sees the graph the
 * previous one returned. Returns the final graph, the ledger and the diagnostics (a warning per
 * unknown or unclaimed key, an error per rejected feature: see requireNoRejections).
 */
export function runFeatures(
  graph: ModelGraph,
  parsed: ParsedConfig,
  target: Target,
  plugins: readonly FeaturePlugin[] = BUILTIN_FEATURES,
): FeatureResult {
  const ids = new Set<string>();
  for (const pl of plugins) {
    if (ids.has(pl.id))
      throw new PccxError(
        "features/duplicate-plugin",
        ExitCode.USAGE,
        `two feature plugins have the id "${pl.id}"`,
        {
          fix: "load each plugin once, or give your plugin its own id",
        },
      );
    ids.add(pl.id);
  }
  let g = graph;
  const entries: LedgerEntry[] = [];
  const ran: string[] = [];
  for (const pl of plugins) {
    if (!callPlugin(pl, () => pl.detect(parsed, g))) continue;
    const ctx = makeContext(target, parsed, pl.id);
    const out = callPlugin(pl, () => pl.apply(g, parsed, target, ctx));
    checkOutput(pl, g, out?.graph, out?.entries);
    g = out.graph;
    entries.push(...out.entries);
    ran.push(pl.id);
  }
  const keys = accountKeys(parsed, plugins);
  const unknown = unknownEntries(parsed, keys);
  entries.push(...unknown);
  const ledger = buildLedger({
    file: parsed.file,
    modelType: parsed.modelType,
    plugin: graph.meta.plugin,
    target: target.fingerprint,
    features: unknown.length ? [...ran, UNKNOWN_KEY_FEATURE] : ran,
    entries,
    keys,
  });
  return { graph: g, ledger, diagnostics: diagnosticsOf(parsed, ledger.entries, keys) };
}

function diagnosticsOf(
  parsed: ParsedConfig,
  entries: readonly LedgerEntry[],
  keys: readonly KeyAccount[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const e of entries) {
    if (e.feature === UNKNOWN_KEY_FEATURE)
      out.push({
        code: "features/unknown-key",
        severity: "warning",
        message: `${parsed.file}: unknown key ${e.paths[0]} ignored`,
        at: { file: parsed.file, jsonPath: e.paths[0]! },
        fix: "remove the key, or load a feature plugin that handles it (docs/plugins.md)",
      });
    else if (e.verdict.kind === "rejected")
      out.push({
        code: "features/rejected",
        severity: "error",
        message: `${e.feature}${e.key ? ` (${e.key})` : ""}: ${e.verdict.reason}`,
        ...(e.paths[0] ? { at: { file: parsed.file, jsonPath: e.paths[0] } } : {}),
        fix: e.verdict.fix,
      });
  }
  for (const k of keys.filter((x) => x.status === "unclaimed"))
    out.push({
      code: "features/unclaimed-key",
      severity: "warning",
      message: `${parsed.file}: ${k.path} is read by the parser but no feature plugin accounts for it`,
      at: { file: parsed.file, jsonPath: k.path },
      fix: "a gap in pccxc's feature set: please report it",
    });
  const key = (d: Diagnostic) => `${d.code}\u0000${d.at?.jsonPath ?? ""}\u0000${d.message}`;
  return out.sort((a, b) => cmp(key(a), key(b)));
}
