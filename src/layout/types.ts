/**
 * The contract between the layout stage and codegen (docs/program.md §3–4, docs/layout.md):
 *
 *   planLayout(graph, target, options)   → LayoutPlan     (config only: formats, placements, KV)
 *   codegen(graph, plan, target)         → Program + StreamSegment[] (consumption order per port)
 *   finalizeLayout(plan, segments)       → WeightPlan     (DDR map, capacity verdict)
 *   writeWeightImage(weightPlan, source) → weights.bin + weights.json
 */
import type { DmaPort } from "../codegen/program.js";

/** How a tensor is stored for the target. */
export type TensorFormat = "int4" | "bf16" | "f32";

/**
 * Where a tensor lives at run time:
 * - `stream`: in DDR, streamed in tiles through an HP port to the GEMV/GEMM engine;
 * - `l2`: pinned in L2 (URAM) for the whole program (small vectors: norm weights, biases, tables);
 * - `ddr`: in DDR, read by rows (e.g. the embedding row of the current token, via ACP);
 * - `off-ddr`: not in DDR at all: read by the host from the weight file per token (Gemma 3n's
 *   per-layer embedding table);
 * - `folded`: merged into another tensor at image-writing time (an RMSNorm weight folded into the
 *   columns of the projections it feeds), so it is not stored itself.
 */
export type Placement = "stream" | "l2" | "ddr" | "off-ddr" | "folded";

/** The layout decision for one stored tensor (an HF tensor, or one expert of a stacked tensor). */
export interface TensorPolicy {
  readonly tensor: string;
  readonly role: string;
  readonly format: TensorFormat;
  /** Scale group along K for int4: 0 = one scale per row. */
  readonly group: 0 | 32 | 64 | 128;
  readonly scaleDtype: "bf16" | "f16" | "f32";
  readonly placement: Placement;
  /** Why this format/placement was chosen (role policy rule, override, size). */
  readonly reason: string;
}

/** A change applied to a tensor's values before quantization. */
export type WeightTransform =
  /** W[:, k] *= (offset + v[k]) — folds an RMSNorm weight v into the columns of W. */
  | { readonly kind: "scale_cols"; readonly by: string; readonly offset: 0 | 1 }
  /** The stored tensor is [in, out] (GPT-2 Conv1D): read it transposed. */
  | { readonly kind: "transpose" }
  /** Dequantize the stored pre-quantized format first. */
  | { readonly kind: "dequant"; readonly from: "fp8_block" | "mxfp4"; readonly scales: string };

/**
 * One weight tile on one port, in the order the program consumes it. Codegen produces these; the
 * image writer quantizes `tensor[rows, cols]` into exactly `bytes` bytes at `offset` of the port's
 * stream region, in tile format `order` (docs/program.md §4.3).
 */
export interface StreamSegment {
  readonly id: string;
  readonly port: DmaPort;
  readonly offset: number;
  readonly bytes: number;
  readonly tensor: string;
  readonly expert?: number;
  /** Logical [out, in] row range and column (K) range of the tile. */
  readonly rows: { readonly start: number; readonly count: number };
  readonly cols: { readonly start: number; readonly count: number };
  readonly order: 0 | 1;
  readonly group: 0 | 32 | 64 | 128;
  readonly scaleDtype: "bf16" | "f16" | "f32";
  readonly transforms: readonly WeightTransform[];
  /** The program step that consumes it (segment name + step index). */
  readonly consumer: { readonly segment: string; readonly step: number };
}

export interface KvPlan {
  readonly dtype: "int4" | "int8" | "bf16";
  /** Ring capacity (slots) per layer that owns a cache; shared layers read their source's ring. */
  readonly capacity: readonly { readonly layer: number; readonly slots: number; readonly bytes: number }[];
  readonly totalBytes: number;
}

/** The config-only plan codegen starts from. */
export interface LayoutPlan {
  readonly tensors: readonly TensorPolicy[];
  readonly kv: KvPlan;
  readonly context: number;
  readonly options: { readonly groupSize: 0 | 32 | 64 | 128; readonly kvDtype: KvPlan["dtype"] };
}
