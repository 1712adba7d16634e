/**
 * Signature checks of the composite ops: attention (standard and MLA), MoE routing and experts,
 * and AltUp. Split from signature.ts only to keep files small; checkOp dispatches here.
 */
import {
  type Checker,
  checkMask,
  expect,
  expectMatrix,
  expectVector,
  type OutSpec,
  positive,
  row,
  sameWidths,
  width,
} from "./check-util.js";
import type { ExpertMatrix, ExpertVector, Op } from "./ops.js";
import { expertMatrixView, expertVectorView } from "./ops.js";

/** Per-expert lists must name one tensor per expert. */
function expertCount(c: Checker, m: ExpertMatrix | ExpertVector, count: number, path: string): boolean {
  if (m.kind === "stacked") return true;
  const msg = `${m.weights.length} expert tensors for ${count} experts`;
  return expect(c, m.weights.length === count, "graph/bad-attribute", msg, path);
}

function checkExperts(c: Checker, m: ExpertMatrix, count: number, out: number, inp: number, path: string) {
  if (!expertCount(c, m, count, path)) return;
  // One diagnostic per matrix is enough: stop at the first expert that does not fit.
  for (let e = 0; e < count; e++) if (!expectMatrix(c, expertMatrixView(m, e), out, inp, path)) return;
}

function checkExpertBias(c: Checker, v: ExpertVector | undefined, count: number, n: number, path: string) {
  if (!v || !expertCount(c, v, count, path)) return;
  for (let e = 0; e < count; e++) expectVector(c, expertVectorView(v, e), [n], path);
}

/** Checks that value `id` is float [T, n] with n = `expected` (`what` names n in the message). */
function widthIs(c: Checker, id: string, expected: number, path: string, what: string): void {
  const n = width(c, id, path);
  if (n !== undefined) {
    expect(
      c,
      n === expected,
      "graph/shape-mismatch",
      `${path} has width ${n}, expected ${what} = ${expected}`,
      path,
    );
  }
}

/** An op that appends to the cache of its layer must be the only one doing so. */
function ownsCache(c: Checker, layer: number | undefined): void {
  if (
    !expect(
      c,
      layer !== undefined,
      "graph/bad-attribute",
      "an attention op needs a layer (its cache slot)",
      "layer",
    )
  ) {
    return;
  }
  const taken = c.ctx.cache(layer!) !== undefined;
  expect(
    c,
    !taken,
    "graph/kv-duplicate",
    `an earlier op already writes the cache of layer ${layer}`,
    "layer",
  );
}

function checkSharedSource(c: Checker, op: Extract<Op, { kind: "attention" }>, layer: number): void {
  const src = c.ctx.cache(layer);
  if (src?.kind !== "kv") {
    c.report("graph/kv-source", `no earlier attention op writes a K/V cache for layer ${layer}`, "kv.layer");
    return;
  }
  const same = src.kvHeads === op.kvHeads && src.headDim === op.headDim && src.vHeadDim === op.vHeadDim;
  const msg = `cache of layer ${layer} holds ${src.kvHeads} heads of ${src.headDim}/${src.vHeadDim}, this op expects ${op.kvHeads} of ${op.headDim}/${op.vHeadDim}`;
  expect(c, same, "graph/kv-source", msg, "kv.layer");
}

export function checkAttention(c: Checker, op: Extract<Op, { kind: "attention" }>): OutSpec[] | undefined {
  const dims = { heads: op.heads, kvHeads: op.kvHeads, headDim: op.headDim, vHeadDim: op.vHeadDim };
  if (!Object.entries(dims).every(([name, v]) => positive(c, v, name))) return undefined;
  const msg = `heads ${op.heads} is not a multiple of kvHeads ${op.kvHeads}`;
  expect(c, op.heads % op.kvHeads === 0, "graph/bad-attribute", msg, "kvHeads");
  widthIs(c, op.q, op.heads * op.headDim, "q", "heads·headDim");
  if (op.kv.source === "own") {
    ownsCache(c, op.layer);
    widthIs(c, op.kv.k, op.kvHeads * op.headDim, "kv.k", "kvHeads·headDim");
    widthIs(c, op.kv.v, op.kvHeads * op.vHeadDim, "kv.v", "kvHeads·vHeadDim");
  } else {
    expect(c, op.layer !== undefined, "graph/bad-attribute", "an attention op needs a layer", "layer");
    checkSharedSource(c, op, op.kv.layer);
  }
  checkMask(c, op.mask, "mask");
  if (op.softcap !== undefined)
    expect(c, op.softcap > 0, "graph/bad-attribute", "softcap must be > 0", "softcap");
  expectVector(c, op.sinks, [op.heads], "sinks");
  return [row(op.heads * op.vHeadDim)];
}

