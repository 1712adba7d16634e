/**
 * `pccxc plan <config.json | model-dir | repo-id>`: the compile and the performance estimate from
 * the config alone, for one target or several side by side. Results on stdout (text, or --json);
 * not fitting is a verdict and exits 0 unless --strict.
 */
import type { Command } from "commander";
import { PccxError, unsupported } from "../../diag/index.js";
import { throwIfNotFit } from "../../layout/index.js";
import { choicesOf, modelOptionsOf, type RawChoiceOptions } from "../../pipeline/option-values.js";
import { type PlanResult, plan } from "../../pipeline/plan.js";
import { renderPlan } from "../../pipeline/plan-render.js";
import { parseContexts } from "../../pipeline/settings.js";
import type { CliContext } from "../context.js";
import { addChoiceOptions, addSourceOptions } from "./compile.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface PlanCliOptions extends RawChoiceOptions {
  readonly target?: string[];
  readonly contexts?: string;
  readonly strict?: boolean;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
}

export function registerPlan(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("plan")
    .description(
      "plan a model from its config alone: ledger, memory fit, program statistics, estimated tok/s",
    )
    .argument("<model>", "config.json, model directory, or Hugging Face repo id (no weights needed)")
    .option("-t, --target <name|file>", "target to plan for (repeatable: a comparison table)", collect);
  addChoiceOptions(cmd);
  addSourceOptions(cmd)
    .option("--contexts <list>", "context lengths to estimate at, comma-separated (default 1024,4096,8192)")
    .option("--strict", "exit 3 when the model does not fit or a feature is rejected on any target")
    .option("--json", "print the plan as JSON on stdout")
    .option("-q, --quiet", "print only warnings and errors on stderr")
    .option("-v, --verbose", "print debug details")
    .action((model: string, opts: PlanCliOptions) => runPlan(model, opts, ctx));
}

async function runPlan(model: string, o: PlanCliOptions, ctx: CliContext): Promise<void> {
  const logger = ctx.logger({ quiet: o.quiet, verbose: o.verbose });
  const { target: _one, ...choices } = choicesOf({ ...o, target: undefined });
  const contexts = o.contexts !== undefined ? parseContexts(o.contexts) : undefined;
  const r = await plan(model, {
    ...modelOptionsOf(o, ctx.cwd, ctx.env),
    ...choices,
    ...(o.target?.length ? { targets: o.target } : {}),
    ...(contexts ? { contexts } : {}),
    logger,
  });
  if (o.json) ctx.json(r);
  else ctx.io.stdout(renderPlan(r));
  failIfNeeded(r, o.strict ?? false);
}

/** A stage error on any target fails the command; not fitting or a rejection only with --strict. */
function failIfNeeded(r: PlanResult, strict: boolean): void {
  const failed = r.targets.find((t) => t.error);
  if (failed?.error) {
    const e = failed.error;
    throw new PccxError(e.code, e.exitCode as PccxError["exitCode"], `${failed.target.name}: ${e.message}`, {
      ...(e.fix ? { fix: e.fix } : {}),
    });
  }
  if (!strict) return;
  for (const t of r.targets) {
    if (t.verdict === "rejected") {
      const x = t.rejected[0]!;
      throw unsupported(
        "features/rejected",
        `${r.model} on ${t.target.name}: ${x.feature}${x.key ? ` (${x.key})` : ""}: ${x.reason}`,
        {
          fix: x.fix,
        },
      );
    }
    if (t.verdict === "does-not-fit" && t.layout) throwIfNotFit(t.layout.fit);
  }
}
