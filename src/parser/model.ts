/**
 * openModel: from the `<model>` argument to a ModelSource, the parser's product: where the model
 * came from, its parsed config (and generation config), and, when weights are present, the
 * TensorIndex over them. Data stays on disk; only headers are read here.
 */
import { readFile } from "node:fs/promises";
import { type Diagnostic, DiagnosticSink, invalidInput, ioError } from "../diag/index.js";
import {
  type GenerationConfig,
  type ParsedConfig,
  type ParseOptions,
  parseConfigText,
  parseGenerationConfigText,
} from "./config/index.js";
import { openTensorIndex } from "./safetensors/load.js";
import type { TensorIndex } from "./safetensors/tensor-index.js";
import type { WeightSet } from "./safetensors/weights.js";
import type { SourceOptions } from "./source/options.js";
import { type ModelOrigin, resolveSource } from "./source/resolve.js";

export interface OpenModelOptions extends SourceOptions {
  /** Receives warnings (e.g. tensors in a shard but not in the index); a fresh sink by default. */
  readonly diag?: DiagnosticSink;
  /** Options of the config parser, e.g. the model types `--plugin` modules add (`{ modelTypes }`). */
  readonly parse?: ParseOptions;
}

export interface ModelSource {
  readonly origin: ModelOrigin;
  /** The directory holding config.json (a cache snapshot for repo ids). */
  readonly dir: string;
  readonly config: ParsedConfig;
  readonly generation?: GenerationConfig;
  /** Present when a safetensors set was found (and the policy was not "none"). */
  readonly tensors?: TensorIndex;
  readonly weights?: WeightSet;
  /** Why there are no tensors, for people (e.g. "no model.safetensors(.index.json) in DIR"). */
  readonly noWeights?: string;
  /** Relative name → absolute path of every file of interest that is present. */
  readonly files: Readonly<Record<string, string>>;
  /** Warnings collected while opening. */
  readonly diagnostics: readonly Diagnostic[];
  /** Closes the tensor files' handles. */
  close(): Promise<void>;
}

export async function openModel(spec: string, opts: OpenModelOptions = {}): Promise<ModelSource> {
  const diag = opts.diag ?? new DiagnosticSink();
  const src = await resolveSource(spec, opts);
  const config = parseConfigText(await readText(src.configFile), src.configFile, opts.parse);
  const genFile = src.files["generation_config.json"];
  const generation = genFile ? parseGenerationConfigText(await readText(genFile), genFile) : undefined;
  let tensors: TensorIndex | undefined;
  let weights: WeightSet | undefined;
  let noWeights: string | undefined;
  if (src.weights?.found) {
    weights = src.weights.set;
    tensors = await openTensorIndex(weights, { diag, weightBlockSize: blockSizeOf(config) });
  } else if (src.weights) {
    noWeights = `no model.safetensors.index.json or model.safetensors in ${src.weights.dir}`;
  } else {
    noWeights = "weights not requested";
  }
  return {
    origin: src.origin,
    dir: src.dir,
    config,
    ...(generation ? { generation } : {}),
    ...(tensors ? { tensors } : {}),
    ...(weights ? { weights } : {}),
    ...(noWeights ? { noWeights } : {}),
    files: src.files,
    diagnostics: diag.sorted(),
    close: async () => {
      await tensors?.close();
    },
  };
}

function blockSizeOf(config: ParsedConfig): readonly [number, number] | undefined {
  const q = config.quantization;
  return q?.method === "fp8" ? q.weight_block_size : undefined;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw invalidInput("source/file-missing", `${file} does not exist`, { at: { file } });
    throw ioError("source/unreadable", `cannot read ${file}: ${(e as Error).message}`, {
      at: { file },
      fix: "check the file's permissions",
    });
  }
}
