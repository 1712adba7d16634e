/**
 * Norms of every flavour: RMSNorm (Llama `x̂·w`, Gemma `x̂·(1+w)`, per-head q/k norms, weightless
 * v norms) and LayerNorm with or without bias (GPT-2). A norm is named by its HF module; its
 * tensors are `<module>.weight` and `<module>.bias`.
 */
import type { ValueId } from "../../graph/index.js";
import { type BlockCtx, declare, joinName } from "./context.js";

export interface NormSpec {
  /** HF module name, e.g. `model.layers.0.input_layernorm`; ignored without a weight. */
  readonly name: string;
  /** Default: the config's `norm_type`. */
  readonly kind?: "rmsnorm" | "layernorm";
  /** Default: the config's `norm_eps`. */
  readonly eps?: number;
  /** RMSNorm only: 0 = `x̂·w` (default), 1 = `x̂·(1+w)` (Gemma 1–3). */
  readonly weightOffset?: 0 | 1;
  /** Normalize each group of this many features (per-head q/k norms); default the whole row. */
  readonly groupSize?: number;
  /** Learned scale `<name>.weight` of `groupSize` (or row) elements; default true. */
  readonly weight?: boolean;
  /** LayerNorm only: learned bias `<name>.bias`; default true. */
  readonly bias?: boolean;
  /** Config keys behind this norm's presence (added to the op and its weights). */
  readonly keys?: readonly string[];
  /** Name hint of the output value (default: the module's last path component). */
  readonly valueName?: string;
}

/** Appends the norm of `input` described by `spec` and returns its output. */
export function norm(ctx: BlockCtx, input: ValueId, spec: NormSpec): ValueId {
  const { b, cfg } = ctx;
  const kind = spec.kind ?? (cfg.norm_type === "layernorm" ? "layernorm" : "rmsnorm");
  const eps = spec.eps ?? cfg.norm_eps;
  const width = b.width(input);
  const groupSize = spec.groupSize ?? width;
  const keys = ["norm_eps", ...(spec.keys ?? [])];
  const name = spec.valueName ?? spec.name.split(".").pop() ?? "norm";
  const weighted = spec.weight ?? true;
  const w = weighted
    ? declare(ctx, joinName(spec.name, "weight"), [groupSize], "norm", { keys: ["hidden_size", ...keys] })
    : undefined;
  if (kind === "rmsnorm") {
    return b.rmsNorm(
      input,
      { ...(w ? { weight: w } : {}), eps, weightOffset: spec.weightOffset ?? 0, groupSize },
      { name, keys },
    );
  }
  const bias =
    weighted && (spec.bias ?? true)
      ? declare(ctx, joinName(spec.name, "bias"), [width], "bias", { keys: ["hidden_size", ...keys] })
      : undefined;
  return b.emit(
    "layer_norm",
    {
      input,
      eps,
      ...(w ? { weight: { weight: w } } : {}),
      ...(bias ? { bias: { weight: bias } } : {}),
    },
    { name, keys },
  )[0]!;
}
