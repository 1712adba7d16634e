/**
 * The contract between the layout stage and codegen (docs/program.md §3–4, docs/layout.md):
 *
 *   planLayout(graph, target, options)   → LayoutPlan     (config only: formats, placements, KV)
 *   codegen(graph, plan, target)         → Program + StreamSegment[] (consumption order per port)
 *   finalizeLayout(plan, segments, programRegions) → WeightPlan (DDR map, capacity verdict)
 *   writeWeightImage(weightPlan, segments, source, out) → weights.bin + weights.json
 *
 * Everything below marked optional was added by the layout stage after the first draft; the
 * required fields are unchanged.
 */
import type { DdrRegion, DmaPort } from "../codegen/program.js";
import type { Diagnostic } from "../diag/index.js";

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
  // ---- Optional facts planLayout adds (docs/layout.md §2) ----
  /**
   * The graph weight id. Equal to `tensor` except for a tied declaration (`<name>@lm_head`): a tied
   * LM head gets its own policy (stream) next to the embedding's (ddr), both naming one HF tensor.
   */
  readonly id?: string;
  readonly layer?: number;
  /** Shape as stored in the checkpoint (from the graph). */
  readonly shape?: readonly number[];
  /** The logical [rows = out, cols = in] matrix of one expert; vectors: rows = experts or 1, cols = length. */
  readonly rows?: number;
  readonly cols?: number;
  /** Stacked [E, …] tensors: number of experts (axis 0). One policy covers every expert. */
  readonly experts?: number;
  /** Stored [in, out] (GPT-2 Conv1D, gpt-oss BF16 experts): segments need a `transpose` transform. */
  readonly transposed?: boolean;
  /** Placement `folded`: the projections (HF names) whose columns absorb this norm weight. */
  readonly foldedInto?: readonly string[];
  /** Placement `folded`: the RMSNorm's weight offset (1 for Gemma's x̂·(1+w)). */
  readonly foldOffset?: 0 | 1;
  /** Share of the tensor streamed per decoded token: topK / experts for routed experts, else 1. */
  readonly perToken?: number;
  /** Estimated bytes in its stored format (tiles of the target's max K for streams; exact otherwise). */
  readonly bytes?: number;
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
  /** Optional: logical rows start, start+step, … (gpt-oss interleaved gate/up); default 1. */
  readonly rowStep?: number;
  readonly group: 0 | 32 | 64 | 128;
  readonly scaleDtype: "bf16" | "f16" | "f32";
  readonly transforms: readonly WeightTransform[];
  /** The program step that consumes it (segment name + step index). */
  readonly consumer: { readonly segment: string; readonly step: number };
}

export interface KvPlan {
  readonly dtype: "int4" | "int8" | "bf16";
  /** Ring capacity (slots) per layer that owns a cache; shared layers read their source's ring. */
  readonly capacity: readonly KvLayer[];
  readonly totalBytes: number;
  /** Layers that own no cache and the layer whose ring they read (Gemma 3n / Gemma 4 KV sharing). */
  readonly shared?: readonly { readonly layer: number; readonly source: number }[];
  /** Scale dtype of a quantized cache. */
  readonly scaleDtype?: "bf16" | "f16" | "f32";
  /** GEMV ports an INT4 V tile is split over (docs/program.md §4.3). */
  readonly ports?: number;
}

/**
 * One layer's ring. The optional fields give the geometry the bytes were computed from, so that the
 * capacity check can re-size the cache for another context or dtype without the graph.
 */
export interface KvLayer {
  readonly layer: number;
  readonly slots: number;
  readonly bytes: number;
  /** `full`: context slots; `sliding`: min(window, context) slots; `mla`: latent + rope key per slot. */
  readonly kind?: "full" | "sliding" | "mla";
  readonly window?: number;
  readonly kvHeads?: number;
  /** Key width per head (MLA: kvRank + ropeDim, one "head"). */
  readonly headDim?: number;
  /** Value width per head (MLA: kvRank, the latent streamed as the value tile). */
  readonly vHeadDim?: number;
  /** Bytes of the K part and the V part (all heads), padding included. */
  readonly kBytes?: number;
  readonly vBytes?: number;
}

