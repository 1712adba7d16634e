/**
 * Test kit of the Gemma / DeepSeek / gpt-oss plugin tests: where the real configs are (the shared
 * collection, and the copies shipped in examples/configs), building a graph from a config object
 * the way resolve() does (dtype + checkpoint format registered on the builder), seeded synthetic
 * weights for the golden reference, and the KV-cache consistency check.
 */
import { existsSync, readFileSync } from "node:fs";
import { type ParsedConfig, parseConfigObject } from "../../../src/parser/config/index.js";
import { type ModelGraph, verifyGraph, type WeightDecl } from "../../../src/resolver/graph/index.js";
import type { ArchitecturePlugin } from "../../../src/resolver/plugin.js";
import { PLUGINS_B, setCheckpointFormat } from "../../../src/resolver/plugins/index-b.js";
import { primedBuilder } from "../../../src/resolver/resolve.js";
import { mulberry32 } from "../../../src/util/random.js";
import {
  GoldenModel,
  goldenGenerate,
  MemoryWeights,
  recomputeLast,
  type WeightTensor,
} from "../../../src/validate/golden/index.js";
import { EXAMPLE_CONFIGS, HAVE_SHARED, SHARED_CONFIGS } from "../../helpers/paths.js";

export { EXAMPLE_CONFIGS, HAVE_SHARED, SHARED_CONFIGS };

/** Warns once per suite that the shared-config tests are skipped. */
export function warnSkipped(what: string): void {
  if (!HAVE_SHARED) console.warn(`[plugins-b] ${SHARED_CONFIGS} not found: skipping ${what}`);
}

