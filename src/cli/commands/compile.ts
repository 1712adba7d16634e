/**
 * `pccxc compile <model-dir | config.json | repo-id> -o <out>`: the whole pipeline (src/pipeline
 * compile()). The summary goes to stderr; with --json a machine-readable summary on stdout only.
 * Also the option groups `plan` and `batch` share.
 */
import type { Command } from "commander";
import { compile } from "../../pipeline/compile.js";
import {
  choicesOf,
  modelOptionsOf,
  positiveInt,
  type RawChoiceOptions,
  stageOf,
  validateModeOf,
} from "../../pipeline/option-values.js";
import { renderSummary } from "../../pipeline/summary.js";
import { STAGE_NAMES } from "../../pipeline/types.js";
import type { CliContext } from "../context.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Where the model comes from: the HF hub options. */
export function addSourceOptions(cmd: Command): Command {
  return cmd
    .option("--revision <rev>", "branch, tag or commit of a repo id (default main)")
    .option(
      "--cache-dir <dir>",
      "Hugging Face cache directory (default: HF_HUB_CACHE / HF_HOME / ~/.cache/huggingface/hub)",
    )
    .option("--token <token>", "Hugging Face token for gated repos (default: HF_TOKEN)")
    .option("--offline", "never use the network (same as HF_HUB_OFFLINE=1)");
}

/** What shapes the program: layout choices, target overrides, plugins. */
export function addChoiceOptions(cmd: Command): Command {
  return cmd
    .option("--set <path=value>", "override a target value, e.g. ddr.efficiency=0.85 (repeatable)", collect)
    .option("--group-size <n>", "INT4 scale group along K: 0/per-row, 32, 64, 128 (default: the target's)")
    .option(
      "--context <n>",
      "tokens the KV cache holds (default: min(max_position_embeddings, target ring capacity))",
    )
    .option("--kv-dtype <dtype>", "KV cache dtype: int4, int8, bf16 (default: the target's)")
    .option("--plugin <spec>", "load an architecture/feature plugin module (repeatable)", collect)
    .option(
      "--layout-override <spec>",
      "change a tensor's layout: <tensor-glob|role>=<format>[,group=N][,placement=P] (repeatable, in order)",
      collect,
    );
}

interface CompileCliOptions extends RawChoiceOptions {
  readonly output: string;
  readonly stopAfter?: string;
  readonly validate?: string;
  readonly tokens?: string;
  readonly threads?: string;
  readonly quantSearch?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
}

export function registerCompile(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("compile")
    .description("compile a Hugging Face model for the pccx NPU: program, weight image, C driver, reports")
    .argument("<model>", "model directory, config.json, or Hugging Face repo id (org/name)")
    .requiredOption("-o, --output <dir>", "output directory (refused when not empty, unless --force)")
    .option("-t, --target <name|file>", "built-in target name or target file (default kv260-v002)");
  addChoiceOptions(cmd);
  addSourceOptions(cmd)
    .option("--stop-after <stage>", `stop after a stage and write its JSON dump: ${STAGE_NAMES.join("|")}`)
    .option("--validate <mode>", "functional validation: auto (small models), on, off", "auto")
    .option("--tokens <n>", "tokens decoded by the functional validation (default 8)")
    .option("--threads <n>", "quantization worker threads (default: cores, at most 8)")
    .option(
      "--quant-search",
      "MSE-optimal clipping search for every INT4 row/group scale (slower; default off)",
    )
    .option("--force", "replace a non-empty output directory")
    .option("--json", "print the summary as JSON on stdout")
    .option("-q, --quiet", "print only warnings and errors")
    .option("-v, --verbose", "print debug details (stage times, diagnostics)")
    .action((model: string, opts: CompileCliOptions) => runCompile(model, opts, ctx));
}

async function runCompile(model: string, o: CompileCliOptions, ctx: CliContext): Promise<void> {
  const logger = ctx.logger({ quiet: o.quiet, verbose: o.verbose });
  const stopAfter = stageOf(o.stopAfter);
  const validate = validateModeOf(o.validate);
  const tokens = positiveInt("--tokens", o.tokens);
  const threads = o.threads === "0" ? 0 : positiveInt("--threads", o.threads);
  const r = await compile(model, {
    ...modelOptionsOf(o, ctx.cwd, ctx.env),
    ...choicesOf(o),
    out: o.output,
    ...(o.force ? { force: true } : {}),
    ...(stopAfter ? { stopAfter } : {}),
    ...(validate ? { validate } : {}),
    ...(tokens !== undefined ? { tokens } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(o.quantSearch ? { quantSearch: true } : {}),
    logger,
  });
  if (!o.quiet) ctx.io.stderr(renderSummary(r.summary, o.output));
  if (o.json) ctx.json({ out: o.output, ...r.summary, outputs: r.manifest.outputs.length });
}
