/**
 * RoPE parameters, read from either serialisation and normalised per layer type:
 * - transformers 4.x: `rope_theta` + `rope_scaling` (key `type` or `rope_type`), plus Gemma 3 /
 *   3n's `rope_local_base_freq` for sliding layers and Phi-3's top-level
 *   `partial_rotary_factor` / `original_max_position_embeddings`;
 * - transformers 5.x: `rope_parameters`, either one dict or one dict per layer type.
 * Both give the same `RopeParams` (transformers' `standardize_rope_params` rules).
 */
import { z } from "zod";
import type { ErrCtx } from "./errors.js";
import { invalidAt, zodIssueError } from "./errors.js";
import { F } from "./fields.js";
import { childPath } from "./json-text.js";
import type { KeyReader } from "./keys.js";
import type { LayerType, RopeParams } from "./types.js";

const ROPE_DICT = z.looseObject({
  rope_type: F.str(),
  type: F.str(),
  rope_theta: F.posNum(),
  partial_rotary_factor: F.posNum(),
  factor: F.posNum(),
  low_freq_factor: F.posNum(),
  high_freq_factor: F.posNum(),
  original_max_position_embeddings: F.posInt(),
  beta_fast: F.num(),
  beta_slow: F.num(),
  mscale: F.num(),
  mscale_all_dim: F.num(),
  short_factor: F.numList(),
  long_factor: F.numList(),
  attention_factor: F.posNum(),
  truncate: F.bool(),
});
const ROPE_KEYS = new Set(Object.keys(ROPE_DICT.shape));
const NUM_FIELDS = [
  "factor",
  "low_freq_factor",
  "high_freq_factor",
  "beta_fast",
  "beta_slow",
  "mscale",
  "mscale_all_dim",
  "attention_factor",
] as const;
const LAYER_TYPE_KEYS: readonly LayerType[] = ["full_attention", "sliding_attention"];

export type RopeMode =
  /** One set of parameters for every layer. */
  | "global"
  /** Gemma 3 / 3n: rope_scaling + rope_theta for full layers, rope_local_base_freq for sliding ones. */
  | "local-global"
  /** Gemma 4: rope_parameters per layer type only (no 4.x form exists). */
  | "nested";

export interface RopeOptions {
  readonly mode: RopeMode;
  readonly layerTypes: readonly LayerType[];
  readonly defaultTheta: number;
  readonly defaultLocalTheta?: number;
  /** Class default rope dict when the file has neither rope_parameters nor rope_scaling (gpt-oss: yarn). */
  readonly globalDefault?: Readonly<Record<string, unknown>>;
  /** Class default of rope_parameters for "nested" mode. */
  readonly nestedDefault?: Readonly<Record<LayerType, Record<string, unknown>>>;
  readonly maxPositionEmbeddings: number;
  readonly headDim: (lt: LayerType) => number;
  /** MLA: only qk_rope_head_dim dims rotate. */
  readonly mlaRopeDim?: number;
  /** Phi-3: these live at top level in 4.x (and win over the dict's in 5.x). */
  readonly topLevelPartialRotary?: boolean;
  readonly topLevelOriginalMax?: boolean;
}

interface RawRope {
  readonly dict: Readonly<Record<string, unknown>>;
  readonly path: string;
  /** A class default, not text from the file. */
  readonly isDefault?: boolean;
}

/** Reads the RoPE keys of `r` and returns parameters for each layer type present. */
export function readRope(r: KeyReader, ctx: ErrCtx, o: RopeOptions): Partial<Record<LayerType, RopeParams>> {
  const types = LAYER_TYPE_KEYS.filter((t) => o.layerTypes.includes(t));
  const params = r.has("rope_parameters") ? r.take<unknown>("rope_parameters", "rope") : undefined;
  const scaling = r.has("rope_scaling") ? r.take<unknown>("rope_scaling", "rope") : undefined;
  if (params != null && scaling != null) {
    throw invalidAt(
      ctx,
      r.path("rope_scaling"),
      "both rope_scaling (transformers 4.x) and rope_parameters (5.x) are set",
      "keep one of them: rope_parameters for transformers 5.x, rope_scaling + rope_theta for 4.x",
    );
  }
  const pick = (key: string, field = "rope"): unknown => r.take(key, field);
  const theta = pick("rope_theta") as number | undefined;
  const localTheta =
    o.mode === "local-global" ? (pick("rope_local_base_freq") as number | undefined) : undefined;
  const topPrf = o.topLevelPartialRotary ? (r.get<number>("partial_rotary_factor", "rope") ?? 1) : undefined;
  const topOrigMax = o.topLevelOriginalMax
    ? r.get<number>("original_max_position_embeddings", "rope")
    : undefined;

  const base = r.base;
  const nested = params != null && isNested(params);
  const out: Partial<Record<LayerType, RopeParams>> = {};
  for (const lt of types) {
    let raw: RawRope | undefined;
    let fallbackTheta: number | undefined;
    let defaultTheta = o.defaultTheta;
    if (nested) {
      const d = (params as Record<string, unknown>)[lt];
      const p = childPath(childPath(base, "rope_parameters"), lt);
      if (d !== undefined && d !== null) raw = { dict: asDict(ctx, d, p), path: p };
    } else if (params != null) {
      raw = {
        dict: asDict(ctx, params, childPath(base, "rope_parameters")),
        path: childPath(base, "rope_parameters"),
      };
    } else if (scaling != null) {
      raw = {
        dict: asDict(ctx, scaling, childPath(base, "rope_scaling")),
        path: childPath(base, "rope_scaling"),
      };
    } else if (o.globalDefault && !r.has("rope_scaling") && !r.has("rope_parameters")) {
      r.ledger.defaults.set(childPath(base, "rope_parameters"), o.globalDefault);
      raw = { dict: o.globalDefault, path: childPath(base, "rope_parameters"), isDefault: true };
    }
    if (o.mode === "local-global" && lt === "sliding_attention") {
      // 4.x: sliding layers never see rope_scaling; their base is rope_local_base_freq.
      if (!nested) raw = undefined;
      fallbackTheta = localTheta;
      defaultTheta = o.defaultLocalTheta ?? o.defaultTheta;
    } else {
      fallbackTheta = theta;
    }
    if (o.mode === "nested" && raw === undefined) {
      const d = o.nestedDefault?.[lt];
      if (d) {
        r.ledger.defaults.set(childPath(childPath(base, "rope_parameters"), lt), d);
        raw = { dict: d, path: childPath(childPath(base, "rope_parameters"), lt), isDefault: true };
      }
    }
    out[lt] = toParams(r, ctx, raw, {
      fallbackTheta,
      defaultTheta,
      defaultPath: childPath(
        base,
        lt === "sliding_attention" && o.mode === "local-global" ? "rope_local_base_freq" : "rope_theta",
      ),
      topPrf,
      topOrigMax,
      headDim: o.headDim(lt),
      mlaRopeDim: o.mlaRopeDim,
      maxPos: o.maxPositionEmbeddings,
    });
  }
  return out;
}

