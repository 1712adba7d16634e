/**
 * Normalisations. RMSNorm with its weight folded into the projections it feeds (or without weight)
 * is split: the statistic r = 1/sqrt(mean(x²)+eps) on the host (the SFU has no square) or on the
 * SFU with SQUARE/ADD when the target declares them; the vector scale x·r is a SCALE on the SFU
 * with r in the block's header word. A norm whose weight must still be applied element-wise runs
 * on the host (or SQUARE…MUL on a target with those extensions). LayerNorm and magnitude matching
 * are host steps; Gaussian top-k sparsity too, unless the target has SQUARE, ADD and MAX (one row).
 */
import type { GaussianTopkOp, LayerNormOp, MagnitudeMatchOp, RmsNormOp } from "../../resolver/graph/index.js";
import { normalIcdf } from "../../resolver/graph/index.js";
import type { L2Addr } from "../draft.js";
import { hasCvo } from "../machine.js";
import { type LValue, placeValue } from "../values.js";
import type { Lower } from "./context.js";
import { hostOp } from "./elementwise.js";
import { vectorL2, vectorOperand } from "./vectors.js";

export function lowerRmsNorm(L: Lower, op: RmsNormOp): void {
  const out = op.outputs[0]!;
  const n = L.width(op.input);
  const folded = L.an.folds.has(op.id);
  const weight = folded ? undefined : op.weight;
  const group = op.groupSize;
  const epw = L.m.elemsPerWord;
  const sfu = hasCvo(L.m, "SQUARE") && hasCvo(L.m, "ADD");
  const wOk = !weight || hasCvo(L.m, "MUL");
  if (!L.onHostOnly(op.input) && sfu && wOk && (group === n || group % epw === 0)) {
    sfuRmsNorm(L, op, weight !== undefined);
    return;
  }
  if (!L.onHostOnly(op.input) && !weight && group === n && L.rows === 1) {
    const x = L.l2(op.input);
    if (x.blocks.length === 1) {
      const r = L.hostBuf(L.m.wordBytes);
      const rOp = { region: r.region, offset: 0, elements: 1, dtype: "bf16" as const };
      L.hostStep("rms_scale", [L.host(op.input)], [rOp], { eps: op.eps }, `rms_scale ${out}`);
      const src = x.blocks[0]!.header ? x : copyWithHeader(L, x, op.input);
      const h = src.blocks[0]!.header!;
      L.transfer("host_to_l2", h, r.region, 0, 1, `rms ${out} factor`);
      const dst = L.ownable(op.input) ?? L.newValue(out, n, 1, L.an.unit(out));
      L.cvo("SCALE", h, dst.blocks[0]!.data, n, `rms_norm ${out}`);
      L.setL2(out, dst);
      return;
    }
  }
  const extra = weight ? [vectorOperand(L, weight)] : [];
  hostOp(
    L,
    "rms_norm",
    [op.input],
    [out],
    { eps: op.eps, groupSize: group, weightOffset: op.weightOffset, hasWeight: weight !== undefined },
    extra,
  );
}

function copyWithHeader(L: Lower, x: LValue, id: string): LValue {
  const c = L.newValue(`${id} copy`, x.n, x.rows, L.an.unit(id));
  x.blocks.forEach((b, i) => {
    L.copy(b.data, c.blocks[i]!.data, x.rows * b.rowWords, `copy ${id}`);
  });
  return c;
}

/** RMSNorm entirely on the SFU: SQUARE, REDUCE_SUM, ·1/n, +eps, SQRT, RECIP, SCALE (and MUL by w). */
function sfuRmsNorm(L: Lower, op: RmsNormOp, applyWeight: boolean): void {
  const out = op.outputs[0]!;
  const x = L.l2(op.input);
  const n = x.n;
  const g = op.groupSize;
  const epw = L.m.elemsPerWord;
  const dst = L.newValue(out, n, x.rows, L.an.unit(out));
  const gw = Math.ceil(g / epw);
  const sq = L.buf(`${out} sq`, gw);
  const stat = L.buf(`${out} stat`, 2);
  const tmpBuf = L.buf(`${out} tmp`, 1 + gw);
  const tmp = placeValue(L.m, tmpBuf, `${out} tmp`, g, 1);
  const s0: L2Addr = { buf: stat, word: 0 };
  const s1: L2Addr = { buf: stat, word: 1 };
  const w = applyWeight ? normWeight(L, op) : undefined;
  L.setScalar(s0, 1 / g, `rms ${out} 1/n`);
  for (let t = 0; t < x.rows; t++) {
    for (let c = 0; c < n; c += g) {
      const blk = x.blocks.find((b) => c >= b.start && c + g <= b.start + b.width)!;
      const xa = { buf: blk.data.buf, word: blk.data.word + t * blk.rowWords + (c - blk.start) / epw };
      const db = dst.blocks.find((b) => c >= b.start && c + g <= b.start + b.width)!;
      const da = { buf: db.data.buf, word: db.data.word + t * db.rowWords + (c - db.start) / epw };
      const lbl = `rms ${out} row ${t} col ${c}`;
      L.cvo("SQUARE", xa, { buf: sq, word: 0 }, g, lbl);
      L.cvo("REDUCE_SUM", { buf: sq, word: 0 }, s1, g, lbl);
      L.cvo("SCALE", s0, s1, 1, lbl);
      L.cvo("ADD", L.constAddr(op.eps), s1, 1, lbl);
      L.cvo("SQRT", s1, s1, 1, lbl);
      L.cvo("RECIP", s1, s1, 1, lbl);
      L.copy(xa, tmp.blocks[0]!.data, gw, lbl);
      L.copy(s1, tmp.blocks[0]!.header!, 1, lbl);
      L.cvo("SCALE", tmp.blocks[0]!.header!, da, g, lbl);
      if (w) {
        const woff = g === n ? c : 0;
        const wa = { buf: w.blocks[0]!.data.buf, word: w.blocks[0]!.data.word + woff / epw };
        L.cvo("MUL", wa, da, g, `${lbl} weight`);
      }
    }
  }
  L.setL2(out, dst);
}

