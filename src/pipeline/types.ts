/**
 * The pipeline's public option and result types: what `compile()`, `plan()` and `batch()` take and
 * return. Options hold choices about the compile, never hardware facts (those come from the target).
 */
import type { Logger } from "../diag/log.js";
import type { LayoutOverride } from "../layout/index.js";
import type { HubClient } from "../parser/index.js";

/** The stages in pipeline order; `--stop-after` takes one of these names. */
export const STAGE_NAMES = [
  "parse",
  "resolve",
  "features",
  "layout",
  "codegen",
  "stubs",
  "validate",
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export const GROUP_SIZES = [0, 32, 64, 128] as const;
export type GroupSize = (typeof GROUP_SIZES)[number];

export const KV_DTYPES = ["int4", "int8", "bf16"] as const;
export type KvDtype = (typeof KV_DTYPES)[number];

/** `auto`: functional validation only for models under the size threshold (docs/user-guide.md). */
export type ValidateMode = "auto" | "on" | "off";

/** Where the model comes from (the parser's source options, minus the weights policy). */
export interface ModelOptions {
  /** Branch, tag or commit of a repo id (default "main"). */
  readonly revision?: string;
  readonly cacheDir?: string;
  readonly token?: string;
  readonly offline?: boolean;
  /** Environment (HF_* variables); default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against; default process.cwd(). */
  readonly cwd?: string;
  /** The Hugging Face hub client (tests pass a stub); default the real one. */
  readonly hub?: HubClient;
}

/** Choices that shape the compiled program (all optional: each default is logged once). */
export interface CompileChoices {
  /** A built-in target name or a target file; default "kv260-v002". */
  readonly target?: string;
  /** Target overrides `path=value` (`--set`), applied before validation. */
  readonly targetOverrides?: readonly string[];
  /** INT4 scale group along K (0 = one scale per row); default: the target's numeric model. */
  readonly groupSize?: GroupSize;
  /** Tokens the KV cache holds; default min(max_position_embeddings, the target's ring capacity). */
  readonly context?: number;
  /** KV cache dtype; default the target's `numeric.kv_cache.default`. */
  readonly kvDtype?: KvDtype;
  /** `--plugin` module specs (paths or packages), loaded in order. */
  readonly plugins?: readonly string[];
  /** Per-tensor changes of the layout's role policy (`--layout-override`), applied in order. */
  readonly layoutOverrides?: readonly LayoutOverride[];
}

export interface CompileOptions extends ModelOptions, CompileChoices {
  /** Output directory (built in a temporary sibling and renamed at the end). */
  readonly out: string;
  /** Replace a non-empty output directory. */
  readonly force?: boolean;
  readonly stopAfter?: StageName;
  readonly validate?: ValidateMode;
  /** Tokens decoded by the functional validation (default 8). */
  readonly tokens?: number;
  /** Quantization worker threads (default: the machine's cores, at most 8). */
  readonly threads?: number;
  /** MSE-optimal clipping search per row/group when quantizing (docs/layout-quant.md); default off. */
  readonly quantSearch?: boolean;
  readonly logger?: Logger;
}

export interface PlanOptions extends ModelOptions, Omit<CompileChoices, "target"> {
  /** One or more targets, compared side by side; default ["kv260-v002"]. */
  readonly targets?: readonly string[];
  /** Context lengths the decode and prefill rates are estimated at; default [1024, 4096, 8192]. */
  readonly contexts?: readonly number[];
  /** Skip codegen and timing on a target whose config-only estimate does not fit (batch does). */
  readonly stopIfNoFit?: boolean;
  readonly logger?: Logger;
}

/** A value the pipeline chose for the user, logged once ("context: 4096 (default: …)"). */
export interface SettingNote {
  readonly name: string;
  readonly value: string | number | boolean;
  /** Why: "default: …" or "inferred: …". */
  readonly why: string;
}
