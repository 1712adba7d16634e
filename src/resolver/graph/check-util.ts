/**
 * The shared vocabulary of op signature checks: the check context and report callback, value
 * widths, and the shapes of matrix and vector views into weights. Used by signature.ts and
 * signature-blocks.ts.
 */
import type { MaskSpec, Op } from "./ops.js";
import type { Dim, MatrixView, ValueDecl, ValueId, VectorView, WeightDecl, WeightId } from "./types.js";
import { sliceEnd } from "./types.js";

export interface OutSpec {
  readonly shape: readonly Dim[];
  readonly dtype: "float" | "int";
}

/** What a check may look up: declared values and weights, and the caches written so far. */
export interface CheckContext {
  value(id: ValueId): ValueDecl | undefined;
  weight(id: WeightId): WeightDecl | undefined;
  /** The cache of `layer` as an earlier op writes it (own attention or MLA), if any. */
  cache(layer: number): CacheShape | undefined;
}

/** Receives one problem: a stable code, a message, and the JSON path inside the op. */
export type Report = (code: string, message: string, path: string) => void;

export interface Checker {
  readonly ctx: CheckContext;
  readonly report: Report;
}

export const row = (n: number): OutSpec => ({ shape: ["T", n], dtype: "float" });

/** Width n of a float ["T", n] value (or undefined after reporting). */
export function width(
  c: Checker,
  id: ValueId,
  path: string,
  dtype: "float" | "int" = "float",
): number | undefined {
  const v = c.ctx.value(id);
  if (!v) {
    c.report("graph/undefined-value", `value "${id}" is read before it is defined`, path);
    return undefined;
  }
  if (v.dtype !== dtype)
    c.report("graph/dtype-mismatch", `value "${id}" is ${v.dtype}, expected ${dtype}`, path);
  const n = v.shape[1];
  if (v.shape.length !== 2 || v.shape[0] !== "T" || typeof n !== "number") {
    c.report("graph/shape-mismatch", `value "${id}" has shape [${v.shape}], expected [T, n]`, path);
    return undefined;
  }
  return n;
}

export function expect(c: Checker, ok: boolean, code: string, message: string, path: string): boolean {
  if (!ok) c.report(code, message, path);
  return ok;
}

export function weightOf(c: Checker, id: WeightId, path: string): WeightDecl | undefined {
  const w = c.ctx.weight(id);
  if (!w) c.report("graph/missing-weight", `weight "${id}" is not declared`, path);
  return w;
}

/** Stored dims of a view's tensor after selecting the expert (drops axis 0 of a stacked tensor). */
export function storedDims(
  c: Checker,
  w: WeightDecl,
  expert: number | undefined,
  rank: number,
  path: string,
) {
  const stacked = expert !== undefined;
  const want = stacked ? `a stacked rank-${rank + 1} tensor` : `rank ${rank}`;
  const rankOk = w.shape.length === rank + (stacked ? 1 : 0);
  if (
    !expect(
      c,
      rankOk,
      "graph/weight-shape",
      `weight "${w.id}" has shape [${w.shape}], expected ${want}`,
      path,
    )
  ) {
    return undefined;
  }
  if (!stacked) return w.shape;
  const inRange = Number.isInteger(expert) && expert >= 0 && expert < w.shape[0]!;
  const msg = `expert ${expert} out of range for "${w.id}" [${w.shape}]`;
  return expect(c, inRange, "graph/bad-attribute", msg, path) ? w.shape.slice(1) : undefined;
}

export function sliceCount(
  c: Checker,
  s: { start: number; count: number; step?: number } | undefined,
  full: number,
  what: string,
  path: string,
): number | undefined {
  if (!s) return full;
  const ok =
    Number.isInteger(s.start) && s.start >= 0 && s.count >= 1 && (s.step ?? 1) >= 1 && sliceEnd(s) < full;
  return expect(
    c,
    ok,
    "graph/bad-attribute",
    `slice ${JSON.stringify(s)} out of range for ${what} of ${full}`,
    path,
  )
    ? s.count
    : undefined;
}

