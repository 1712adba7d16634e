/**
 * What flows through the pipeline: the run's fixed context (mode, target, plugins, logger, output
 * directory) and the state each stage fills in turn with its typed product. Stages read only what
 * earlier stages produced (`need`), so data flows one way.
 */
import { type Diagnostic, ExitCode, PccxError } from "../diag/index.js";
import type { Logger } from "../diag/log.js";
import type { FeaturePlugin, FeatureResult } from "../features/index.js";
import type { LayoutPlan, WeightImageResult, WeightPlan } from "../layout/index.js";
import type { ModelSource, ParsedConfig } from "../parser/index.js";
import type { LoadedPlugins } from "../plugins/index.js";
import type { ResolveResult } from "../resolver/index.js";
import type { Target } from "../target/index.js";
import type { AtomicDir } from "../util/atomic.js";
import type { NoteLog } from "./settings.js";
import type { CodegenProduct } from "./stages/codegen.js";
import type { DriverProduct } from "./stages/stubs.js";
import type { ValidateProduct } from "./stages/validate.js";
import type { CompileChoices, ModelOptions, StageName, ValidateMode } from "./types.js";

export type RunMode = "compile" | "plan";

export interface RunContext {
  /** `plan`: config only (no weights, no files written); `compile`: everything. */
  readonly mode: RunMode;
  readonly spec: string;
  readonly model: ModelOptions;
  readonly choices: CompileChoices;
  readonly target: Target;
  readonly plugins: LoadedPlugins;
  /** Built-in feature plugins merged with the loaded ones. */
  readonly features: readonly FeaturePlugin[];
  readonly logger: Logger;
  readonly notes: NoteLog;
  /** Warnings and infos of every stage, in stage order. */
  readonly diagnostics: Diagnostic[];
  /** The last stage to run. */
  readonly stopAfter: StageName;
  /** compile only: the temporary output directory. */
  readonly out?: AtomicDir;
  readonly validate: ValidateMode;
  readonly tokens: number;
  /** True when `tokens` is the default (noted when the functional validation runs). */
  readonly tokensDefaulted: boolean;
  readonly threads?: number;
  /** MSE-optimal clipping search when quantizing (--quant-search). */
  readonly quantSearch: boolean;
  /** Context lengths to estimate at (plan). */
  readonly contexts?: readonly number[];
}

/** The products, filled stage by stage. */
export interface PipelineState {
  /** parse */
  source?: ModelSource;
  parsed?: ParsedConfig;
  /** A name for the model in outputs and messages: the repo id or the model directory's name. */
  label?: string;
  /** resolve */
  resolved?: ResolveResult;
  /** features */
  features?: FeatureResult;
  /** layout (config only) */
  layout?: LayoutPlan;
  context?: number;
  /** codegen: the program, its stream segments and statistics, and the finalized layout. */
  codegen?: CodegenProduct;
  weightPlan?: WeightPlan;
  image?: WeightImageResult;
  /** stubs */
  driver?: DriverProduct;
  /** validate */
  validation?: ValidateProduct;
}

type Products = Required<PipelineState>;

/** A product an earlier stage must have made; its absence is a pipeline bug. */
export function need<K extends keyof Products>(s: PipelineState, key: K, stage: StageName): Products[K] {
  const v = s[key];
  if (v === undefined) {
    throw new PccxError(
      "pipeline/missing-product",
      ExitCode.INTERNAL,
      `stage ${stage} needs "${String(key)}", which no earlier stage produced`,
    );
  }
  return v as Products[K];
}
