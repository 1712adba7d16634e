/**
 * Key accounting: every JSON path of a config gets exactly one status — claimed (read by the
 * parser and claimed by a feature plugin), non-semantic (the parser's documented list), out of
 * scope (vision/audio towers and the wrapper keys that only concern them), unknown (a warning) or
 * unclaimed (a gap in the feature set). `unclaimedKeys` returns what is neither claimed nor listed.
 * A key a plugin model type spells its own way (`ParsedConfig.keyAliases`, e.g. `$.norm_epsilon`)
 * is matched, looked up and classified under the Hugging Face key it stands for (`rms_norm_eps`).
 */
import {
  childPath,
  NON_SEMANTIC_KEYS,
  type ParsedConfig,
  TOWER_CONFIGS,
  TOWER_KEYS,
} from "../parser/config/index.js";
import type { FeatureId, FeatureLedger, FeaturePlugin, KeyAccount } from "./types.js";

/** Sub-configs of towers pccxc does not compile: recorded as one path each, never itemised. */
export const OUT_OF_SCOPE_TOWERS: readonly string[] = TOWER_CONFIGS;

/**
 * Wrapper keys that only concern the vision/audio towers (special-token ids and soft-token counts
 * of image/audio inputs), as the parser's wrapper table lists them. The text model never reads them.
 */
export const OUT_OF_SCOPE_KEYS: ReadonlySet<string> = TOWER_KEYS;

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The base family's key a renamed key stands for (plugin model types), or undefined. */
function aliasOf(parsed: ParsedConfig, path: string): string | undefined {
  const a = parsed.keyAliases;
  return a && Object.hasOwn(a, path) ? a[path] : undefined;
}

interface PathInfo {
  readonly path: string;
  /**
   * Segments below the language model's root (the `text_config` prefix removed), each under the
   * name claims use: a renamed key's Hugging Face name.
   */
  readonly logical: readonly string[];
  readonly tower: boolean;
  readonly nonSemantic: boolean;
}

/** Every key path of the config: top level, text_config, and inside nested semantic dicts. */
export function configPaths(parsed: ParsedConfig): PathInfo[] {
  const out: PathInfo[] = [];
  const visit = (obj: Obj, base: string, logical: readonly string[], top: boolean) => {
    for (const k of Object.keys(obj)) {
      const path = childPath(base, k);
      const name = aliasOf(parsed, path) ?? k;
      const lg = top && k === "text_config" ? ["text_config"] : [...logical, name];
      const tower = top && (OUT_OF_SCOPE_TOWERS.includes(k) || OUT_OF_SCOPE_KEYS.has(k));
      const nonSemantic = NON_SEMANTIC_KEYS.has(name) || parsed.nonSemanticKeys.includes(path);
      out.push({ path, logical: lg, tower, nonSemantic });
      const v = obj[k];
      if (tower || nonSemantic || !isObj(v)) continue;
      if (top && k === "text_config") visit(v, path, [], false);
      else visit(v, path, lg, false);
    }
  };
  visit(parsed.raw as Obj, "$", [], true);
  return out.sort((a, b) => cmp(a.path, b.path));
}

/** Does a claim pattern ("rope_scaling", "rope_parameters.*.alpha") match a logical path? */
function matches(pattern: string, logical: readonly string[], exact: boolean): boolean {
  const segs = pattern.split(".");
  if (segs.length > logical.length || (exact && segs.length !== logical.length)) return false;
  return segs.every((s, i) => s === "*" || s === logical[i]);
}

/**
 * The key table of a config. A parser-consumed path is claimed by every plugin with a pattern
 * matching it or one of its parent dicts; a parser-unknown path only by an exact pattern (a plugin
 * that recognises precisely that key).
 */
export function accountKeys(parsed: ParsedConfig, plugins: readonly FeaturePlugin[]): KeyAccount[] {
  const consumed = new Set(parsed.consumedKeys);
  const unknown = new Set(parsed.unknownKeys);
  const isConsumed = (p: PathInfo): boolean => {
    if (consumed.has(p.path)) return true;
    if (unknown.has(p.path)) return false;
    // inside a dict the parser consumed as a whole (e.g. per_layer_config entries)
    return [...consumed].some((c) => p.path.startsWith(`${c}.`) || p.path.startsWith(`${c}[`));
  };
  return configPaths(parsed).map((p): KeyAccount => {
    if (p.tower) return { path: p.path, status: "out-of-scope", features: [] };
    if (p.nonSemantic) return { path: p.path, status: "non-semantic", features: [] };
    const eaten = isConsumed(p);
    const features: FeatureId[] = plugins
      .filter((pl) => pl.keys.some((k) => matches(k, p.logical, !eaten)))
      .map((pl) => pl.id);
    if (features.length > 0) return { path: p.path, status: "claimed", features };
    return { path: p.path, status: eaten ? "unclaimed" : "unknown", features: [] };
  });
}

/**
 * Config paths that are neither claimed by a feature plugin nor on the non-semantic or out-of-scope
 * lists (unknown keys included). A path of `parsed` missing from the ledger counts as unclaimed.
 */
export function unclaimedKeys(parsed: ParsedConfig, ledger: FeatureLedger): string[] {
  const byPath = new Map(ledger.keys.map((k) => [k.path, k]));
  return configPaths(parsed)
    .map((p) => p.path)
    .filter((path) => {
      const k = byPath.get(path);
      return !k || k.status === "unclaimed" || k.status === "unknown";
    });
}

/** The key of `obj` (at `base`) that holds `key`: itself, or the file's spelling of it when renamed. */
function keyIn(parsed: ParsedConfig, obj: Obj, base: string, key: string): string | undefined {
  if (Object.hasOwn(obj, key) && aliasOf(parsed, childPath(base, key)) === undefined) return key;
  if (!parsed.keyAliases) return undefined;
  return Object.keys(obj).find((k) => aliasOf(parsed, childPath(base, k)) === key);
}

/**
 * JSON paths holding any of these keys (Hugging Face names) at the language model's level (top
 * level or text_config), under the file's spelling when a plugin model type renames them.
 */
export function pathsOfKeys(parsed: ParsedConfig, keys: readonly string[]): string[] {
  const raw = parsed.raw as Obj;
  const out: string[] = [];
  const tc = raw.text_config;
  for (const k of keys) {
    const top = keyIn(parsed, raw, "$", k);
    if (top !== undefined) out.push(childPath("$", top));
    const inner = isObj(tc) ? keyIn(parsed, tc, "$.text_config", k) : undefined;
    if (inner !== undefined) out.push(childPath("$.text_config", inner));
  }
  return [...new Set(out)].sort(cmp);
}

/**
 * The value of a key (Hugging Face name) at the language model's level (text_config first), read
 * under the file's spelling when renamed; undefined when absent.
 */
export function rawValue(parsed: ParsedConfig, key: string): unknown {
  const raw = parsed.raw as Obj;
  const tc = raw.text_config;
  const inner = isObj(tc) ? keyIn(parsed, tc, "$.text_config", key) : undefined;
  if (isObj(tc) && inner !== undefined) return tc[inner];
  const top = keyIn(parsed, raw, "$", key);
  return top !== undefined ? raw[top] : undefined;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
