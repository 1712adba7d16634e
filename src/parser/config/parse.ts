/**
 * config.json → ParsedConfig: read the JSON (explaining syntax errors and Python's NaN/Infinity),
 * dispatch on model_type, unwrap multimodal wrappers, validate with the family's zod schema,
 * normalise to TextConfig, check the semantics, and account for every key.
 */
import { z } from "zod";
import { invalidInput, unsupported } from "../../diag/index.js";
import { checkText } from "./checks.js";
import { normalizeDecoder } from "./decoder.js";
import type { ErrCtx } from "./errors.js";
import { CONFIG_ERROR_CODES, invalidAt, nearest, zodIssueError } from "./errors.js";
import { GPT2_DEFAULTS, GPT2_REQUIRED, GPT2_SHAPE, normalizeGpt2 } from "./families/gpt2.js";
import { childPath, JsonSyntaxError, lineColumn, parseLenientJson } from "./json-text.js";
import { isNonSemanticPath, KeyReader, Ledger, NON_SEMANTIC_KEYS } from "./keys.js";
import type { PluginModelType } from "./plugin-types.js";
import { parseQuantization, requireSupportedQuantization } from "./quantization.js";
import { SUPPORTED_MODEL_TYPES, TEXT_SPECS, WRAPPERS, type WrapperSpec } from "./registry.js";
import type { Family, ParsedConfig, SpecialTokens, SubConfigSeen, TextConfig } from "./types.js";

export interface ParseOptions {
  /** Throw config/unsupported-quantization at parse time instead of reporting it (default false). */
  readonly rejectUnsupportedQuantization?: boolean;
  /** Model types added by architecture plugins (plugin-types.ts, `LoadedPlugins.modelTypes`); default none. */
  readonly modelTypes?: readonly PluginModelType[];
}

type Obj = Record<string, unknown>;

/** Reads JSON text; NaN/Infinity are accepted only under non-semantic keys. */
export function readJsonText(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    // fall through: explain the problem precisely
  }
  let res: ReturnType<typeof parseLenientJson>;
  try {
    res = parseLenientJson(body);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const pos = lineColumn(body, e.offset);
    throw invalidInput(
      CONFIG_ERROR_CODES.invalidJson,
      `${file}:${pos.line}:${pos.column}: invalid JSON: ${e.message}`,
      {
        at: {
          file,
          line: pos.line,
          column: pos.column,
          byteOffset: Buffer.byteLength(body.slice(0, e.offset)),
        },
        fix: "fix the JSON syntax (a config.json written by transformers is always valid JSON)",
      },
    );
  }
  for (const nf of res.nonFinite) {
    if (isNonSemanticPath(nf.path)) continue;
    const pos = lineColumn(body, nf.offset);
    throw invalidInput(
      CONFIG_ERROR_CODES.nonFinite,
      `${file}:${pos.line}:${pos.column} at ${nf.path}: ${nf.token} is not a JSON number (Python's json.dumps writes it for a non-finite float), and this key needs a finite value`,
      {
        at: { file, jsonPath: nf.path, line: pos.line, column: pos.column },
        fix: "replace it with the intended finite value (or null where the key allows it)",
      },
    );
  }
  return res.value;
}

export function parseConfigText(text: string, file: string, opts: ParseOptions = {}): ParsedConfig {
  return parseInternal(readJsonText(text, file), { file, text }, opts);
}

