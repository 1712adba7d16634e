/**
 * `pccxc inspect <model>`: what pccxc sees in a model: where it came from, its type and
 * architecture, the normalised config, which config keys were consumed and which are unknown, and
 * the tensors (grouped by layer pattern for big models; `--all-tensors` lists every one). Works
 * with the config alone. `--json` prints the same report as JSON on stdout.
 *
 * The report is a list of sections: a later stage adds its own (graph, feature ledger) by
 * appending a builder to SECTIONS, without touching the others.
 */
import type { Command } from "commander";
import { formatDiagnostic } from "../../diag/index.js";
import { type ModelSource, openModel } from "../../parser/model.js";
import {
  dtypeTotals,
  groupTensors,
  sortedEntries,
  type TensorGroup,
} from "../../parser/safetensors/summary.js";
import { collect, loadPlugins } from "../../plugins/index.js";
import type { CliContext } from "../context.js";
import { analyse, architectureSection, ledgerSection } from "./inspect-graph.js";

export interface InspectOptions {
  readonly json?: boolean;
  readonly revision?: string;
  readonly cacheDir?: string;
  readonly offline?: boolean;
  readonly token?: string;
  readonly weights?: string;
  readonly allTensors?: boolean;
  readonly configOnly?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly target?: string;
  readonly plugin?: readonly string[];
}

/** Above this many tensors the listing is grouped unless --all-tensors. */
export const TENSOR_LIST_LIMIT = 50;

/** One part of the report: its JSON value and its text lines. */
export interface InspectSection {
  readonly key: string;
  readonly title: string;
  readonly data: unknown;
  readonly lines: readonly string[];
}

export type SectionBuilder = (src: ModelSource, opts: InspectOptions) => InspectSection;

export function registerInspect(program: Command, ctx: CliContext): void {
  program
    .command("inspect")
    .description("show what pccxc reads from a model: config, config keys, tensors")
    .argument("<model>", "model directory, config.json, or Hugging Face repo id (org/name)")
    .option("--json", "print the report as JSON on stdout")
    .option("--revision <rev>", "branch, tag or commit of a repo id", "main")
    .option(
      "--cache-dir <dir>",
      "Hugging Face hub cache (default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub)",
    )
    .option("--offline", "never use the network (also HF_HUB_OFFLINE=1)")
    .option("--token <token>", "Hugging Face token for gated or private repos (default: HF_TOKEN)")
    .option("--weights <file>", "use this *.safetensors file or *.safetensors.index.json")
    .option("--all-tensors", "list every tensor instead of grouping by layer pattern")
    .option("--config-only", "do not look for or download weights")
    .option("--target <name|file>", "target the feature ledger is judged against", "kv260-v002")
    .option("--plugin <spec>", "load an architecture/feature plugin module (repeatable)", collect, [])
    .option("-q, --quiet", "no progress output")
    .option("-v, --verbose", "debug output on stderr")
    .action(async (model: string, opts: InspectOptions) => runInspect(model, opts, ctx));
}

export async function runInspect(model: string, opts: InspectOptions, ctx: CliContext): Promise<void> {
  const logger = ctx.logger({ quiet: opts.quiet, verbose: opts.verbose });
  const plugins = await loadPlugins(opts.plugin ?? [], ctx.cwd);
  const src = await openModel(model, {
    ...(opts.revision ? { revision: opts.revision } : {}),
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.offline ? { offline: true } : {}),
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.weights ? { weights: opts.weights } : {}),
    weightsPolicy: opts.configOnly ? "none" : "optional",
    env: ctx.env,
    cwd: ctx.cwd,
    logger,
    // model types added by architecture plugins
    parse: { modelTypes: plugins.modelTypes },
  });
  try {
    const analysis = await analyse(src, plugins, opts, ctx);
    if (opts.json && analysis.error) throw analysis.error;
    const sections = [
      ...SECTIONS.map((build) => build(src, opts)),
      architectureSection(analysis),
      ledgerSection(analysis),
    ];
    for (const d of src.diagnostics) ctx.io.stderr(`${formatDiagnostic(d)}\n`);
    if (opts.json) {
      ctx.json({ model, ...Object.fromEntries(sections.map((s) => [s.key, s.data])) });
      return;
    }
    const text = sections
      .map((s) => [`== ${s.title}`, ...s.lines.map((l) => `  ${l}`)].join("\n"))
      .join("\n\n");
    ctx.io.stdout(`${text}\n`);
    if (analysis.error) throw analysis.error;
  } finally {
    await src.close();
  }
}

const originSection: SectionBuilder = (src) => {
  const o = src.origin;
  const lines =
    o.kind === "dir"
      ? [`directory: ${o.dir}`]
      : [
          `repo: ${o.repo} @ ${o.revision} (commit ${o.sha})`,
          `snapshot: ${o.snapshotDir}`,
          `cache: ${o.cacheDir} (from ${o.cacheSource})`,
          o.downloaded.length
            ? `downloaded now: ${o.downloaded.join(", ")}`
            : "downloaded now: nothing (all cached)",
        ];
  lines.push(`files: ${Object.keys(src.files).join(", ")}`);
  return { key: "source", title: "source", data: { ...o, dir: src.dir, files: src.files }, lines };
};

