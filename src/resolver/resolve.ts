/**
 * resolve(): ParsedConfig → ModelGraph. Picks the architecture plugin (extra plugins first), gives
 * it a GraphBuilder primed with the checkpoint dtype, runs it, and verifies the graph. Anything
 * wrong with the graph after that is a plugin bug: exit 70, naming the plugin.
 */
import { type Diagnostic, ExitCode, formatDiagnostic, isPccxError, PccxError } from "../diag/index.js";
import type { ParsedConfig } from "../parser/config/index.js";
import { GraphBuilder, type ModelGraph, verifyGraph } from "./graph/index.js";
import type { ArchitecturePlugin } from "./plugin.js";
import { setCheckpointDtype, weightDtypeOfTorch } from "./plugins/common/index.js";
import { setCheckpointFormat } from "./plugins/index-b.js";
import { lookupArchitecture, pluginList } from "./registry.js";

export interface ResolveOptions {
  /** Plugins loaded with `--plugin`: tried before the built-ins, so they can override them. */
  readonly plugins?: readonly ArchitecturePlugin[];
}

export interface ResolveResult {
  readonly graph: ModelGraph;
  /** Id of the plugin that built the graph. */
  readonly plugin: string;
  /** Warnings and notes (never errors: those throw). Sorted by code. */
  readonly diagnostics: readonly Diagnostic[];
}

/** A diagnostic when the config names no checkpoint dtype, or one pccxc does not know. */
function dtypeDiagnostics(parsed: ParsedConfig, out: Diagnostic[]): void {
  if (parsed.dtype === null) {
    out.push({
      code: "resolver/dtype-default",
      severity: "info",
      message: `${parsed.file} names no torch_dtype/dtype; weights are declared with the family's published checkpoint dtype`,
      at: { file: parsed.file },
    });
  } else if (weightDtypeOfTorch(parsed.dtype) === undefined) {
    out.push({
      code: "resolver/dtype-unknown",
      severity: "warning",
      message: `${parsed.file}: dtype "${parsed.dtype}" is not a float storage type pccxc knows; the family default is used`,
      at: { file: parsed.file, jsonPath: "$.torch_dtype" },
      fix: "check the dtypes with `pccxc inspect` on the safetensors files",
    });
  }
}

/**
 * A GraphBuilder for `plugin` to build the graph of `parsed` into, primed as resolve() primes it:
 * the graph meta, the checkpoint dtype of the config (when it names a known one) and the checkpoint
 * format (the wrapper model_type and quantization_config, which some plugins need besides the
 * TextConfig).
 */
export function primedBuilder(parsed: ParsedConfig, plugin: string): GraphBuilder {
  const cfg = parsed.text;
  const b = new GraphBuilder({
    modelType: cfg.model_type,
    plugin,
    numLayers: cfg.num_hidden_layers,
    hiddenSize: cfg.hidden_size,
    vocabSize: cfg.vocab_size,
  });
  const dtype = weightDtypeOfTorch(parsed.dtype);
  if (dtype) setCheckpointDtype(b, dtype);
  setCheckpointFormat(b, parsed);
  return b;
}

/** Builds and verifies the ModelGraph of a parsed config. */
export function resolve(parsed: ParsedConfig, opts: ResolveOptions = {}): ResolveResult {
  const cfg = parsed.text;
  const plugins = pluginList(opts.plugins);
  const plugin = lookupArchitecture(
    {
      family: cfg.family,
      modelType: cfg.model_type,
      architectures: parsed.architectures,
      file: parsed.file,
    },
    plugins,
  );
  const diagnostics: Diagnostic[] = [];
  dtypeDiagnostics(parsed, diagnostics);
  const b = primedBuilder(parsed, plugin.id);

  try {
    plugin.build(cfg, b);
  } catch (e) {
    if (isPccxError(e)) {
      if (e.exitCode !== ExitCode.INTERNAL) throw e;
      throw new PccxError(
        e.code,
        e.exitCode,
        `the ${plugin.id} architecture plugin failed on ${parsed.file}: ${e.message}`,
        {
          notes: e.notes,
          ...(e.at ? { at: e.at } : {}),
          fix: e.fix ?? "this is a bug in the plugin; report it with the config file",
        },
      );
    }
    const msg = e instanceof Error ? e.message : String(e);
    throw new PccxError(
      "resolver/plugin-crashed",
      ExitCode.INTERNAL,
      `the ${plugin.id} architecture plugin crashed on ${parsed.file}: ${msg}`,
      { fix: "this is a bug in the plugin; report it with the config file" },
    );
  }

  // Plugins name their last value `logits` (lmHead does); verifyGraph reports it if they did not.
  const graph = b.finish("logits", { verify: false });
  const found = verifyGraph(graph);
  const errors = found.filter((d) => d.severity === "error");
  if (errors.length > 0) {
    throw new PccxError(
      "resolver/invalid-graph",
      ExitCode.INTERNAL,
      `the ${plugin.id} architecture plugin built an invalid graph for ${parsed.file} (${errors.length} problem${errors.length === 1 ? "" : "s"})`,
      {
        notes: errors.slice(0, 20).map(formatDiagnostic),
        fix: "this is a bug in the plugin, not in the config; report it with the config file",
      },
    );
  }
  diagnostics.push(...found);
  diagnostics.sort((a, b2) => (a.code < b2.code ? -1 : a.code > b2.code ? 1 : 0));
  return { graph, plugin: plugin.id, diagnostics };
}