function isNested(v: unknown): boolean {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => (LAYER_TYPE_KEYS as readonly string[]).includes(k));
}

function asDict(ctx: ErrCtx, v: unknown, path: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalidAt(ctx, path, "expected an object");
  return v as Record<string, unknown>;
}

interface ToParamsOpts {
  readonly fallbackTheta: number | undefined;
  readonly defaultTheta: number;
  readonly defaultPath: string;
  readonly topPrf: number | undefined;
  readonly topOrigMax: number | undefined;
  readonly headDim: number;
  readonly mlaRopeDim: number | undefined;
  readonly maxPos: number;
}

function toParams(r: KeyReader, ctx: ErrCtx, raw: RawRope | undefined, o: ToParamsOpts): RopeParams {
  const d = raw?.dict ?? {};
  if (raw && !raw.isDefault) {
    const res = ROPE_DICT.safeParse(d);
    if (!res.success) throw zodIssueError(ctx, raw.path, d, res.error.issues);
    for (const k of Object.keys(d)) {
      const p = childPath(raw.path, k);
      if (ROPE_KEYS.has(k)) r.ledger.consumed.add(p);
      else r.ledger.unknown.add(p);
    }
  }
  const has = (k: string) => Object.hasOwn(d, k) && d[k] !== null;
  let ropeType = (has("rope_type") ? d.rope_type : has("type") ? d.type : "default") as string;
  if (ropeType === "su") ropeType = "longrope"; // Phi-3's first name for LongRoPE
  let theta = has("rope_theta") ? (d.rope_theta as number) : o.fallbackTheta;
  if (theta === undefined) {
    theta = o.defaultTheta;
    r.ledger.defaults.set(o.defaultPath, theta);
  }
  const prf = o.topPrf ?? (has("partial_rotary_factor") ? (d.partial_rotary_factor as number) : 1);
  const where = raw?.path ?? o.defaultPath;
  if (!(prf > 0 && prf <= 1))
    throw invalidAt(ctx, where, `partial_rotary_factor must be in (0, 1], got ${prf}`);
  const rotary_dim = o.mlaRopeDim ?? Math.floor(o.headDim * prf);
  const out: Record<string, unknown> = {
    rope_type: ropeType,
    rope_theta: theta,
    partial_rotary_factor: prf,
    rotary_dim,
  };
  for (const k of NUM_FIELDS) if (has(k)) out[k] = d[k];
  if (has("short_factor")) out.short_factor = d.short_factor;
  if (has("long_factor")) out.long_factor = d.long_factor;
  if (has("truncate")) out.truncate = d.truncate;
  if (ropeType === "llama3" || ropeType === "yarn" || ropeType === "longrope") {
    let omax =
      o.topOrigMax ??
      (has("original_max_position_embeddings") ? d.original_max_position_embeddings : undefined);
    if (omax === undefined) {
      omax = o.maxPos;
      r.ledger.defaults.set(childPath(where, "original_max_position_embeddings"), omax);
    }
    out.original_max_position_embeddings = omax;
  } else if (has("original_max_position_embeddings")) {
    out.original_max_position_embeddings = d.original_max_position_embeddings;
  }
  checkRope(ctx, where, out as unknown as RopeParams);
  return out as unknown as RopeParams;
}

const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  linear: ["factor"],
  dynamic: ["factor"],
  yarn: ["factor"],
  llama3: ["factor", "low_freq_factor", "high_freq_factor"],
  longrope: ["short_factor", "long_factor"],
};

function checkRope(ctx: ErrCtx, path: string, p: RopeParams): void {
  for (const k of REQUIRED[p.rope_type] ?? []) {
    if ((p as unknown as Record<string, unknown>)[k] === undefined)
      throw invalidAt(ctx, path, `rope type "${p.rope_type}" needs "${k}", which is missing`);
  }
  if (p.rope_type === "llama3" && (p.high_freq_factor as number) <= (p.low_freq_factor as number))
    throw invalidAt(ctx, path, "llama3 rope needs high_freq_factor > low_freq_factor");
  if (p.rope_type === "longrope") {
    for (const k of ["short_factor", "long_factor"] as const) {
      const n = p[k]?.length ?? 0;
      if (n !== p.rotary_dim / 2)
        throw invalidAt(
          ctx,
          childPath(path, k),
          `expected ${p.rotary_dim / 2} entries (rotary_dim / 2), got ${n}`,
        );
    }
  }
}