export function checkMla(c: Checker, op: Extract<Op, { kind: "mla_attention" }>): OutSpec[] | undefined {
  ownsCache(c, op.layer);
  widthIs(c, op.q, op.heads * (op.nopeDim + op.ropeDim), "q", "heads·(nopeDim+ropeDim)");
  widthIs(c, op.latent, op.kvRank, "latent", "kvRank");
  widthIs(c, op.kRope, op.ropeDim, "kRope", "ropeDim");
  expectMatrix(c, op.kvB, op.heads * (op.nopeDim + op.vHeadDim), op.kvRank, "kvB");
  checkMask(c, op.mask, "mask");
  return [row(op.heads * op.vHeadDim)];
}

/** A bad-attribute check (the common case), returning `ok`. */
const attr = (c: Checker, ok: boolean, message: string, path: string) =>
  expect(c, ok, "graph/bad-attribute", message, path);

function checkGroups(c: Checker, op: Extract<Op, { kind: "moe_route" }>): void {
  const g = op.groups;
  if (!g) return;
  const ok = g.count >= 1 && op.numExperts % g.count === 0 && g.topk >= 1 && g.topk <= g.count;
  if (!attr(c, ok, `groups ${JSON.stringify(g)} do not divide ${op.numExperts} experts`, "groups")) return;
  const size = op.numExperts / g.count;
  attr(
    c,
    g.topk * size >= op.topK,
    `the ${g.topk} kept groups hold fewer than topK ${op.topK} experts`,
    "groups",
  );
  if (g.score === "top2_sum")
    attr(c, size >= 2, "top2_sum group scores need groups of ≥ 2 experts", "groups");
}

export function checkRoute(c: Checker, op: Extract<Op, { kind: "moe_route" }>): OutSpec[] | undefined {
  widthIs(c, op.logits, op.numExperts, "logits", "numExperts");
  attr(c, op.topK >= 1 && op.topK <= op.numExperts, `topK ${op.topK} outside 1..${op.numExperts}`, "topK");
  checkGroups(c, op);
  expectVector(c, op.correctionBias, [op.numExperts], "correctionBias");
  expectVector(c, op.perExpertScale, [op.numExperts], "perExpertScale");
  return [
    { shape: ["T", op.topK], dtype: "int" },
    { shape: ["T", op.topK], dtype: "float" },
  ];
}

export function checkMoe(c: Checker, op: Extract<Op, { kind: "moe_experts" }>): OutSpec[] | undefined {
  const h = width(c, op.input, "input");
  const k = width(c, op.indices, "indices", "int");
  if (k !== undefined) widthIs(c, op.weights, k, "weights", "the width of indices");
  if (h === undefined) return undefined;
  const [e, i] = [op.numExperts, op.intermediate];
  checkExperts(c, op.gate, e, i, h, "gate");
  checkExperts(c, op.up, e, i, h, "up");
  checkExperts(c, op.down, e, h, i, "down");
  checkExpertBias(c, op.gateBias, e, i, "gateBias");
  checkExpertBias(c, op.upBias, e, i, "upBias");
  checkExpertBias(c, op.downBias, e, h, "downBias");
  return [row(h)];
}

type AltupOp = Extract<Op, { kind: "altup_predict" | "altup_correct" }>;

export function checkAltup(c: Checker, op: AltupOp): OutSpec[] | undefined {
  const streams = op.kind === "altup_predict" ? op.streams : op.predictions;
  const n = streams.length;
  const h = sameWidths(c, streams, op.kind === "altup_predict" ? "streams" : "predictions");
  widthIs(c, op.modalities, n, "modalities", "the number of streams");
  if (op.kind === "altup_predict") expectMatrix(c, op.coefs, n * n, n, "coefs");
  else {
    expectMatrix(c, op.coefs, n, n, "coefs");
    attr(
      c,
      op.activeIndex >= 0 && op.activeIndex < n,
      `activeIndex ${op.activeIndex} outside 0..${n - 1}`,
      "activeIndex",
    );
    if (h !== undefined) widthIs(c, op.activated, h, "activated", "the stream width");
  }
  return h === undefined ? undefined : streams.map(() => row(h));
}