export function parseConfigObject(raw: unknown, file: string, opts: ParseOptions = {}): ParsedConfig {
  return parseInternal(raw, { file }, opts);
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function parseInternal(raw: unknown, ctx: ErrCtx, opts: ParseOptions): ParsedConfig {
  if (!isObj(raw)) throw invalidAt(ctx, "$", "expected a JSON object at the top level");
  const extra = opts.modelTypes ?? [];
  const modelType = readModelType(raw, ctx, extra);
  const ledger = new Ledger();
  ledger.consumed.add("$.model_type");
  const wrapper = WRAPPERS.get(modelType);
  const plugin = extra.find((t) => t.modelType === modelType);
  const lm = wrapper
    ? unwrap(raw, ctx, wrapper, ledger)
    : { obj: raw, base: "$", textType: modelType, sparse: false };
  let text = plugin
    ? normalizePluginType(raw, plugin, ctx, ledger)
    : normalizeText(lm.obj, lm.base, lm.textType, lm.sparse, ctx, ledger);
  if (wrapper) text = applyWrapperTie(raw, lm.obj, text, ctx, ledger);
  checkText(text, ctx, ledger, lm.base);
  if (plugin) runPluginCheck(plugin, text, raw, ctx);

  const quantization =
    raw.quantization_config != null
      ? parseQuantization(raw.quantization_config, "$.quantization_config", ctx, ledger)
      : undefined;
  if (raw.quantization_config !== undefined) ledger.consumed.add("$.quantization_config");
  const multimodal = wrapper ? towersSeen(raw, ctx, wrapper, ledger) : undefined;
  const classified = classify(raw, lm, wrapper, ledger);
  const version = stringAt(raw, "transformers_version") ?? stringAt(lm.obj, "transformers_version");
  const parsed: ParsedConfig = {
    file: ctx.file,
    modelType,
    architectures: readArchitectures(raw, ctx),
    // copies: the result shares no arrays with `raw` or with the class-default tables
    text: structuredClone(text),
    raw,
    ...classified,
    defaultsApplied: structuredClone(
      Object.fromEntries([...ledger.defaults.entries()].sort(([a], [b]) => cmp(a, b))),
    ),
    fieldSources: Object.fromEntries([...ledger.sources.entries()].sort(([a], [b]) => cmp(a, b))),
    serialization: detectSerialization(version, raw, lm.obj),
    transformersVersion: version,
    dtype:
      stringAt(raw, "torch_dtype") ??
      stringAt(raw, "dtype") ??
      stringAt(lm.obj, "torch_dtype") ??
      stringAt(lm.obj, "dtype"),
    specialTokens: specialTokens(raw, lm.obj),
    ...(quantization ? { quantization } : {}),
    ...(multimodal ? { multimodal } : {}),
    ...(plugin ? keyAliases(plugin, raw) : {}),
  };
  if (opts.rejectUnsupportedQuantization) requireSupportedQuantization(parsed);
  return parsed;
}

function readModelType(raw: Obj, ctx: ErrCtx, extra: readonly PluginModelType[]): string {
  const mt = Object.hasOwn(raw, "model_type") ? raw.model_type : undefined;
  const supported = [...SUPPORTED_MODEL_TYPES, ...extra.map((t) => t.modelType)].sort();
  const list = supported.join(", ");
  if (mt === undefined)
    throw invalidAt(ctx, "$.model_type", "missing model_type", `add "model_type" (one of: ${list})`);
  if (typeof mt !== "string")
    throw invalidAt(ctx, "$.model_type", `expected a string, got ${JSON.stringify(mt)}`);
  if (!supported.includes(mt)) {
    const near = nearest(mt, supported);
    const plugin = `load an architecture plugin that declares model_type "${mt}" with --plugin (docs/plugins.md, "A new model type")`;
    throw unsupported(
      CONFIG_ERROR_CODES.unsupportedModelType,
      `${ctx.file} at $.model_type: model_type "${mt}" is not supported${near ? ` (nearest: "${near}")` : ""}; supported: ${list}`,
      {
        at: { file: ctx.file, jsonPath: "$.model_type" },
        fix: near ? `if this is a ${near} model, set model_type to "${near}"; otherwise ${plugin}` : plugin,
      },
    );
  }
  return mt;
}

interface LmView {
  readonly obj: Obj;
  readonly base: string;
  readonly textType: string;
  readonly sparse: boolean;
}

function unwrap(raw: Obj, ctx: ErrCtx, w: WrapperSpec, ledger: Ledger): LmView {
  const tc = Object.hasOwn(raw, "text_config") ? raw.text_config : undefined;
  if (tc !== undefined && tc !== null && !isObj(tc))
    throw invalidAt(ctx, "$.text_config", "expected an object");
  if (tc === undefined || tc === null) ledger.defaults.set("$.text_config", {});
  else ledger.consumed.add("$.text_config");
  const obj = (tc ?? {}) as Obj;
  const inner = Object.hasOwn(obj, "model_type") ? obj.model_type : undefined;
  if (inner !== undefined) {
    if (inner !== w.textModelType)
      throw invalidAt(
        ctx,
        "$.text_config.model_type",
        `expected "${w.textModelType}" inside a ${w.modelType} config, got ${JSON.stringify(inner)}`,
      );
    ledger.consumed.add("$.text_config.model_type");
  }
  return { obj, base: "$.text_config", textType: w.textModelType, sparse: true };
}

function normalizeText(
  obj: Obj,
  base: string,
  type: string,
  sparse: boolean,
  ctx: ErrCtx,
  ledger: Ledger,
): TextConfig {
  const spec = TEXT_SPECS.get(type);
  const shape = spec ? spec.shape : GPT2_SHAPE;
  const res = z.looseObject(shape).safeParse(obj);
  if (!res.success) throw zodIssueError(ctx, base, obj, res.error.issues);
  if (!sparse) requireKeys(obj, spec ? spec.required : GPT2_REQUIRED, base, ctx);
  const r = new KeyReader(obj, base, spec ? spec.defaults : GPT2_DEFAULTS, ledger);
  return spec ? normalizeDecoder(spec, r, ctx) : normalizeGpt2(r, ctx);
}

/** `keys` must be present and non-null in `obj`; `fileKey` gives the spelling the file uses. */
function requireKeys(
  obj: Obj,
  keys: readonly string[],
  base: string,
  ctx: ErrCtx,
  fileKey: (k: string) => string = (k) => k,
): void {
  for (const k of keys) {
    if (!Object.hasOwn(obj, k) || obj[k] === null)
      throw invalidAt(
        ctx,
        childPath(base, fileKey(k)),
        `missing required key "${fileKey(k)}"`,
        "a config.json written by transformers always contains it; the file may be truncated or hand-written",
      );
  }
}

/** Reads keys under the plugin's spellings: `path("rms_norm_eps")` is `$.norm_epsilon`. */
class RenamingKeyReader extends KeyReader {
  constructor(
    obj: Obj,
    defaults: Readonly<Record<string, unknown>>,
    ledger: Ledger,
    private readonly fileKey: (key: string) => string,
  ) {
    super(obj, "$", defaults, ledger);
  }
  override path(key: string): string {
    return childPath(this.base, this.fileKey(key));
  }
}

/**
 * A plugin model type: its schema on the raw object, then the base family's normalisation on a
 * view where the plugin's key spellings carry the base names (the ledger records the file's names).
 */
function normalizePluginType(raw: Obj, t: PluginModelType, ctx: ErrCtx, ledger: Ledger): TextConfig {
  const base = TEXT_SPECS.get(t.base);
  if (!base) throw new Error(`internal: plugin model type ${t.modelType} has no base ${t.base}`);
  if (t.schema) {
    const res = t.schema.safeParse(raw);
    if (!res.success) throw zodIssueError(ctx, "$", raw, res.error.issues as z.core.$ZodIssue[]);
  }
  const renames = Object.entries(t.keys ?? {});
  const toFile = new Map(renames.map(([file, key]) => [key, file]));
  const fileKey = (k: string) => toFile.get(k) ?? k;
  const view: Obj = {};
  for (const [k, v] of Object.entries(raw)) {
    const renamed = t.keys && Object.hasOwn(t.keys, k) ? t.keys[k] : undefined;
    if (renamed === undefined && toFile.has(k))
      throw invalidAt(
        ctx,
        childPath("$", k),
        `a ${t.modelType} config spells this key "${toFile.get(k)}"`,
        `rename it to "${toFile.get(k)}" (or remove it when "${toFile.get(k)}" is present)`,
      );
    view[renamed ?? k] = v;
  }
  const res = z.looseObject(base.shape).safeParse(view);
  if (!res.success) {
    const issues = res.error.issues.map((i) => ({
      ...i,
      path: i.path.map((p, n) => (n === 0 && typeof p === "string" ? fileKey(p) : p)),
    }));
    throw zodIssueError(ctx, "$", raw, issues);
  }
  requireKeys(view, base.required, "$", ctx, fileKey);
  const spec = { ...base, modelType: t.modelType, family: t.modelType as Family };
  return normalizeDecoder(spec, new RenamingKeyReader(view, base.defaults, ledger, fileKey), ctx);
}

/** The renamed keys present in the file, for ParsedConfig.keyAliases. */
function keyAliases(t: PluginModelType, raw: Obj): { keyAliases?: Record<string, string> } {
  const present = Object.entries(t.keys ?? {}).filter(([file]) => Object.hasOwn(raw, file));
  if (present.length === 0) return {};
  return {
    keyAliases: Object.fromEntries(
      present.sort(([a], [b]) => cmp(a, b)).map(([f, k]) => [childPath("$", f), k]),
    ),
  };
}

/** The plugin's semantic checks: the first problem is a config/invalid error, the others notes. */
function runPluginCheck(t: PluginModelType, text: TextConfig, raw: Obj, ctx: ErrCtx): void {
  const problems = t.check?.(text, raw) ?? [];
  const first = problems[0];
  if (!first) return;
  const e = invalidAt(ctx, first.path, first.message, first.fix);
  if (problems.length === 1) throw e;
  throw invalidInput(e.code, e.message, {
    ...(e.at ? { at: e.at } : {}),
    ...(e.fix ? { fix: e.fix } : {}),
    notes: problems.slice(1).map((p) => `${p.path}: ${p.message}`),
  });
}

/** Wrappers may carry tie_word_embeddings at top level (5.x) as well as in text_config. */
function applyWrapperTie(raw: Obj, textObj: Obj, text: TextConfig, ctx: ErrCtx, ledger: Ledger): TextConfig {
  if (!Object.hasOwn(raw, "tie_word_embeddings")) return text;
  const top = raw.tie_word_embeddings;
  if (typeof top !== "boolean")
    throw invalidAt(ctx, "$.tie_word_embeddings", `expected true or false, got ${JSON.stringify(top)}`);
  ledger.consumed.add("$.tie_word_embeddings");
  ledger.source("tie_word_embeddings", "$.tie_word_embeddings");
  if (Object.hasOwn(textObj, "tie_word_embeddings")) {
    if (textObj.tie_word_embeddings !== top)
      throw invalidAt(
        ctx,
        "$.tie_word_embeddings",
        "disagrees with $.text_config.tie_word_embeddings",
        "make both the same",
      );
    return text;
  }
  ledger.defaults.delete("$.text_config.tie_word_embeddings");
  return { ...text, tie_word_embeddings: top };
}

function towersSeen(raw: Obj, ctx: ErrCtx, w: WrapperSpec, ledger: Ledger) {
  const out: { visionConfig?: SubConfigSeen; audioConfig?: SubConfigSeen } = {};
  for (const key of w.towers) {
    if (!Object.hasOwn(raw, key)) continue;
    const path = `$.${key}`;
    ledger.consumed.add(path);
    const v = raw[key];
    if (v === null) continue;
    if (!isObj(v)) throw invalidAt(ctx, path, "expected an object or null");
    const seen: SubConfigSeen = {
      present: true,
      path,
      model_type: typeof v.model_type === "string" ? v.model_type : null,
    };
    if (key === "vision_config") out.visionConfig = seen;
    else out.audioConfig = seen;
  }
  return out;
}

function classify(raw: Obj, lm: LmView, w: WrapperSpec | undefined, ledger: Ledger) {
  const nonSemantic: string[] = [];
  const unknown: string[] = [...ledger.unknown];
  const visit = (obj: Obj, base: string, extraNs: readonly string[]) => {
    for (const k of Object.keys(obj)) {
      const p = childPath(base, k);
      if (ledger.consumed.has(p)) continue;
      if (NON_SEMANTIC_KEYS.has(k) || extraNs.includes(k)) nonSemantic.push(p);
      else unknown.push(p);
    }
  };
  if (w) {
    visit(raw, "$", [...w.towerKeys, "text_config"]);
    visit(lm.obj, lm.base, []);
  } else visit(raw, "$", []);
  return {
    consumedKeys: [...ledger.consumed].sort(cmp),
    unknownKeys: unknown.sort(cmp),
    nonSemanticKeys: nonSemantic.sort(cmp),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function stringAt(o: Obj, k: string): string | null {
  return Object.hasOwn(o, k) && typeof o[k] === "string" ? (o[k] as string) : null;
}

function readArchitectures(raw: Obj, ctx: ErrCtx): string[] {
  const a = Object.hasOwn(raw, "architectures") ? raw.architectures : undefined;
  if (a === undefined || a === null) return [];
  if (!Array.isArray(a) || !a.every((x) => typeof x === "string"))
    throw invalidAt(
      ctx,
      "$.architectures",
      `expected a list of strings, got ${JSON.stringify(a).slice(0, 60)}`,
    );
  return a;
}

function detectSerialization(version: string | null, raw: Obj, lm: Obj): ParsedConfig["serialization"] {
  const major = version ? Number.parseInt(version, 10) : Number.NaN;
  if (Number.isFinite(major)) return major >= 5 ? "transformers-5" : "transformers-4";
  const has = (k: string) => Object.hasOwn(raw, k) || Object.hasOwn(lm, k);
  return has("rope_parameters") || (has("dtype") && !has("torch_dtype"))
    ? "transformers-5"
    : "transformers-4";
}

function ids(v: unknown): number[] {
  if (typeof v === "number") return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === "number");
  return [];
}

function specialTokens(raw: Obj, lm: Obj): SpecialTokens {
  const pick = (k: string): unknown =>
    Object.hasOwn(raw, k) && raw[k] != null ? raw[k] : Object.hasOwn(lm, k) ? lm[k] : null;
  const one = (k: string): number | null => {
    const v = pick(k);
    return typeof v === "number" ? v : null;
  };
  return {
    bos_token_id: one("bos_token_id"),
    eos_token_id: ids(pick("eos_token_id")),
    pad_token_id: one("pad_token_id"),
  };
}
