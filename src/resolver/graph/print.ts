/**
 * printGraph: a readable listing of a ModelGraph, one op per line with its inputs, attributes,
 * weights and output shapes, grouped per layer. Deterministic (used in snapshot tests and by
 * `--stop-after resolve` dumps).
 */
import type { Op } from "./ops.js";
import { opInputs } from "./ops.js";
import { countParams } from "./stats.js";
import type { ModelGraph, Slice, ValueDecl } from "./types.js";

const SKIP = new Set(["id", "kind", "layer", "keys", "outputs"]);
const INPUT_FIELDS = new Set([
  "input",
  "tokens",
  "q",
  "latent",
  "kRope",
  "gate",
  "up",
  "a",
  "b",
  "logits",
  "indices",
  "weights",
  "streams",
  "predictions",
  "activated",
  "modalities",
  "reference",
  "inputs",
]);

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)));
}

function slice(s: Slice | undefined): string {
  if (!s) return "";
  return `[${s.start}:+${s.count}${s.step && s.step !== 1 ? `:${s.step}` : ""}]`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One attribute value, compactly. Views render as `name#expert[rows]`. */
function fmt(v: unknown): string {
  if (typeof v === "number") return num(v);
  if (typeof v === "string" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === "number") && v.length > 4) return `[${v.length} values]`;
    if (v.length > 4) return `[${fmt(v[0])} … ${fmt(v[v.length - 1])} ×${v.length}]`;
    return `[${v.map(fmt).join(", ")}]`;
  }
  if (!isRecord(v)) return String(v);
  if (typeof v.weight === "string" && v.kind === undefined) {
    const e = typeof v.expert === "number" ? `#${v.expert}` : "";
    return `${v.weight}${e}${slice((v.rows ?? v.slice) as Slice | undefined)}`;
  }
  if (v.kind === "stacked") return `stacked(${v.weight})${slice((v.rows ?? v.slice) as Slice | undefined)}`;
  if (v.kind === "per_expert")
    return `per_expert(${fmt(v.weights)})${slice((v.rows ?? v.slice) as Slice | undefined)}`;
  if (v.kind === "causal") return "causal";
  if (v.kind === "sliding") return `sliding(${v.window})`;
  if (v.source === "own") return "own";
  if (v.source === "shared") return `shared(L${v.layer})`;
  const head = typeof v.type === "string" ? v.type : typeof v.fn === "string" ? v.fn : "";
  const rest = Object.entries(v)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .filter(([k]) => k !== "type" && (k !== "fn" || head === ""))
    .map(([k, x]) => `${k}=${fmt(x)}`);
  return rest.length ? `${head}(${rest.join(", ")})` : head;
}

function shapeOf(values: ReadonlyMap<string, ValueDecl>, id: string): string {
  const v = values.get(id);
  return v ? `[${v.shape.join(",")}]${v.dtype === "int" ? "i" : ""}` : "[?]";
}

export function printOp(op: Op, values: ReadonlyMap<string, ValueDecl>): string {
  const ins = opInputs(op)
    .map((i) => `%${i}`)
    .join(", ");
  // Attributes in name order, so the listing does not depend on how the op object was built.
  const attrs = Object.keys(op)
    .sort()
    .filter(
      (k) =>
        !SKIP.has(k) && !INPUT_FIELDS.has(k) && (op as unknown as Record<string, unknown>)[k] !== undefined,
    )
    .map((k) => `${k}=${fmt((op as unknown as Record<string, unknown>)[k])}`);
  const outs = op.outputs.map((o) => `%${o}`).join(", ");
  const shapes = op.outputs.map((o) => shapeOf(values, o)).join(" ");
  return `${outs} = ${op.kind}(${ins})${attrs.length ? ` ${attrs.join(" ")}` : ""}  : ${shapes}`;
}

function groupLabel(op: Op, seenLayer: boolean): string {
  if (op.layer !== undefined) return `layer ${op.layer}`;
  return seenLayer ? "head" : "embed";
}

export function printGraph(g: ModelGraph): string {
  const values = new Map(g.values.map((v) => [v.id, v]));
  const p = countParams(g);
  const lines = [
    `graph ${g.meta.modelType} (plugin ${g.meta.plugin}): ${g.meta.numLayers} layer${g.meta.numLayers === 1 ? "" : "s"}, hidden ${g.meta.hiddenSize}, vocab ${g.meta.vocabSize}`,
    `  ${g.weights.length} weights, ${p.tensors} stored tensors, ${p.total} parameters; ${g.ops.length} ops`,
    `  input %${g.tokens} ${shapeOf(values, g.tokens)}, output %${g.logits} ${shapeOf(values, g.logits)}`,
  ];
  for (const n of g.meta.notes ?? []) lines.push(`  note: ${n}`);
  let label = "";
  let seenLayer = false;
  for (const op of g.ops) {
    const l = groupLabel(op, seenLayer);
    if (op.layer !== undefined) seenLayer = true;
    if (l !== label) {
      lines.push(`${l}:`);
      label = l;
    }
    lines.push(`  ${printOp(op, values)}`);
  }
  return `${lines.join("\n")}\n`;
}