/** The norm's multiplier in L2: w, or 1 + w (Gemma's offset) added on the SFU from a ones vector. */
function normWeight(L: Lower, op: RmsNormOp): LValue {
  const w = vectorL2(L, op.weight!, `norm weight ${L.tensorName(op.weight!.weight)}`);
  if (op.weightOffset === 0) return w;
  const t = L.newValue(`1+${L.tensorName(op.weight!.weight)}`, w.n, 1);
  L.copy(w.blocks[0]!.data, t.blocks[0]!.data, w.blocks[0]!.rowWords, "norm weight 1+w");
  const ones = L.reg.constVector(1, w.n);
  L.cvo("ADD", { buf: L.constBuf(), word: ones.word + 1 }, t.blocks[0]!.data, w.n, "norm weight 1+w");
  return t;
}

export function lowerLayerNorm(L: Lower, op: LayerNormOp): void {
  const extra = [
    ...(op.weight ? [vectorOperand(L, op.weight)] : []),
    ...(op.bias ? [vectorOperand(L, op.bias)] : []),
  ];
  hostOp(
    L,
    "layer_norm",
    [op.input],
    [op.outputs[0]!],
    { eps: op.eps, hasWeight: op.weight !== undefined, hasBias: op.bias !== undefined },
    extra,
  );
}

export function lowerMagnitudeMatch(L: Lower, op: MagnitudeMatchOp): void {
  hostOp(L, "magnitude_match", [op.input, op.reference], [op.outputs[0]!], { eps: op.eps });
}

export function lowerGaussianTopk(L: Lower, op: GaussianTopkOp): void {
  const z = normalIcdf(op.sparsity);
  const sfu = ["SQUARE", "ADD", "MAX"].every((f) => hasCvo(L.m, f));
  if (sfu && L.rows === 1 && !L.onHostOnly(op.input) && L.l2(op.input).blocks.length === 1) {
    sfuGaussianTopk(L, op, z);
    return;
  }
  hostOp(L, "gaussian_topk", [op.input], [op.outputs[0]!], { z });
}

/**
 * Gaussian top-k of one row on the SFU (host-ops' formula with σ² = E[x²] − μ²): the statistics
 * by REDUCE_SUM / SQUARE / SCALE on scalar words, −thr = −μ − z·σ broadcast by SCALE over a ones
 * vector, then y = max(x − thr, 0) by ADD and MAX against zeros. Each SCALE's scalar sits in the
 * word before its operand (program.md §4.5), hence the pairs of words in `stat`.
 */
function sfuGaussianTopk(L: Lower, op: GaussianTopkOp, z: number): void {
  const out = op.outputs[0]!;
  const x = L.l2(op.input);
  const n = x.n;
  const words = Math.ceil(n / L.m.elemsPerWord);
  const xa = x.blocks[0]!.data;
  const y = L.newValue(out, n, 1, L.an.unit(out));
  const yh = y.blocks[0]!.header!;
  const ya = y.blocks[0]!.data;
  const stat = L.buf(`${out} stat`, 8);
  const w = (word: number): L2Addr => ({ buf: stat, word });
  const lbl = `gaussian_topk ${out}`;
  // w0 = −1/n, w1 = Σx → −μ; w2 = 1/n, w3 = Σx² → E[x²]; w4 = −1, w5 = μ² → −μ²; w6 = −z, w7 = σ
  L.setScalar(w(0), -1 / n, `${lbl} -1/n`);
  L.setScalar(w(2), 1 / n, `${lbl} 1/n`);
  L.setScalar(w(4), -1, `${lbl} -1`);
  L.setScalar(w(6), -z, `${lbl} -z`);
  L.cvo("REDUCE_SUM", xa, w(1), n, `${lbl} sum`);
  L.cvo("SCALE", w(0), w(1), 1, `${lbl} -mean`);
  L.cvo("SQUARE", xa, ya, n, `${lbl} squares`);
  L.cvo("REDUCE_SUM", ya, w(3), n, `${lbl} sum of squares`);
  L.cvo("SCALE", w(2), w(3), 1, `${lbl} mean of squares`);
  L.cvo("SQUARE", w(1), w(5), 1, `${lbl} mean²`);
  L.cvo("SCALE", w(4), w(5), 1, `${lbl} -mean²`);
  L.cvo("ADD", w(5), w(3), 1, `${lbl} variance`);
  L.cvo("MAX", L.constAddr(0), w(3), 1, `${lbl} variance ≥ 0`);
  L.cvo("SQRT", w(3), w(7), 1, `${lbl} std`);
  L.cvo("SCALE", w(6), w(7), 1, `${lbl} -z·std`);
  L.cvo("ADD", w(1), w(7), 1, `${lbl} -threshold`);
  const ones = L.reg.constVector(1, n);
  const zeros = L.reg.constVector(0, n);
  L.copy({ buf: L.constBuf(), word: ones.word + 1 }, ya, words, `${lbl} ones`);
  L.copy(w(7), yh, 1, `${lbl} -threshold`);
  L.cvo("SCALE", yh, ya, n, `${lbl} broadcast`);
  L.cvo("ADD", xa, ya, n, `${lbl} x - threshold`);
  L.cvo("MAX", { buf: L.constBuf(), word: zeros.word + 1 }, ya, n, `${lbl} cut`);
  L.setL2(out, y);
}
