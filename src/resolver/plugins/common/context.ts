/**
 * What every block builder needs: the config, the graph builder and the checkpoint's storage dtype,
 * plus small helpers to declare weights by HF module name. The dtype comes from the config's
 * `torch_dtype` / `dtype` (registered by `resolve()` on the builder before a plugin runs); a plugin
 * gives the fallback for checkpoints whose config does not say (GPT-2 ships float32).
 */
import { ExitCode, PccxError, unsupported } from "../../../diag/index.js";
import type { TextConfig } from "../../../parser/config/index.js";
import type { GraphBuilder, WeightDType, WeightId, WeightRole } from "../../graph/index.js";

const checkpointDtypes = new WeakMap<GraphBuilder, WeightDType>();

/** torch dtype spellings of config.json → safetensors dtype names; undefined for anything else. */
export function weightDtypeOfTorch(name: string | null | undefined): WeightDType | undefined {
  switch (name?.replace(/^torch\./, "")) {
    case "bfloat16":
      return "BF16";
    case "float16":
    case "half":
      return "F16";
    case "float32":
    case "float":
      return "F32";
    case "float64":
    case "double":
      return "F64";
    default:
      return undefined;
  }
}

/** Records the checkpoint dtype for the plugin about to build into `b` (called by `resolve`). */
export function setCheckpointDtype(b: GraphBuilder, dtype: WeightDType): void {
  checkpointDtypes.set(b, dtype);
}

/** The dtype registered for `b`, else `fallback` (the family's published checkpoint dtype). */
export function checkpointDtype(b: GraphBuilder, fallback: WeightDType = "BF16"): WeightDType {
  return checkpointDtypes.get(b) ?? fallback;
}

/** Everything a block builder reads. Create one per build with `blockCtx`. */
export interface BlockCtx {
  readonly cfg: TextConfig;
  readonly b: GraphBuilder;
  /** Storage dtype of the floating-point tensors of the checkpoint. */
  readonly dtype: WeightDType;
}

export function blockCtx(
  cfg: TextConfig,
  b: GraphBuilder,
  opts: { defaultDtype?: WeightDType } = {},
): BlockCtx {
  return { cfg, b, dtype: checkpointDtype(b, opts.defaultDtype ?? "BF16") };
}

/** Joins module path parts with ".", skipping empty ones (GPT-2 names have no "model." prefix). */
export function joinName(...parts: readonly (string | number | undefined)[]): string {
  return parts.filter((p) => p !== undefined && p !== "").join(".");
}

export interface WeightOpts {
  readonly transposed?: boolean;
  readonly unused?: string;
  readonly keys?: readonly string[];
  readonly dtype?: WeightDType;
}

/** Declares tensor `name` (the full HF name) with the checkpoint dtype. */
export function declare(
  ctx: BlockCtx,
  name: string,
  shape: readonly number[],
  role: WeightRole,
  opts: WeightOpts = {},
): WeightId {
  return ctx.b.weight({
    name,
    shape,
    dtype: opts.dtype ?? ctx.dtype,
    role,
    ...(opts.transposed ? { transposed: true } : {}),
    ...(opts.unused ? { unused: opts.unused } : {}),
    ...(opts.keys ? { keys: opts.keys } : {}),
  });
}

/** A plugin bug found while building (wrong option combination): exit 70, naming the builder. */
export function builderBug(what: string, message: string): PccxError {
  return new PccxError(`resolver/${what}`, ExitCode.INTERNAL, message);
}

/** A config value the builders cannot express (e.g. an unknown activation or RoPE type): exit 3. */
export function unsupportedValue(field: string, value: unknown, fix: string): PccxError {
  return unsupported(
    "resolver/unsupported-value",
    `config field ${field} = ${JSON.stringify(value)} cannot be expressed in the model graph`,
    { fix },
  );
}