/** The config-only plan codegen starts from. */
export interface LayoutPlan {
  readonly tensors: readonly TensorPolicy[];
  readonly kv: KvPlan;
  readonly context: number;
  readonly options: { readonly groupSize: 0 | 32 | 64 | 128; readonly kvDtype: KvPlan["dtype"] };
  // ---- Optional facts planLayout adds ----
  /** Target fingerprint the plan was made for. */
  readonly target?: string;
  readonly model?: {
    readonly modelType: string;
    readonly numLayers: number;
    readonly vocabSize: number;
    /** Name for messages (LayoutOptions.label). */
    readonly label?: string;
  };
  /** Declared weights the graph does not read (`unused` reason), not placed. */
  readonly unused?: readonly { readonly tensor: string; readonly reason: string }[];
  /** Warnings (an override that matches nothing, vectors spilled out of the L2 budget …). */
  readonly warnings?: readonly Diagnostic[];
  /** L2 words the pinned vectors take, and the budget they were checked against. */
  readonly l2?: { readonly words: number; readonly budgetWords: number };
  /** Config-only estimate of the DDR map and its capacity verdict (finalizeLayout gives the exact one). */
  readonly estimate?: FitVerdict;
  /** The target facts finalizeLayout needs (copied from the target so that it takes no target). */
  readonly machine?: LayoutMachine;
}

/** Target facts (and the alignment/budget options) the DDR map and capacity checks use. */
export interface LayoutMachine {
  readonly target: string;
  readonly ddrBytes: number;
  readonly reservedOsBytes: number;
  readonly l2WordBytes: number;
  readonly l2BackedWords: number;
  readonly l2BudgetWords: number;
  /** Ports that carry weight streams (feed the GEMM or the GEMV), in target order. */
  readonly weightPorts: readonly string[];
  /** Ports feeding the GEMV (decode): their streams are read once per token. */
  readonly gemvPorts: readonly string[];
  /** Largest K per GEMV/GEMM instruction (for the config-only stream size estimate). */
  readonly maxK: number;
  /** KV dtypes the target supports (fit advice only proposes these). */
  readonly kvDtypes: readonly KvPlan["dtype"][];
  /** DDR region alignment in bytes. */
  readonly alignment: number;
}

/**
 * Options of planLayout. Compile options never hold hardware facts: every default not given here
 * comes from the target (docs/layout.md §2).
 */
export interface LayoutOptions {
  /** INT4 scale group along K (0 = one scale per row); default: the target's numeric model. */
  readonly groupSize?: 0 | 32 | 64 | 128;
  /** KV cache dtype; default: the target's `numeric.kv_cache.default`. */
  readonly kvDtype?: KvPlan["dtype"];
  /** Tokens the KV rings of full-attention layers hold; default: the target's ring capacity. */
  readonly context?: number;
  /** Applied in order after the role policy; a later override wins. */
  readonly overrides?: readonly LayoutOverride[];
  /**
   * RMSNorm weights (HF names) codegen folds into the columns of the projections they feed
   * (`foldableNorms(graph)` lists the candidates). Their placement becomes `folded`; codegen adds a
   * `scale_cols` transform to every segment of those projections.
   */
  readonly folded?: ReadonlySet<string>;
  /** L2 words pinned vectors may take; default: half of the target's backed L2 (the rest is codegen's). */
  readonly l2BudgetWords?: number;
  /** Embedding tables with at least this many elements are INT4; default 2^20. */
  readonly int4EmbeddingMinElements?: number;
  /** Vector tensors with at most this many elements are pinned in L2; default 65,536. */
  readonly l2VectorMaxElements?: number;
  /** DDR region alignment in bytes (a power of two); default 4096 (the page size the driver maps). */
  readonly alignment?: number;
  /** Model name for messages (e.g. the repo id); default: the graph's model type. */
  readonly label?: string;
}

/** A user override: tensors matched by a glob on the HF name (or graph id) and/or a role. */
export interface LayoutOverride {
  /** Glob over the tensor name: `*` any run of characters, `?` one character. */
  readonly match?: string;
  readonly role?: string;
  readonly format?: TensorFormat;
  readonly group?: 0 | 32 | 64 | 128;
  readonly scaleDtype?: "bf16" | "f16" | "f32";
  readonly placement?: Exclude<Placement, "folded">;
  /** Where it came from, for messages (e.g. `--override 'lm_head*=format:bf16'`). */
  readonly source?: string;
}

/**
 * A DDR region the program needs besides the weights (per-token host buffers, logits, tables). A
 * request named `kv.L<layer>` of kind `kv` gives the bytes codegen actually lays that ring out in
 * (it replaces the plan's size, so the map and the verdict match the program).
 */
export interface RegionRequest {
  readonly name: string;
  readonly kind: "buffer" | "logits" | "table" | "kv";
  readonly bytes: number;
}

/**
 * A region of the DDR map (offsets from the base of pccxc's DDR arena, every one aligned).
 * Names: `weights.<port>` (stream per port), `embedding`, `tables` (other row-read tensors),
 * `vectors` (L2-pinned vectors' load-time source), `kv.L<layer>`, then the program's own regions.
 */
