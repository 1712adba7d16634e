/**
 * `generateTiny`: a real config (file or model directory) → a tiny model directory with
 * `config.json` (same family, shrunk), `model.safetensors` (every tensor of the tiny graph with its
 * real name and shape, seeded synthetic values) and `generation_config.json`. The tiny config is
 * parsed and resolved before anything is written; the same arguments give byte-identical files.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ExitCode, invalidInput, ioError, isPccxError, PccxError, usageError } from "../diag/index.js";
import { type FeaturePlugin, prepareConfig } from "../features/index.js";
import {
  type GenerationConfig,
  type ParsedConfig,
  type PluginModelType,
  parseConfigText,
  parseGenerationConfigText,
} from "../parser/config/index.js";
import { writeSafetensors } from "../parser/safetensors/index.js";
import type { ModelGraph } from "../resolver/graph/index.js";
import type { ArchitecturePlugin } from "../resolver/plugin.js";
import { resolve } from "../resolver/resolve.js";
import { writeFileAtomic } from "../util/atomic.js";
import { shrinkConfig, type TinyOptions, type TinyPlan } from "./shrink.js";
import { tinyTensors } from "./weights.js";

export const TINY_FILES = ["config.json", "generation_config.json", "model.safetensors"] as const;

export interface GenerateOptions extends TinyOptions {
  /** Seed of the synthetic weights (default 0). */
  readonly seed?: number;
  /** Overwrite existing tiny-model files in the output directory. */
  readonly force?: boolean;
  /** Plugins loaded with --plugin (their prepare hooks and architectures are used to resolve). */
  readonly features?: readonly FeaturePlugin[];
  readonly architectures?: readonly ArchitecturePlugin[];
  /** Model types plugins add (`LoadedPlugins.modelTypes`): known when parsing the source and the tiny config. */
  readonly modelTypes?: readonly PluginModelType[];
}

export interface TinyModel {
  readonly dir: string;
  readonly plan: TinyPlan;
  readonly parsed: ParsedConfig;
  readonly graph: ModelGraph;
  /** Bytes of each written file. */
  readonly sizes: Readonly<Record<(typeof TINY_FILES)[number], number>>;
}

interface Source {
  readonly configFile: string;
  readonly configText: string;
  readonly generationText?: string;
}

function readSource(path: string): Source {
  if (!existsSync(path))
    throw ioError("tiny/not-found", `${path} does not exist`, {
      fix: "pass a config.json file or a model directory containing one",
    });
  const configFile = statSync(path).isDirectory() ? join(path, "config.json") : path;
  if (!existsSync(configFile))
    throw ioError("tiny/not-found", `${path} has no config.json`, { at: { file: configFile } });
  const genFile = join(dirname(configFile), "generation_config.json");
  try {
    return {
      configFile,
      configText: readFileSync(configFile, "utf8"),
      ...(existsSync(genFile) ? { generationText: readFileSync(genFile, "utf8") } : {}),
    };
  } catch (e) {
    throw ioError("tiny/read", `cannot read ${configFile}: ${(e as Error).message}`, {
      at: { file: configFile },
    });
  }
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** generation_config.json of the tiny model: the source's (token ids remapped), else from the config. */
function generationConfig(
  g: GenerationConfig | undefined,
  parsed: ParsedConfig,
  plan: TinyPlan,
): Record<string, unknown> {
  const map = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(map) : typeof v === "number" ? (plan.tokenMap[String(v)] ?? v) : v;
  if (g !== undefined) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(g.raw)) out[k] = /token_id$/.test(k) ? map(v) : v;
    return out;
  }
  const t = parsed.specialTokens;
  const eos = t.eos_token_id.map((x) => map(x));
  return {
    _from_model_config: true,
    ...(t.bos_token_id !== null ? { bos_token_id: map(t.bos_token_id) } : {}),
    ...(eos.length ? { eos_token_id: eos.length === 1 ? eos[0] : eos } : {}),
    ...(t.pad_token_id !== null ? { pad_token_id: map(t.pad_token_id) } : {}),
    ...(parsed.transformersVersion ? { transformers_version: parsed.transformersVersion } : {}),
  };
}

/** Parses and resolves the tiny config; a failure is a bug of the shrinking rules (exit 70). */
function checkTiny(
  text: string,
  family: string,
  opts: GenerateOptions,
): { parsed: ParsedConfig; graph: ModelGraph } {
  try {
    const parsed = parseConfigText(text, "config.json", { modelTypes: opts.modelTypes ?? [] });
    const prepared = prepareConfig(parsed, opts.features ?? []);
    const { graph } = resolve(prepared, { plugins: opts.architectures ?? [] });
    return { parsed, graph };
  } catch (e) {
    const why = isPccxError(e) ? `${e.code}: ${e.message}` : String(e);
    throw new PccxError(
      "tiny/invalid",
      ExitCode.INTERNAL,
      `the tiny ${family} config does not resolve: ${why}`,
      {
        notes: isPccxError(e) ? e.notes : [],
        fix: "a bug in the tiny generator's shrinking rules (src/tiny/shrink.ts); please report it with the source config",
      },
    );
  }
}

export async function generateTiny(
  source: string,
  outDir: string,
  opts: GenerateOptions = {},
): Promise<TinyModel> {
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw usageError("tiny/bad-option", `--seed must be an integer in [0, 2^32), got ${seed}`);
  const src = readSource(source);
  const modelTypes = opts.modelTypes ?? [];
  const parsed = prepareConfig(
    parseConfigText(src.configText, src.configFile, { modelTypes }),
    opts.features ?? [],
  );
  const sourceGen =
    src.generationText === undefined
      ? undefined
      : parseGenerationConfigText(src.generationText, "generation_config.json");
  const extraTokenIds = sourceGen
    ? [sourceGen.bos_token_id, sourceGen.pad_token_id, ...sourceGen.eos_token_id].filter(
        (x): x is number => x !== null,
      )
    : [];
  const { config, plan } = shrinkConfig(parsed, { ...opts, extraTokenIds });
  const configText = json(config);
  const tiny = checkTiny(configText, plan.family, opts);
  const genText = json(generationConfig(sourceGen, parsed, plan));
  try {
    parseGenerationConfigText(genText, "generation_config.json");
  } catch (e) {
    throw invalidInput(
      "tiny/generation-config",
      `the source's generation config cannot be carried over: ${(e as Error).message}`,
    );
  }
  const tensors = tinyTensors(tiny.graph, seed);

  await mkdir(outDir, { recursive: true });
  const existing = TINY_FILES.filter((f) => existsSync(join(outDir, f)));
  if (existing.length > 0 && !opts.force)
    throw usageError("tiny/exists", `${outDir} already holds ${existing.join(", ")}`, {
      fix: "pass --force to overwrite them, or choose another -o directory",
    });
  await writeFileAtomic(join(outDir, "config.json"), configText);
  await writeFileAtomic(join(outDir, "generation_config.json"), genText);
  const written = await writeSafetensors(join(outDir, "model.safetensors"), tensors, {
    format: "pt",
    generator: "pccxc dev tiny",
    seed: String(seed),
    source: basename(dirname(src.configFile)) || basename(src.configFile),
  });
  return {
    dir: outDir,
    plan,
    parsed: tiny.parsed,
    graph: tiny.graph,
    sizes: {
      "config.json": Buffer.byteLength(configText),
      "generation_config.json": Buffer.byteLength(genText),
      "model.safetensors": written.fileSize,
    },
  };
}
