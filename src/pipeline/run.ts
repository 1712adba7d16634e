/**
 * Running the stage list: the shared setup of compile() and plan() (target, plugins, feature list,
 * notes) and the loop that runs each stage up to `--stop-after`, timing it for `--verbose`.
 */
import { formatDiagnostic } from "../diag/index.js";
import type { Logger } from "../diag/log.js";
import { defaultThreads } from "../layout/index.js";
import { featureList, loadPlugins } from "../plugins/index.js";
import { loadTarget, type Target } from "../target/index.js";
import type { AtomicDir } from "../util/atomic.js";
import { yieldToSignals } from "./interrupt.js";
import { NoteLog, targetChoice } from "./settings.js";
import { STAGES, type Stage } from "./stages/index.js";
import type { PipelineState, RunContext, RunMode } from "./state.js";
import {
  type CompileChoices,
  type ModelOptions,
  STAGE_NAMES,
  type StageName,
  type ValidateMode,
} from "./types.js";

export interface RunSetup {
  readonly mode: RunMode;
  readonly spec: string;
  readonly model: ModelOptions;
  readonly choices: CompileChoices;
  readonly logger: Logger;
  readonly stopAfter?: StageName;
  readonly out?: AtomicDir;
  readonly validate?: ValidateMode;
  readonly tokens?: number;
  readonly threads?: number;
  readonly quantSearch?: boolean;
  readonly contexts?: readonly number[];
  /** An already loaded target (plan reuses one per target) and notes shared across runs. */
  readonly target?: Target;
  readonly notes?: NoteLog;
}

/** Decode tokens the functional validation runs when not told. */
export const DEFAULT_VALIDATION_TOKENS = 8;

export function loadTargetFor(choices: CompileChoices, cwd: string, notes: NoteLog): Target {
  return loadTarget(targetChoice(choices, notes), choices.targetOverrides ?? [], { cwd });
}

export async function makeRunContext(setup: RunSetup): Promise<RunContext> {
  const cwd = setup.model.cwd ?? process.cwd();
  const notes = setup.notes ?? new NoteLog(setup.logger);
  const target = setup.target ?? loadTargetFor(setup.choices, cwd, notes);
  const plugins = await loadPlugins(setup.choices.plugins ?? [], cwd);
  for (const p of plugins.sources) {
    setup.logger.debug(
      `plugin ${p.spec}: architectures [${p.architectures.join(", ")}], features [${p.features.join(", ")}]`,
    );
  }
  // the quantization pool's size: noted when this run writes a weight image
  const quantizes =
    setup.mode === "compile" &&
    STAGE_NAMES.indexOf(setup.stopAfter ?? "validate") >= STAGE_NAMES.indexOf("codegen");
  if (quantizes && setup.threads === undefined)
    notes.note("quantization threads", defaultThreads(), "default: the machine's cores, at most 8");
  if (quantizes && setup.quantSearch === undefined)
    notes.note(
      "clipping search",
      "off",
      "default: plain max-abs scales (--quant-search for MSE-optimal clipping)",
    );
  return {
    mode: setup.mode,
    spec: setup.spec,
    model: { ...setup.model, cwd },
    choices: setup.choices,
    target,
    plugins,
    features: featureList(plugins.features),
    logger: setup.logger,
    notes,
    diagnostics: [],
    stopAfter: setup.stopAfter ?? STAGE_NAMES[STAGE_NAMES.length - 1]!,
    ...(setup.out ? { out: setup.out } : {}),
    validate: setup.validate ?? "auto",
    tokens: setup.tokens ?? DEFAULT_VALIDATION_TOKENS,
    tokensDefaulted: setup.tokens === undefined,
    ...(setup.threads !== undefined ? { threads: setup.threads } : {}),
    quantSearch: setup.quantSearch ?? false,
    ...(setup.contexts ? { contexts: setup.contexts } : {}),
  };
}

/**
 * Runs the stages of this run's mode in order, from `from` (default the first) up to and including
 * `ctx.stopAfter` (or `until`, if earlier); returns the names of the stages that ran. Warnings are
 * logged as they appear.
 */
export async function runStages(
  s: PipelineState,
  ctx: RunContext,
  opts: { readonly stages?: readonly Stage[]; readonly from?: StageName; readonly until?: StageName } = {},
): Promise<StageName[]> {
  const stages = opts.stages ?? STAGES;
  const last = Math.min(
    STAGE_NAMES.indexOf(ctx.stopAfter),
    opts.until !== undefined ? STAGE_NAMES.indexOf(opts.until) : Number.POSITIVE_INFINITY,
  );
  const ran: StageName[] = [];
  for (const stage of stages) {
    if (STAGE_NAMES.indexOf(stage.name) > last) break;
    if (!stage.modes.includes(ctx.mode)) continue;
    if (opts.from !== undefined && STAGE_NAMES.indexOf(stage.name) < STAGE_NAMES.indexOf(opts.from)) continue;
    // an interrupt (SIGINT/SIGTERM) is handled here at the latest: stages run synchronous loops
    await yieldToSignals();
    const t0 = performance.now();
    const before = ctx.diagnostics.length;
    await stage.run(s, ctx);
    ran.push(stage.name);
    // plan returns its warnings in the result (per target); compile shows them as they come
    if (ctx.mode === "compile") for (const d of ctx.diagnostics.slice(before)) logDiagnostic(ctx.logger, d);
    ctx.logger.debug(`stage ${stage.name}: ${(performance.now() - t0).toFixed(0)} ms`);
  }
  return ran;
}

function logDiagnostic(logger: Logger, d: RunContext["diagnostics"][number]): void {
  // The logger adds its own "warning: " prefix.
  if (d.severity === "warning") logger.warn(formatDiagnostic(d).replace(/^warning\[([^\]]+)\]: /, "[$1] "));
  else logger.debug(formatDiagnostic(d));
}
