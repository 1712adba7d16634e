/**
 * The `inspect` sections that need the later stages: the resolved architecture (graph summary per
 * layer, parameter counts by role) and the feature ledger on a target. A model whose architecture
 * cannot be resolved still gets the config sections; the error is reported after them.
 */
import { isPccxError, type PccxError } from "../../diag/index.js";
import { type FeatureLedger, prepareConfig, renderLedgerText, runFeatures } from "../../features/index.js";
import type { ModelSource } from "../../parser/model.js";
import { featureList, type LoadedPlugins } from "../../plugins/index.js";
import { countParams, layerSummary, type ModelGraph } from "../../resolver/graph/index.js";
import { resolve } from "../../resolver/index.js";
import { loadTarget } from "../../target/index.js";
import type { CliContext } from "../context.js";
import type { InspectOptions, InspectSection } from "./inspect.js";

export interface Analysis {
  readonly graph?: ModelGraph;
  readonly ledger?: FeatureLedger;
  readonly error?: PccxError;
}

export async function analyse(
  src: ModelSource,
  plugins: LoadedPlugins,
  opts: InspectOptions,
  ctx: CliContext,
): Promise<Analysis> {
  const features = featureList(plugins.features);
  const target = loadTarget(opts.target ?? "kv260-v002", [], { cwd: ctx.cwd });
  try {
    const parsed = prepareConfig(src.config, features);
    const { graph } = resolve(parsed, { plugins: plugins.architectures });
    const r = runFeatures(graph, parsed, target, features);
    return { graph: r.graph, ledger: r.ledger };
  } catch (e) {
    if (isPccxError(e)) return { error: e };
    throw e;
  }
}

export function architectureSection(a: Analysis): InspectSection {
  const g = a.graph;
  if (!g) {
    const msg = a.error ? `not resolved: ${a.error.message}` : "not resolved";
    return { key: "architecture", title: "architecture", data: { error: msg }, lines: [msg] };
  }
  const params = countParams(g);
  const layers = layerSummary(g);
  const lines = [
    `plugin: ${g.meta.plugin} (${g.meta.modelType}), ${g.meta.numLayers} layers, hidden ${g.meta.hiddenSize}, vocab ${g.meta.vocabSize}`,
    `graph: ${g.ops.length} ops, ${g.values.length} values, ${params.tensors} stored tensors`,
    `parameters: ${params.total.toLocaleString("en-US")}`,
    ...Object.entries(params.byRole)
      .sort((x, y) => (y[1] ?? 0) - (x[1] ?? 0))
      .map(([role, n]) => `  ${role.padEnd(24)} ${(n ?? 0).toLocaleString("en-US")}`),
    "layers:",
    ...layers.map((l) => {
      const at = l.attention
        ? `${l.attention.kind} ${l.attention.heads}q/${l.attention.kvHeads}kv×${l.attention.headDim} ${l.attention.mask} kv=${l.attention.kv}`
        : "no attention";
      const moe = l.moe ? `, moe ${l.moe.experts} experts top-${l.moe.topK}` : "";
      return `  L${l.layer}: ${at}${moe}, ${l.ops} ops, ${l.params.toLocaleString("en-US")} params`;
    }),
  ];
  for (const n of g.meta.notes ?? []) lines.push(`note: ${n}`);
  const data = { meta: g.meta, ops: g.ops.length, params, layers };
  return { key: "architecture", title: "architecture", data, lines };
}

export function ledgerSection(a: Analysis): InspectSection {
  if (!a.ledger) return { key: "ledger", title: "feature ledger", data: null, lines: ["not computed"] };
  const lines = renderLedgerText(a.ledger).trimEnd().split("\n");
  return { key: "ledger", title: "feature ledger", data: a.ledger, lines };
}