export function readConfig(dir: string, model: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${dir}/${model}/config.json`, "utf8")) as Record<string, unknown>;
}

export function pluginFor(parsed: ParsedConfig): ArchitecturePlugin {
  const p = PLUGINS_B.find((x) => (x.families as readonly string[]).includes(parsed.text.family));
  if (!p) throw new Error(`no plugin-b for family ${parsed.text.family}`);
  return p;
}

/** Builds the graph of a parsed config as resolve() does; `format: false` skips the format hook. */
export function buildGraph(parsed: ParsedConfig, opts: { format?: boolean } = {}): ModelGraph {
  const plugin = pluginFor(parsed);
  const b = primedBuilder(parsed, plugin.id);
  // An empty format is what a builder without a registered one reads.
  if (opts.format === false) setCheckpointFormat(b, {});
  plugin.build(parsed.text, b);
  return b.finish("logits");
}

export function graphOf(raw: Record<string, unknown>, file = "config.json", opts: { format?: boolean } = {}) {
  const parsed = parseConfigObject(raw, file);
  return { parsed, graph: buildGraph(parsed, opts) };
}

export function errorsOf(g: ModelGraph): string[] {
  return verifyGraph(g)
    .filter((d) => d.severity === "error")
    .map((d) => d.message);
}

export function weight(g: ModelGraph, name: string): WeightDecl {
  const w = g.weights.find((x) => x.name === name && x.tiedTo === undefined);
  if (!w) throw new Error(`weight ${name} not declared`);
  return w;
}

export function opsOfLayer<K extends ModelGraph["ops"][number]["kind"]>(
  g: ModelGraph,
  layer: number,
  kind: K,
) {
  return g.ops.filter((o) => o.layer === layer && o.kind === kind) as Extract<
    ModelGraph["ops"][number],
    { kind: K }
  >[];
}

/**
 * Seeded weights for every stored, used tensor: matrices ~U(±1/√fan_in), norm weights near 1
 * (near 0 for Gemma 2/3's `1 + w` norms), biases / sinks / scales small, embeddings ~U(±1).
 */
export function syntheticWeights(g: ModelGraph, seed: number): MemoryWeights {
  const r = mulberry32(seed);
  const offsetNorms = new Set<string>();
  for (const op of g.ops)
    if (op.kind === "rms_norm" && op.weightOffset === 1 && op.weight) offsetNorms.add(op.weight.weight);
  const out: [string, WeightTensor][] = [];
  for (const w of g.weights) {
    if (w.tiedTo !== undefined || w.unused !== undefined) continue;
    const n = w.shape.reduce((a, b) => a * b, 1);
    const fanIn = w.shape[w.transposed ? w.shape.length - 2 : w.shape.length - 1] ?? 1;
    const gen = (): number => {
      const u = 2 * r() - 1;
      if (w.role === "norm") return offsetNorms.has(w.id) ? 0.2 * u : 1 + 0.2 * u;
      if (w.role === "bias" || w.role === "sinks") return 0.3 * u;
      if (w.role === "scale") return 1 + 0.3 * u;
      if (w.role === "embedding" || w.role === "per_layer_embedding") return u;
      return u / Math.sqrt(fanIn);
    };
    out.push([w.name, { shape: w.shape, data: Float64Array.from({ length: n }, gen) }]);
  }
  return new MemoryWeights(out);
}

export const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/**
 * Greedy decoding with the KV cache vs recomputing every prefix without one: the largest logit
 * difference over all steps, and the spread of the first step's logits (to prove they are not flat).
 */
export async function cacheConsistency(
  g: ModelGraph,
  seed: number,
  prompt: readonly number[],
  steps: number,
): Promise<{ worst: number; spread: number; tokens: number[]; finite: boolean }> {
  const model = await GoldenModel.load(g, syntheticWeights(g, seed));
  const run = await goldenGenerate(model, [...prompt], steps);
  let worst = 0;
  let finite = true;
  for (let i = 0; i < steps; i++) {
    const ref = recomputeLast(model, [...prompt, ...run.tokens.slice(0, i)]);
    worst = Math.max(worst, maxDiff(run.steps[i]!, ref));
    finite &&= ref.every(Number.isFinite);
  }
  const first = Array.from(run.steps[0]!);
  return { worst, spread: Math.max(...first) - Math.min(...first), tokens: [...run.tokens], finite };
}

/** Deep copy of a config with `edit` applied to its text part (text_config of wrappers). */
export function shrink(
  raw: Record<string, unknown>,
  edit: Record<string, unknown>,
  top: Record<string, unknown> = {},
): Record<string, unknown> {
  const c = structuredClone(raw);
  const text = (c.text_config as Record<string, unknown> | undefined) ?? c;
  for (const [k, v] of Object.entries(edit)) {
    if (v === undefined) delete text[k];
    else text[k] = v;
  }
  for (const [k, v] of Object.entries(top)) {
    if (v === undefined) delete c[k];
    else c[k] = v;
  }
  return c;
}

export interface ConfigSource {
  readonly label: "examples" | "shared";
  readonly dir: string;
}

/**
 * Where a real config can be read from: the copy shipped in examples/configs (always tested when
 * present) and the shared collection (tests skip when ../shared is missing).
 */
export function sourcesOf(model: string): ConfigSource[] {
  const out: ConfigSource[] = [];
  if (existsSync(`${EXAMPLE_CONFIGS}/${model}/config.json`))
    out.push({ label: "examples", dir: EXAMPLE_CONFIGS });
  out.push({ label: "shared", dir: SHARED_CONFIGS });
  return out;
}

export const skipSource = (s: ConfigSource): boolean => s.label === "shared" && !HAVE_SHARED;

/** Parses and builds a real config of a source. */
export function realGraph(s: ConfigSource, model: string, opts: { format?: boolean } = {}) {
  return graphOf(readConfig(s.dir, model), `${model}/config.json`, opts);
}

/** realGraph's graph, built on first use and kept (describe blocks share one graph across tests). */
export function lazyRealGraph(s: ConfigSource, model: string): () => ModelGraph {
  let g: ModelGraph | undefined;
  return () => {
    g ??= realGraph(s, model).graph;
    return g;
  };
}

/** Whether a tensor of that name is declared (tied or not). */
export const hasWeight = (g: ModelGraph, name: string): boolean => g.weights.some((w) => w.name === name);
