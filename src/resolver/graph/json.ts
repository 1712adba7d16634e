/**
 * The JSON form of a ModelGraph: `graphToJson` (deterministic: keys sorted, schema-versioned) and
 * `graphFromJson` (zod-validated; bad input becomes a PccxError with the JSON path). The zod schema
 * mirrors the TypeScript types; a compile-time check below keeps the two in step.
 */
import { z } from "zod";
import { invalidInput, unsupported } from "../../diag/index.js";
import { canonicalJson } from "../../util/json.js";
import { ACT_FNS, type Op } from "./ops.js";
import { type ModelGraph, WEIGHT_DTYPES, WEIGHT_ROLES } from "./types.js";

export const GRAPH_FORMAT = "pccxc-model-graph";
/** Bump on any incompatible change of the IR; graphFromJson refuses other versions. */
export const GRAPH_SCHEMA_VERSION = 1;

const int = z.number().int();
const pos = z.number().int().positive();
const num = z.number();
const id = z.string().min(1);
const keys = z.array(z.string());

const Slice = z.strictObject({ start: int.nonnegative(), count: pos, step: pos.optional() });
const MatrixView = z.strictObject({
  weight: id,
  expert: int.nonnegative().optional(),
  rows: Slice.optional(),
});
const VectorView = z.strictObject({
  weight: id,
  expert: int.nonnegative().optional(),
  slice: Slice.optional(),
});
const ExpertMatrix = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("per_expert"), weights: z.array(id), rows: Slice.optional() }),
  z.strictObject({ kind: z.literal("stacked"), weight: id, rows: Slice.optional() }),
]);
const ExpertVector = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("per_expert"), weights: z.array(id), slice: Slice.optional() }),
  z.strictObject({ kind: z.literal("stacked"), weight: id, slice: Slice.optional() }),
]);

const Rope = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("default"), theta: num }),
  z.strictObject({ type: z.literal("linear"), theta: num, factor: num }),
  z.strictObject({ type: z.literal("dynamic"), theta: num, factor: num, maxPositionEmbeddings: pos }),
  z.strictObject({
    type: z.literal("llama3"),
    theta: num,
    factor: num,
    lowFreqFactor: num,
    highFreqFactor: num,
    originalMaxPositionEmbeddings: pos,
  }),
  z.strictObject({
    type: z.literal("yarn"),
    theta: num,
    factor: num,
    originalMaxPositionEmbeddings: pos,
    betaFast: num,
    betaSlow: num,
    truncate: z.boolean(),
    mscale: num.optional(),
    mscaleAllDim: num.optional(),
    attentionFactor: num.optional(),
  }),
  z.strictObject({
    type: z.literal("longrope"),
    theta: num,
    shortFactor: z.array(num),
    longFactor: z.array(num),
    originalMaxPositionEmbeddings: pos,
    factor: num,
    attentionFactor: num.optional(),
  }),
  z.strictObject({ type: z.literal("proportional"), theta: num, factor: num, partialRotaryFactor: num }),
]);

const Mask = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("causal") }),
  z.strictObject({ kind: z.literal("sliding"), window: pos }),
]);
const ActFn = z.enum(ACT_FNS);
const GluAct = z.union([
  z.strictObject({ fn: ActFn }),
  z.strictObject({ fn: z.literal("clamped_swiglu"), alpha: num, limit: num }),
]);

/** Fields every op has, plus its own. */
function op<K extends string, S extends z.ZodRawShape>(kind: K, shape: S) {
  return z.strictObject({
    id,
    kind: z.literal(kind),
    layer: int.nonnegative().optional(),
    keys,
    outputs: z.array(id),
    ...shape,
  });
}

const OpSchema = z.discriminatedUnion("kind", [
  op("embedding", { tokens: id, table: id, scale: num.optional() }),
  op("position_embedding", { input: id, table: id }),
  op("rms_norm", {
    input: id,
    weight: VectorView.optional(),
    weightOffset: z.union([z.literal(0), z.literal(1)]),
    eps: num,
    groupSize: pos,
  }),
  op("layer_norm", { input: id, weight: VectorView.optional(), bias: VectorView.optional(), eps: num }),
  op("linear", { input: id, weight: MatrixView, bias: VectorView.optional() }),
  op("rope", {
    input: id,
    heads: pos,
    headDim: pos,
    offset: int.nonnegative(),
    rotaryDim: pos,
    style: z.enum(["half", "interleaved"]),
    rope: Rope,
  }),
  op("attention", {
    q: id,
    kv: z.discriminatedUnion("source", [
      z.strictObject({ source: z.literal("own"), k: id, v: id }),
      z.strictObject({ source: z.literal("shared"), layer: int.nonnegative() }),
    ]),
    heads: pos,
    kvHeads: pos,
    headDim: pos,
    vHeadDim: pos,
    scale: num,
    mask: Mask,
    softcap: num.optional(),
    sinks: VectorView.optional(),
  }),
  op("mla_attention", {
    q: id,
    latent: id,
    kRope: id,
    kvB: MatrixView,
    heads: pos,
    kvRank: pos,
    nopeDim: int.nonnegative(),
    ropeDim: pos,
    vHeadDim: pos,
    scale: num,
    mask: Mask,
  }),
  op("activation", { input: id, fn: ActFn }),
  op("glu", { gate: id, up: id, act: GluAct }),
  op("add", { a: id, b: id }),
  op("mul", { a: id, b: id }),
  op("mul_weight", { input: id, weight: VectorView }),
  op("scale", { input: id, factor: num }),
  op("softcap", { input: id, cap: num }),
  op("slice", { input: id, start: int.nonnegative(), count: pos }),
  op("moe_route", {
    logits: id,
    numExperts: pos,
    topK: pos,
    scoring: z.enum(["softmax", "sigmoid"]),
    normalize: z.boolean(),
    routedScale: num,
    groups: z.strictObject({ count: pos, topk: pos, score: z.enum(["max", "top2_sum"]) }).optional(),
    correctionBias: VectorView.optional(),
    perExpertScale: VectorView.optional(),
  }),
  op("moe_experts", {
    input: id,
    indices: id,
    weights: id,
    numExperts: pos,
    intermediate: pos,
    gate: ExpertMatrix,
    up: ExpertMatrix,
    down: ExpertMatrix,
    gateBias: ExpertVector.optional(),
    upBias: ExpertVector.optional(),
    downBias: ExpertVector.optional(),
    act: GluAct,
  }),
  op("altup_predict", { streams: z.array(id), modalities: id, coefs: MatrixView }),
  op("altup_correct", {
    predictions: z.array(id),
    activated: id,
    modalities: id,
    coefs: MatrixView,
    coefClip: num.optional(),
    activeIndex: int.nonnegative(),
  }),
  op("magnitude_match", { input: id, reference: id, eps: num }),
  op("mean", { inputs: z.array(id) }),
  op("gaussian_topk", { input: id, sparsity: num }),
]);

