/**
 * Graph statistics for reports and plans: parameter counts by role (each stored tensor counted once,
 * ties included once) and a per-layer summary (ops, parameters, attention and MoE shape).
 */
import type { MaskSpec } from "./ops.js";
import type { ModelGraph, WeightDecl, WeightRole } from "./types.js";

export interface ParamCount {
  /** Elements of all stored tensors, each tensor once. */
  readonly total: number;
  /** Number of distinct stored tensors. */
  readonly tensors: number;
  /** Elements per role; a tied tensor counts under the role of its first declaration. */
  readonly byRole: Readonly<Partial<Record<WeightRole, number>>>;
}

const elements = (w: WeightDecl) => w.shape.reduce((a, b) => a * b, 1);

/** Distinct stored tensors of a graph, first declaration of each name. */
export function storedTensors(g: ModelGraph): WeightDecl[] {
  const seen = new Set<string>();
  const out: WeightDecl[] = [];
  for (const w of g.weights) {
    if (w.tiedTo !== undefined || seen.has(w.name)) continue;
    seen.add(w.name);
    out.push(w);
  }
  return out;
}

export function countParams(g: ModelGraph): ParamCount {
  const byRole: Partial<Record<WeightRole, number>> = {};
  let total = 0;
  const tensors = storedTensors(g);
  for (const w of tensors) {
    const n = elements(w);
    total += n;
    byRole[w.role] = (byRole[w.role] ?? 0) + n;
  }
  return { total, tensors: tensors.length, byRole };
}

export interface LayerSummary {
  readonly layer: number;
  readonly ops: number;
  /** Elements of the stored tensors declared for this layer. */
  readonly params: number;
  /** Op count per kind, keys sorted. */
  readonly kinds: Readonly<Record<string, number>>;
  readonly attention?: {
    readonly kind: "attention" | "mla_attention";
    readonly heads: number;
    readonly kvHeads: number;
    readonly headDim: number;
    readonly mask: string;
    /** `own`, or `shared(L<n>)` when the layer reads another layer's cache. */
    readonly kv: string;
  };
  readonly moe?: { readonly experts: number; readonly topK: number };
}

const maskText = (m: MaskSpec) => (m.kind === "sliding" ? `sliding(${m.window})` : "causal");

export function layerSummary(g: ModelGraph): LayerSummary[] {
  const rows = new Map<number, { ops: number; params: number; kinds: Record<string, number> }>();
  const attention = new Map<number, LayerSummary["attention"]>();
  const moe = new Map<number, LayerSummary["moe"]>();
  const row = (l: number) => {
    const r = rows.get(l) ?? { ops: 0, params: 0, kinds: {} };
    rows.set(l, r);
    return r;
  };
  for (const w of storedTensors(g)) if (w.layer !== undefined) row(w.layer).params += elements(w);
  for (const op of g.ops) {
    if (op.layer === undefined) continue;
    const r = row(op.layer);
    r.ops++;
    r.kinds[op.kind] = (r.kinds[op.kind] ?? 0) + 1;
    if (op.kind === "attention") {
      const kv = op.kv.source === "own" ? "own" : `shared(L${op.kv.layer})`;
      attention.set(op.layer, {
        kind: op.kind,
        heads: op.heads,
        kvHeads: op.kvHeads,
        headDim: op.headDim,
        mask: maskText(op.mask),
        kv,
      });
    } else if (op.kind === "mla_attention") {
      const headDim = op.nopeDim + op.ropeDim;
      attention.set(op.layer, {
        kind: op.kind,
        heads: op.heads,
        kvHeads: 1,
        headDim,
        mask: maskText(op.mask),
        kv: "own",
      });
    } else if (op.kind === "moe_route") {
      moe.set(op.layer, { experts: op.numExperts, topK: op.topK });
    }
  }
  return [...rows.keys()]
    .sort((a, b) => a - b)
    .map((layer) => {
      const r = rows.get(layer)!;
      const kinds = Object.fromEntries(Object.entries(r.kinds).sort(([a], [b]) => (a < b ? -1 : 1)));
      const a = attention.get(layer);
      const m = moe.get(layer);
      return {
        layer,
        ops: r.ops,
        params: r.params,
        kinds,
        ...(a ? { attention: a } : {}),
        ...(m ? { moe: m } : {}),
      };
    });
}
