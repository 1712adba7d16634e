/**
 * `pccxc batch <inputs…>`: many models config-only (default) or compiled (`--compile -o dir`), with
 * a markdown summary on stdout (or --json), JUnit XML (`--junit`), budgets as gates (`--budget`,
 * `--baseline`, `--write-baseline`). Exits non-zero when any model fails: the largest exit code
 * among the failures.
 */

import { resolve as resolvePath } from "node:path";
import type { Command } from "commander";
import { PccxError, usageError } from "../../diag/index.js";
import { baselineOf, batch } from "../../pipeline/batch.js";
import { expandInputs } from "../../pipeline/batch-inputs.js";
import { renderBatchTable } from "../../pipeline/batch-render.js";
import { readBaselineFile, readBudgetFile } from "../../pipeline/budget.js";
import { renderJunit } from "../../pipeline/junit.js";
import {
  choicesOf,
  modelOptionsOf,
  positiveInt,
  type RawChoiceOptions,
  validateModeOf,
} from "../../pipeline/option-values.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { prettyJson } from "../../util/json.js";
import type { CliContext } from "../context.js";
import { addChoiceOptions, addSourceOptions } from "./compile.js";

interface BatchCliOptions extends RawChoiceOptions {
  readonly shared?: string | boolean;
  readonly compile?: boolean;
  readonly output?: string;
  readonly force?: boolean;
  readonly validate?: string;
  readonly tokens?: string;
  readonly budget?: string;
  readonly baseline?: string;
  readonly writeBaseline?: string;
  readonly junit?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
}

export function registerBatch(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("batch")
    .description("plan (default) or compile many models; summary table, JSON, JUnit, budgets as gates")
    .argument("[inputs...]", "model dirs, config.json files, repo ids, or @list.txt (one per line)")
    .option("--shared [dir]", "add every model of the shared configs folder (default ../shared/configs)")
    .option("--compile", "compile each model fully (needs -o); default: config-only plan")
    .option("-o, --output <dir>", "with --compile: parent directory, one sub-directory per model")
    .option("-t, --target <name|file>", "target (default kv260-v002)");
  addChoiceOptions(cmd);
  addSourceOptions(cmd)
    .option("--force", "with --compile: replace non-empty model output directories")
    .option("--validate <mode>", "with --compile: functional validation auto, on, off", "auto")
    .option("--tokens <n>", "with --compile: tokens decoded by the functional validation")
    .option("--budget <file>", "performance and size budgets (JSON): a breach fails that model")
    .option("--baseline <file>", "baseline figures for the budgets' maxRegressionPct")
    .option("--write-baseline <file>", "write this run's figures as a baseline file")
    .option("--junit <file>", "write JUnit XML: one testcase per model")
    .option("--json", "print the results as JSON on stdout")
    .option("-q, --quiet", "no per-model lines on stderr")
    .option("-v, --verbose", "print debug details")
    .action((inputs: string[], opts: BatchCliOptions) => runBatch(inputs, opts, ctx));
}

async function runBatch(inputs: string[], o: BatchCliOptions, ctx: CliContext): Promise<void> {
  const logger = ctx.logger({ quiet: o.quiet, verbose: o.verbose });
  if (o.compile && !o.output) {
    throw usageError("batch/no-output", "--compile needs an output directory", { fix: "add -o <dir>" });
  }
  const models = await expandInputs(inputs, {
    ...(o.shared !== undefined ? { shared: o.shared } : {}),
    cwd: ctx.cwd,
  });
  const validate = validateModeOf(o.validate);
  const tokens = positiveInt("--tokens", o.tokens);
  const at = (f: string) => resolvePath(ctx.cwd, f);
  const r = await batch(models, {
    ...modelOptionsOf(o, ctx.cwd, ctx.env),
    ...choicesOf(o),
    mode: o.compile ? "compile" : "plan",
    ...(o.output ? { out: o.output } : {}),
    ...(o.force ? { force: true } : {}),
    ...(validate ? { validate } : {}),
    ...(tokens !== undefined ? { tokens } : {}),
    ...(o.budget ? { budget: await readBudgetFile(at(o.budget)) } : {}),
    ...(o.baseline ? { baseline: await readBaselineFile(at(o.baseline)) } : {}),
    logger,
  });
  if (o.junit) await writeFileAtomic(at(o.junit), renderJunit(r));
  if (o.writeBaseline) await writeFileAtomic(at(o.writeBaseline), prettyJson(baselineOf(r)));
  if (o.json) ctx.json(r);
  else ctx.io.stdout(renderBatchTable(r));
  if (r.exitCode !== 0) {
    throw new PccxError(
      "batch/failed",
      r.exitCode as PccxError["exitCode"],
      `${r.failed} of ${r.models.length} models failed`,
      {
        notes: r.models
          .filter((m) => m.status === "failed")
          .map((m) => `${m.model}: [${m.code}] ${(m.reason ?? "").split("\n")[0]}`),
      },
    );
  }
}
