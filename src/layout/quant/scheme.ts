/**
 * The quantization scheme: how INT4 weights and their scales are laid out. The defaults follow the
 * pccx v002 runtime (one scale per output row, BF16 scales, no clipping search); the target file or
 * compile options may pick group-wise scales or another scale dtype.
 */
import { unsupported } from "../../diag/index.js";

/** Storage type of the per-row / per-group scales. */
export type ScaleDtype = "bf16" | "f16" | "f32";

/** One scale per output row, or one per group of `n` consecutive input features. */
export type ScaleGroup = "row" | 32 | 64 | 128;

export const SCALE_DTYPES: readonly ScaleDtype[] = ["bf16", "f16", "f32"];
export const SCALE_GROUPS: readonly ScaleGroup[] = ["row", 32, 64, 128];

export interface QuantScheme {
  readonly scaleGroup: ScaleGroup;
  readonly scaleDtype: ScaleDtype;
  /** MSE-optimal clipping search per row/group (see clip.ts); off by default. */
  readonly quantSearch: boolean;
}

export const DEFAULT_SCHEME: QuantScheme = { scaleGroup: "row", scaleDtype: "bf16", quantSearch: false };

/** Largest INT4 code used by the symmetric scale: scale = max|w| / QMAX. */
export const QMAX = 7;
/** INT4 two's complement range the codes are clamped to. */
export const QMIN_CODE = -8;
export const QMAX_CODE = 7;

export interface SchemeInput {
  readonly scaleGroup?: unknown;
  readonly scaleDtype?: unknown;
  readonly quantSearch?: unknown;
}

/**
 * Validate and complete a scheme from loosely typed input (CLI options, a target file). Unknown
 * values are rejected with the list of supported ones rather than silently replaced.
 */
export function resolveScheme(input: SchemeInput = {}): QuantScheme {
  const scaleGroup = input.scaleGroup ?? DEFAULT_SCHEME.scaleGroup;
  if (!SCALE_GROUPS.includes(scaleGroup as ScaleGroup)) {
    throw unsupported(
      "layout/quant-group-size",
      `unsupported INT4 scale group ${JSON.stringify(scaleGroup)}`,
      {
        fix: `use "row" (one scale per output row) or a group size of 32, 64 or 128 input features`,
      },
    );
  }
  const scaleDtype = input.scaleDtype ?? DEFAULT_SCHEME.scaleDtype;
  if (!SCALE_DTYPES.includes(scaleDtype as ScaleDtype)) {
    throw unsupported("layout/quant-scale-dtype", `unsupported scale dtype ${JSON.stringify(scaleDtype)}`, {
      fix: `use one of ${SCALE_DTYPES.join(", ")}`,
    });
  }
  const quantSearch = input.quantSearch ?? DEFAULT_SCHEME.quantSearch;
  if (typeof quantSearch !== "boolean") {
    throw unsupported(
      "layout/quant-search",
      `quantSearch must be true or false, got ${JSON.stringify(quantSearch)}`,
    );
  }
  return { scaleGroup: scaleGroup as ScaleGroup, scaleDtype: scaleDtype as ScaleDtype, quantSearch };
}

/** Number of input features sharing one scale for a row of `k` features. */
export function groupLength(scheme: Pick<QuantScheme, "scaleGroup">, k: number): number {
  return scheme.scaleGroup === "row" ? k : scheme.scaleGroup;
}

/** Scales per row: 1 for per-row, ceil(K / group) otherwise (the last group may be short). */
export function groupsPerRow(scheme: Pick<QuantScheme, "scaleGroup">, k: number): number {
  return scheme.scaleGroup === "row" ? 1 : Math.ceil(k / scheme.scaleGroup);
}

/** Bytes of one packed row: two INT4 per byte, an odd K pads the last high nibble with 0. */
export function packedRowBytes(k: number): number {
  return (k + 1) >>> 1;
}

/** Bytes of one stored scale. */
export function scaleBytes(dtype: ScaleDtype): number {
  return dtype === "f32" ? 4 : 2;
}