const modelSection: SectionBuilder = (src) => {
  const c = src.config;
  const t = src.tensors;
  const params = t ? t.parameterCount() : null;
  const data = {
    modelType: c.modelType,
    textModelType: c.text.model_type,
    family: c.text.family,
    architectures: c.architectures,
    dtype: c.dtype,
    serialization: c.serialization,
    transformersVersion: c.transformersVersion,
    parameters: params,
    quantization: c.quantization ?? null,
  };
  const lines = [
    `model type: ${c.modelType}${c.text.model_type !== c.modelType ? ` (text model: ${c.text.model_type})` : ""}`,
    `family: ${c.text.family}`,
    `architectures: ${c.architectures.length ? c.architectures.join(", ") : "(none given)"}`,
    `parameters: ${params === null ? "unknown (no weights found)" : `${params.toLocaleString("en-US")} (${human(params)}, from the tensors)`}`,
    `checkpoint dtype: ${c.dtype ?? "(not given)"}; ${c.serialization}${c.transformersVersion ? ` ${c.transformersVersion}` : ""}`,
  ];
  if (c.quantization) {
    const q = c.quantization;
    lines.push(`quantization: ${q.method}${q.supported ? "" : ` (unsupported: ${q.reason ?? ""})`}`);
  }
  return { key: "model", title: "model", data, lines };
};

const configSection: SectionBuilder = (src) => {
  const lines = flatten(src.config.text).map(([k, v]) => `${k}: ${v}`);
  if (src.generation) {
    const g = src.generation;
    lines.push(
      `generation: eos ${JSON.stringify(g.eos_token_id)}, bos ${g.bos_token_id}, ` +
        `${g.do_sample ? `sampling (temperature ${g.temperature}, top_p ${g.top_p}, top_k ${g.top_k})` : "greedy"}`,
    );
  }
  return {
    key: "config",
    title: "config (normalised text model)",
    data: { text: src.config.text, generation: src.generation ?? null },
    lines,
  };
};

const keysSection: SectionBuilder = (src) => {
  const c = src.config;
  const data = {
    consumed: c.consumedKeys,
    unknown: c.unknownKeys,
    nonSemantic: c.nonSemanticKeys,
    defaultsApplied: c.defaultsApplied,
  };
  const lines = [
    `consumed (${c.consumedKeys.length}): ${c.consumedKeys.join(", ") || "(none)"}`,
    `not consumed, unknown (${c.unknownKeys.length}): ${c.unknownKeys.join(", ") || "(none)"}`,
    `not consumed, non-semantic (${c.nonSemanticKeys.length}): ${c.nonSemanticKeys.join(", ") || "(none)"}`,
    `defaults applied (${Object.keys(c.defaultsApplied).length}): ${
      Object.entries(c.defaultsApplied)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(", ") || "(none)"
    }`,
  ];
  return { key: "configKeys", title: "config keys", data, lines };
};

const weightsSection: SectionBuilder = (src, opts) => {
  const t = src.tensors;
  if (!t || !src.weights) {
    const why = src.noWeights ?? "no weights";
    return {
      key: "weights",
      title: "weights",
      data: { found: false, reason: why },
      lines: [`no weights found: ${why}`, "everything above comes from the config alone"],
    };
  }
  const totals = dtypeTotals(t);
  const listAll = opts.allTensors || t.size <= TENSOR_LIST_LIMIT;
  const base = {
    found: true,
    kind: src.weights.kind,
    file: src.weights.file,
    files: src.weights.shards,
    tensorCount: t.size,
    parameters: t.parameterCount(),
    bytes: t.totalBytes(),
    byDtype: totals,
  };
  const lines = [
    `${src.weights.kind === "index" ? `index ${src.weights.file}, ${src.weights.shards.length} shard(s)` : src.weights.file}`,
    `${t.size} tensors, ${human(t.parameterCount())} parameters, ${bytes(t.totalBytes())}`,
    ...totals.map(
      (d) => `  ${d.dtype}: ${d.tensors} tensors, ${human(d.parameters)} parameters, ${bytes(d.bytes)}`,
    ),
  ];
  if (listAll) {
    const tensors = sortedEntries(t).map((e) => ({
      name: e.name,
      dtype: e.dtype,
      shape: e.shape,
      bytes: e.byteLength,
    }));
    lines.push(...tensors.map((e) => `${e.name}  ${e.dtype} [${e.shape.join(", ")}]  ${bytes(e.bytes)}`));
    return { key: "weights", title: "weights", data: { ...base, tensors }, lines };
  }
  const groups = groupTensors(t);
  lines.push(`${groups.length} name patterns (--all-tensors lists all ${t.size}):`);
  lines.push(...groups.map(groupLine));
  return { key: "weights", title: "weights", data: { ...base, tensorGroups: groups }, lines };
};

function groupLine(g: TensorGroup): string {
  const shape = g.shape ? `[${g.shape.join(", ")}]` : "(shapes vary)";
  return `${g.pattern}${g.count > 1 ? ` ×${g.count}` : ""}  ${g.dtypes.join("/")} ${shape}  ${bytes(g.bytes)}`;
}

/** The report's sections, in print order. */
export const SECTIONS: SectionBuilder[] = [
  originSection,
  modelSection,
  configSection,
  keysSection,
  weightsSection,
];

/** Flattens a config object to `path: value` rows; per-layer arrays are summarised. */
export function flatten(v: unknown, prefix = ""): [string, string][] {
  if (v === null || typeof v !== "object") return [[prefix, JSON.stringify(v)]];
  if (Array.isArray(v)) return [[prefix, summariseArray(v)]];
  const rows: [string, string][] = [];
  for (const [k, x] of Object.entries(v)) rows.push(...flatten(x, prefix ? `${prefix}.${k}` : k));
  return rows;
}

function summariseArray(a: readonly unknown[]): string {
  if (a.length === 0) return "[]";
  const counts = new Map<string, number>();
  for (const x of a) counts.set(JSON.stringify(x), (counts.get(JSON.stringify(x)) ?? 0) + 1);
  if (a.length <= 8) return `[${a.map((x) => JSON.stringify(x)).join(", ")}]`;
  return `${a.length} entries: ${[...counts].map(([x, n]) => `${n}× ${x}`).join(", ")}`;
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

function bytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}
