/**
 * `pccxc dev …`: developer tools.
 * - `dev tiny <config|model-dir> -o <dir>`: a tiny model of the same family (config.json,
 *   model.safetensors with the real tensor names, generation_config.json), deterministic.
 * - `dev features <config|model-dir>`: the feature ledger of a config on a target.
 * Both accept `--plugin <path|package>` (repeatable), loaded before anything else.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import type { Command } from "commander";
import { formatDiagnostic, ioError, usageError } from "../../diag/index.js";
import {
  ledgerToJson,
  prepareConfig,
  renderLedgerText,
  requireNoRejections,
  runFeatures,
} from "../../features/index.js";
import { parseConfigText } from "../../parser/config/index.js";
import { collect, featureList, loadPlugins } from "../../plugins/index.js";
import { resolve } from "../../resolver/index.js";
import { loadTarget } from "../../target/index.js";
import { generateTiny } from "../../tiny/index.js";
import type { CliContext } from "../context.js";

interface TinyCliOptions {
  readonly output?: string;
  readonly layers?: string;
  readonly hidden?: string;
  readonly vocab?: string;
  readonly window?: string;
  readonly seed?: string;
  readonly force?: boolean;
  readonly plugin?: readonly string[];
  readonly json?: boolean;
  readonly quiet?: boolean;
}

interface FeaturesCliOptions {
  readonly target: string;
  readonly plugin?: readonly string[];
  readonly json?: boolean;
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v))
    throw usageError("tiny/bad-option", `--${name} expects a non-negative integer, got "${v}"`);
  return Number(v);
}

export function registerDev(program: Command, ctx: CliContext): void {
  const dev = program.command("dev").description("developer tools: tiny models, feature ledgers");
  dev
    .command("tiny")
    .description(
      "write a tiny model of the same family: config.json, model.safetensors, generation_config.json",
    )
    .argument("<source>", "config.json or a model directory containing one")
    .requiredOption("-o, --output <dir>", "output directory")
    .option("--layers <n>", "decoder layers (default: the fewest that keep the layer pattern)")
    .option("--hidden <n>", "model width, a multiple of 8 (default 64)")
    .option("--vocab <n>", "vocabulary size (default 256)")
    .option("--window <n>", "sliding window of sliding layers (default 4)")
    .option("--seed <n>", "seed of the synthetic weights (default 0)")
    .option("--force", "overwrite tiny-model files already in the output directory")
    .option("--plugin <spec>", "load an architecture/feature plugin module (repeatable)", collect, [])
    .option("--json", "print a summary as JSON on stdout")
    .option("-q, --quiet", "no summary on stderr")
    .action((source: string, opts: TinyCliOptions) => runTiny(source, opts, ctx));
  dev
    .command("features")
    .description("print the feature ledger of a config for a target")
    .argument("<source>", "config.json or a model directory containing one")
    .option("-t, --target <name|path>", "target name or file", "kv260-v002")
    .option("--plugin <spec>", "load an architecture/feature plugin module (repeatable)", collect, [])
    .option("--json", "print the ledger as JSON on stdout")
    .action((source: string, opts: FeaturesCliOptions) => runFeaturesCommand(source, opts, ctx));
}

async function runTiny(source: string, opts: TinyCliOptions, ctx: CliContext): Promise<void> {
  const plugins = await loadPlugins(opts.plugin ?? [], ctx.cwd);
  const layers = int("layers", opts.layers);
  const hidden = int("hidden", opts.hidden);
  const vocab = int("vocab", opts.vocab);
  const window = int("window", opts.window);
  const seed = int("seed", opts.seed);
  const out = resolvePath(ctx.cwd, opts.output!);
  const m = await generateTiny(resolvePath(ctx.cwd, source), out, {
    ...(layers !== undefined ? { layers } : {}),
    ...(hidden !== undefined ? { hidden } : {}),
    ...(vocab !== undefined ? { vocab } : {}),
    ...(window !== undefined ? { window } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(opts.force ? { force: true } : {}),
    features: featureList(plugins.features, []),
    architectures: plugins.architectures,
    // the source and the tiny config are parsed with the model types plugins add
    modelTypes: plugins.modelTypes,
  });
  const summary = {
    dir: m.dir,
    family: m.plan.family,
    layers: m.plan.layers,
    hidden: m.plan.hidden,
    heads: m.plan.heads,
    kvHeads: m.plan.kvHeads,
    vocab: m.plan.vocab,
    window: m.plan.window,
    tensors: m.graph.weights.filter((w) => w.tiedTo === undefined).length,
    sizes: m.sizes,
    notes: m.plan.notes,
  };
  if (opts.json) ctx.json(summary);
  const log = ctx.logger({ quiet: opts.quiet });
  log.info(
    `${m.plan.family}: ${m.plan.layers} layers, hidden ${m.plan.hidden}, ${m.plan.heads} heads (${m.plan.kvHeads} KV), vocab ${m.plan.vocab} → ${m.dir} (${m.sizes["model.safetensors"]} bytes of weights)`,
  );
  for (const n of m.plan.notes) log.info(`  note: ${n}`);
}

function readConfig(source: string): { file: string; text: string } {
  const file = existsSync(source) && statSync(source).isDirectory() ? join(source, "config.json") : source;
  if (!existsSync(file)) throw ioError("features/not-found", `${file} does not exist`, { at: { file } });
  return { file, text: readFileSync(file, "utf8") };
}

async function runFeaturesCommand(source: string, opts: FeaturesCliOptions, ctx: CliContext): Promise<void> {
  const plugins = await loadPlugins(opts.plugin ?? [], ctx.cwd);
  const features = featureList(plugins.features);
  const target = loadTarget(opts.target, [], { cwd: ctx.cwd });
  const { file, text } = readConfig(resolvePath(ctx.cwd, source));
  const parsed = prepareConfig(parseConfigText(text, file, { modelTypes: plugins.modelTypes }), features);
  const { graph } = resolve(parsed, { plugins: plugins.architectures });
  const r = runFeatures(graph, parsed, target, features);
  for (const d of r.diagnostics.filter((x) => x.severity !== "error"))
    ctx.io.stderr(`${formatDiagnostic(d)}\n`);
  if (opts.json) ctx.io.stdout(ledgerToJson(r.ledger));
  else ctx.io.stdout(renderLedgerText(r.ledger));
  requireNoRejections(r.ledger);
}
