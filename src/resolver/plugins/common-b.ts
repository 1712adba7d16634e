/**
 * Helpers shared by the Gemma, DeepSeek and gpt-oss plugins: the checkpoint facts a plugin needs
 * beyond the TextConfig (the top-level `model_type`, which decides the tensor-name prefix of
 * multimodal wrappers, and the `quantization_config`, which decides FP8 / MXFP4 companion tensors),
 * constants rounded to the checkpoint dtype as transformers rounds them, and quantized-weight
 * declarations (FP8 block scales, MXFP4 blocks/scales) that the layout stage dequantizes.
 */
import type { ParsedConfig, QuantizationConfig } from "../../parser/config/index.js";
import { roundBf16, roundF16 } from "../../util/float.js";
import type {
  GraphBuilder,
  ModelGraph,
  WeightDecl,
  WeightDType,
  WeightId,
  WeightRole,
} from "../graph/index.js";
import { type BlockCtx, declare, type WeightOpts } from "./common/index.js";

/** What a plugin may know of the checkpoint besides its TextConfig. */
export interface CheckpointFormat {
  /** Top-level `model_type` of config.json (`gemma3` for the multimodal wrapper, `gemma3_text` alone). */
  readonly modelType?: string;
  /** The decoded `quantization_config`, if any. */
  readonly quantization?: QuantizationConfig;
}

const formats = new WeakMap<GraphBuilder, CheckpointFormat>();

/**
 * Records the checkpoint format for the plugin about to build into `b`. `resolve()` calls it
 * with the ParsedConfig (next to `setCheckpointDtype`); without it the plugins assume the layout of
 * the family's published checkpoints without quantization (see docs/resolver.md).
 */
export function setCheckpointFormat(b: GraphBuilder, f: CheckpointFormat | ParsedConfig): void {
  formats.set(b, {
    ...(f.modelType !== undefined ? { modelType: f.modelType } : {}),
    ...(f.quantization !== undefined ? { quantization: f.quantization } : {}),
  });
}

/** The format registered for `b` (empty when none was). */
export function checkpointFormat(b: GraphBuilder): CheckpointFormat {
  return formats.get(b) ?? {};
}

/** Whether the top-level model_type is a multimodal wrapper (its text model has a longer prefix). */
export function isWrapped(b: GraphBuilder, textModelType: string, wrappedByDefault: boolean): boolean {
  const t = checkpointFormat(b).modelType;
  if (t === undefined) return wrappedByDefault;
  return t !== textModelType;
}

/** Nearest IEEE half value (round to nearest even; overflow to ±Infinity). */
export { roundF16 } from "../../util/float.js";

/**
 * `x` as transformers holds it after `torch.tensor(x).to(dtype)`: Gemma's `embed_scale`
 * (√hidden, √per-layer width) is cast to the weight dtype before it multiplies the embedding.
 */
export function roundToDtype(x: number, dtype: WeightDType): number {
  if (dtype === "BF16") return roundBf16(x);
  if (dtype === "F16") return roundF16(x);
  if (dtype === "F32") return Math.fround(x);
  return x;
}

/** Glob match of a tensor name against a `modules_to_not_convert` pattern (module prefix, `*` any run). */
export function moduleMatches(name: string, pattern: string): boolean {
  const re = pattern
    .split("*")
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${re}(\\.|$)`).test(name);
}

function excluded(q: QuantizationConfig, name: string): boolean {
  return q.modules_to_not_convert.some((p) => moduleMatches(name, p));
}

/** Prefix of the `unused` reason of every quantization companion (FP8 scales, MXFP4 blocks/scales). */
export const QUANT_COMPANION = "quantization companion";

/** True for tensors declared only to carry a quantized weight's storage (not logical parameters). */
export function isQuantCompanion(w: WeightDecl): boolean {
  return w.unused?.startsWith(QUANT_COMPANION) ?? false;
}

/**
 * Parameters in the published sense: every stored tensor once, except the MXFP4 blocks/scales
 * (their logical weight is counted instead). FP8 `weight_scale_inv` tensors are stored tensors and
 * stay counted, as the checkpoint's own totals count them.
 */
export function logicalParamCount(g: ModelGraph): number {
  const seen = new Set<string>();
  let n = 0;
  for (const w of g.weights) {
    if (w.tiedTo !== undefined || seen.has(w.name)) continue;
    seen.add(w.name);
    if (isQuantCompanion(w) && w.dtype === "U8") continue;
    n += w.shape.reduce((a, c) => a * c, 1);
  }
  return n;
}

/**
 * Declares an nn.Linear weight `[out, in]` named `<module>.weight`. With an FP8 block-quantized
 * checkpoint (DeepSeek-V3) it is stored as F8_E4M3 next to `<module>.weight_scale_inv`
 * `[⌈out/bo⌉, ⌈in/bi⌉]` F32, which is declared as an unused companion so the layout stage can
 * dequantize (`W × scale` per block, docs/parser-weights.md).
 */
export function linearWeight(
  ctx: BlockCtx,
  name: string,
  shape: readonly [number, number],
  role: WeightRole,
  opts: WeightOpts = {},
): WeightId {
  const q = checkpointFormat(ctx.b).quantization;
  if (q?.method !== "fp8" || excluded(q, name)) return declare(ctx, name, shape, role, opts);
  const id = declare(ctx, name, shape, role, { ...opts, dtype: q.fmt === "e5m2" ? "F8_E5M2" : "F8_E4M3" });
  const [bo, bi] = q.weight_block_size;
  declare(ctx, `${name}_scale_inv`, [Math.ceil(shape[0] / bo), Math.ceil(shape[1] / bi)], "other", {
    dtype: "F32",
    keys: ["quantization_config.weight_block_size"],
    unused: `${QUANT_COMPANION}: FP8 ${bo}×${bi} block scales of ${name} (dequantized = weight × scale per block)${opts.unused ? `; the weight itself is unused: ${opts.unused}` : ""}`,
  });
  return id;
}

/**
 * MXFP4 storage of a stacked expert weight whose logical form is `[E, out, in]` (declared by the
 * caller under `logical`): `<logical>_blocks` `[E, out, in/32, 16]` U8 (two E2M1 codes per byte) and
 * `<logical>_scales` `[E, out, in/32]` U8 (E8M0 exponents), as openai/gpt-oss stores its experts.
 * Both are declared unused companions; nothing is declared when the checkpoint is not MXFP4.
 */
export function mxfp4Companions(
  ctx: BlockCtx,
  logical: string,
  dims: { experts: number; out: number; in: number },
): boolean {
  const q = checkpointFormat(ctx.b).quantization;
  if (q?.method !== "mxfp4" || excluded(q, logical)) return false;
  const groups = Math.ceil(dims.in / 32);
  const note = `${QUANT_COMPANION}: MXFP4 of ${logical} (logical [E, out, in] = [${dims.experts}, ${dims.out}, ${dims.in}], output-major)`;
  const keys = ["quantization_config.quant_method"];
  declare(ctx, `${logical}_blocks`, [dims.experts, dims.out, groups, 16], "other", {
    dtype: "U8",
    keys,
    unused: `${note}: E2M1 codes, low nibble = even input`,
  });
  declare(ctx, `${logical}_scales`, [dims.experts, dims.out, groups], "other", {
    dtype: "U8",
    keys,
    unused: `${note}: E8M0 exponents, one per 32 inputs`,
  });
  return true;
}