export interface PlannedRegion extends DdrRegion {
  /** Bytes actually used (the region is `bytes` = used rounded up to the alignment). */
  readonly used: number;
  /** Where the region's bytes are in weights.bin (regions that hold weights only). */
  readonly fileOffset?: number;
}

/** A tensor stored outside the streams: an embedding table, an L2-pinned vector, an off-DDR table. */
export interface PlacedTensor {
  readonly id: string;
  readonly tensor: string;
  readonly role: string;
  readonly format: TensorFormat;
  readonly group: 0 | 32 | 64 | 128;
  readonly scaleDtype: "bf16" | "f16" | "f32";
  readonly placement: Exclude<Placement, "stream" | "folded">;
  /** Region name (`embedding`, `tables`, `vectors`, or `offddr` for off-DDR tensors: file only). */
  readonly region: string;
  /** Byte offset inside the region. */
  readonly offset: number;
  readonly bytes: number;
  /** Logical rows (table rows / experts) and columns. */
  readonly rows: number;
  readonly cols: number;
  /**
   * `table`: INT4 rows, each `rowStride` bytes = codes padded to a beat, then the row's scales, padded
   * to a beat (one read fetches a row with its scales). `vector`: plain little-endian BF16/F32.
   */
  readonly layout: "table" | "vector";
  readonly rowStride: number;
  /** Pinned vectors: L2 words they take. */
  readonly l2Words?: number;
}

export interface FitConsumer {
  readonly name: string;
  readonly bytes: number;
  /** Share of the DDR total, 0..1. */
  readonly share: number;
}

/** One computed way to make a model fit (docs/layout.md §5). */
export interface FitAdvice {
  readonly kind: "context" | "kv-dtype" | "group-size" | "vocab-trim";
  /** Bytes it saves (0 when it cannot help). */
  readonly saves: number;
  /** Whether this change alone makes the model fit. */
  readonly fits: boolean;
  readonly text: string;
  /** context: the longest context that fits; vocab-trim: the largest vocabulary that fits. */
  readonly value?: number | string;
}

/** The capacity verdict, as data (`pccxc plan` prints it; `throwIfNotFit` turns it into an error). */
export interface FitVerdict {
  readonly ok: boolean;
  readonly ddrOk: boolean;
  readonly l2Ok: boolean;
  readonly ddrBytes: number;
  /** DDR bytes minus the OS reserve. */
  readonly ddrCapacity: number;
  readonly overBy: number;
  readonly l2Words: number;
  readonly l2Capacity: number;
  /** Largest consumers, at most five, largest first. */
  readonly consumers: readonly FitConsumer[];
  readonly advice: readonly FitAdvice[];
  /** One line: "fits: 2.10 GiB of 3.00 GiB DDR (70 %), L2 …" or the overflow headline. */
  readonly text: string;
  /** True when computed from the config alone (before codegen's segments exist). */
  readonly estimate: boolean;
  /**
   * DDR bytes left with every advice applied at once (no KV cache, no vocabulary, per-row scales):
   * what the rest of the model needs whatever the options. Absent when the model fits.
   */
  readonly floorBytes?: number;
}

/** The finished layout: DDR map, weight image map, capacity verdict. */
export interface WeightPlan {
  readonly layout: LayoutPlan;
  readonly target: string;
  readonly alignment: number;
  /** The DDR map in address order. */
  readonly regions: readonly PlannedRegion[];
  /** Stream segments (validated; exact duplicates merged), in the order given. */
  readonly segments: readonly StreamSegment[];
  /** Tensors outside the streams. */
  readonly tensors: readonly PlacedTensor[];
  /** weights.bin: total bytes; off-DDR tensors sit after the DDR-resident part. */
  readonly image: {
    readonly bytes: number;
    readonly ddrBytes: number;
    readonly offDdr?: { readonly fileOffset: number; readonly bytes: number };
  };
  readonly usage: {
    /** L2-pinned bytes (words × word bytes). */
    readonly onChipBytes: number;
    readonly l2Words: number;
    /** Weight bytes streamed per decoded token (routed experts weighted by topK / experts). */
    readonly streamedPerToken: number;
    /** All stream bytes in DDR. */
    readonly streamBytes: number;
    readonly offDdrBytes: number;
    readonly kvBytes: number;
    readonly ddrBytes: number;
  };
  readonly fit: FitVerdict;
  /** "On-chip 1.2 MiB, streamed from DDR 2.43 GiB/token, off-DDR 1.9 GiB". */
  readonly summary: string;
  /** E.g. `layout/unstreamed`: tensors the plan streams but no segment carries. */
  readonly warnings?: readonly Diagnostic[];
}