const Dim = z.union([pos, z.literal("T")]);

const GraphJsonSchema = z.strictObject({
  format: z.literal(GRAPH_FORMAT),
  version: z.literal(GRAPH_SCHEMA_VERSION),
  meta: z.strictObject({
    modelType: z.string(),
    plugin: z.string(),
    numLayers: int.nonnegative(),
    hiddenSize: pos,
    vocabSize: pos,
    notes: z.array(z.string()).optional(),
  }),
  tokens: id,
  logits: id,
  weights: z.array(
    z.strictObject({
      id,
      name: id,
      shape: z.array(int),
      dtype: z.enum(WEIGHT_DTYPES),
      role: z.enum(WEIGHT_ROLES),
      layer: int.nonnegative().optional(),
      transposed: z.boolean().optional(),
      tiedTo: id.optional(),
      unused: z.string().optional(),
      keys,
    }),
  ),
  values: z.array(z.strictObject({ id, shape: z.array(Dim), dtype: z.enum(["float", "int"]) })),
  ops: z.array(OpSchema),
});

export type GraphJson = z.infer<typeof GraphJsonSchema>;

// Compile-time agreement of the schema with the TypeScript types, in both directions.
type Mutable<T> = T extends readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;
const _schemaFitsTypes = (j: GraphJson): ModelGraph => j;
const _typesFitSchema = (g: Mutable<ModelGraph>): Omit<GraphJson, "format" | "version"> => g;
const _opsAgree = (o: Mutable<Op>): z.infer<typeof OpSchema> => o;
void _schemaFitsTypes;
void _typesFitSchema;
void _opsAgree;

/** The JSON form of a graph: plain data, keys sorted, with format and schema version. */
export function graphToJson(g: ModelGraph): GraphJson {
  // canonicalJson sorts keys at every level and drops undefined fields; parse it back to plain data.
  return JSON.parse(
    canonicalJson({ format: GRAPH_FORMAT, version: GRAPH_SCHEMA_VERSION, ...g }),
  ) as GraphJson;
}

function jsonPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
}

/** Reads a graph from its JSON form; throws PccxError (exit 2 / 3) on bad input. */
export function graphFromJson(json: unknown, file?: string): ModelGraph {
  const at = (p: string) => ({ ...(file ? { file } : {}), jsonPath: p });
  if (typeof json !== "object" || json === null || (json as { format?: unknown }).format !== GRAPH_FORMAT) {
    throw invalidInput(
      "graph/json-format",
      `not a pccxc model graph (expected "format": "${GRAPH_FORMAT}")`,
      {
        at: at("format"),
        fix: "pass a file written by `pccxc ... --stop-after resolve --dump`",
      },
    );
  }
  const version = (json as { version?: unknown }).version;
  if (version !== GRAPH_SCHEMA_VERSION) {
    throw unsupported(
      "graph/schema-version",
      `graph schema version ${String(version)} is not supported; this pccxc reads version ${GRAPH_SCHEMA_VERSION}`,
      {
        at: at("version"),
        fix: "re-run the resolver with this version of pccxc",
      },
    );
  }
  const r = GraphJsonSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw invalidInput(
      "graph/json-invalid",
      `invalid model graph: ${issue.message} at ${jsonPath(issue.path) || "<root>"}`,
      {
        at: at(jsonPath(issue.path)),
        notes: r.error.issues.slice(1, 5).map((i) => `${i.message} at ${jsonPath(i.path)}`),
      },
    );
  }
  const { format: _f, version: _v, ...graph } = r.data;
  return graph;
}

/** Parses JSON text, then `graphFromJson`. */
export function graphFromJsonText(text: string, file?: string): ModelGraph {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalidInput("graph/json-syntax", `model graph is not valid JSON: ${(e as Error).message}`, {
      ...(file ? { at: { file } } : {}),
    });
  }
  return graphFromJson(json, file);
}

/** JSON Schema of the graph file (for `pccxc schema` and editors). */
export function graphJsonSchema(): unknown {
  return z.toJSONSchema(GraphJsonSchema);
}