/** [out, in] of a matrix view. */
export function matrixDims(c: Checker, v: MatrixView, path: string): { out: number; in: number } | undefined {
  const w = weightOf(c, v.weight, `${path}.weight`);
  if (!w) return undefined;
  const d = storedDims(c, w, v.expert, 2, path);
  if (!d) return undefined;
  const [a, b] = d as [number, number];
  const full = w.transposed ? { out: b, in: a } : { out: a, in: b };
  const out = sliceCount(c, v.rows, full.out, `the ${full.out} output rows of "${w.id}"`, `${path}.rows`);
  return out === undefined ? undefined : { out, in: full.in };
}

/** Length of a vector view. */
export function vectorLength(c: Checker, v: VectorView, path: string): number | undefined {
  const w = weightOf(c, v.weight, `${path}.weight`);
  if (!w) return undefined;
  const d = storedDims(c, w, v.expert, 1, path);
  if (!d) return undefined;
  return sliceCount(c, v.slice, d[0] ?? 0, `the ${d[0]} elements of "${w.id}"`, `${path}.slice`);
}

export function expectMatrix(c: Checker, v: MatrixView, out: number, inp: number, path: string): boolean {
  const d = matrixDims(c, v, path);
  if (!d) return false;
  return expect(
    c,
    d.out === out && d.in === inp,
    "graph/weight-shape",
    `matrix of "${v.weight}" is [${d.out}, ${d.in}], expected [${out}, ${inp}]`,
    path,
  );
}

export function expectVector(
  c: Checker,
  v: VectorView | undefined,
  lengths: readonly number[],
  path: string,
): void {
  if (!v) return;
  const n = vectorLength(c, v, path);
  if (n !== undefined)
    expect(
      c,
      lengths.includes(n),
      "graph/weight-shape",
      `vector of "${v.weight}" has ${n} elements, expected ${lengths.join(" or ")}`,
      path,
    );
}

export function checkMask(c: Checker, m: MaskSpec, path: string): void {
  if (m.kind === "sliding")
    expect(
      c,
      Number.isInteger(m.window) && m.window >= 1,
      "graph/bad-attribute",
      `sliding window ${m.window} must be a positive integer`,
      path,
    );
}

export function sameWidths(c: Checker, ids: readonly ValueId[], path: string): number | undefined {
  if (!expect(c, ids.length >= 1, "graph/bad-attribute", "needs at least one input", path)) return undefined;
  const ws = ids.map((id, i) => width(c, id, `${path}[${i}]`));
  const w0 = ws[0];
  if (w0 === undefined || ws.some((w) => w === undefined)) return undefined;
  return expect(
    c,
    ws.every((w) => w === w0),
    "graph/shape-mismatch",
    `inputs have different widths ${ws.join(", ")}`,
    path,
  )
    ? w0
    : undefined;
}

export function positive(c: Checker, v: number, name: string): boolean {
  return expect(
    c,
    Number.isInteger(v) && v > 0,
    "graph/bad-attribute",
    `${name} must be a positive integer, got ${v}`,
    name,
  );
}

export function sameShape(c: Checker, id: ValueId): OutSpec[] | undefined {
  const n = width(c, id, "input");
  return n === undefined ? undefined : [row(n)];
}

/** What one layer's cache holds per position. */
export type CacheShape =
  | { readonly kind: "kv"; readonly kvHeads: number; readonly headDim: number; readonly vHeadDim: number }
  | { readonly kind: "mla"; readonly kvRank: number; readonly ropeDim: number };

/** The cache slot an op appends to (own attention, MLA), with what it stores. */
export function cacheWritten(op: Op): { layer: number; shape: CacheShape } | undefined {
  if (op.layer === undefined) return undefined;
  if (op.kind === "attention" && op.kv.source === "own") {
    return {
      layer: op.layer,
      shape: { kind: "kv", kvHeads: op.kvHeads, headDim: op.headDim, vHeadDim: op.vHeadDim },
    };
  }
  if (op.kind === "mla_attention")
    return { layer: op.layer, shape: { kind: "mla", kvRank: op.kvRank, ropeDim: op.ropeDim } };
  return undefined;
}
