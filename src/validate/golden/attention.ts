/**
 * Attention in the golden reference: the mask predicate (HF's convention, cited in
 * docs/golden.md), the GQA head mapping, one query head against a cache, and the two attention op
 * kinds over their caches (full K/V rows, or DeepSeek MLA latents).
 */
import type { AttentionOp, MaskSpec, MlaAttentionOp } from "../../resolver/graph/index.js";
import { softcap, softmax } from "./kernels.js";
import { type Mat, matVec, rowOf, zeros } from "./tensor.js";

/**
 * Whether the query at position i sees the key at position j. HF masking_utils:
 * causal_mask_function is kv_idx <= q_idx; sliding_window_overlay is kv_idx > q_idx − window,
 * i.e. i − j < window (the window counts the query's own position).
 */
export function isVisible(mask: MaskSpec, i: number, j: number): boolean {
  if (j > i) return false;
  return mask.kind === "causal" || i - j < mask.window;
}

/** The KV head read by query head h (HF repeat_kv: each KV head serves heads/kvHeads consecutive heads). */
export function kvHeadOf(h: number, heads: number, kvHeads: number): number {
  return Math.floor(h / (heads / kvHeads));
}

export interface HeadAttention {
  readonly scale: number;
  readonly mask: MaskSpec;
  readonly softcap?: number;
  /** Sink logit of this head (gpt-oss): joins the softmax denominator only. */
  readonly sink?: number;
}

/**
 * One query head at position i over positions 0 … length−1: logits scale·q·k_j, softcap, mask,
 * softmax (with sink), then Σ p_j·v_j.
 */
export function attendHead(
  q: ArrayLike<number>,
  i: number,
  length: number,
  key: (j: number) => ArrayLike<number>,
  value: (j: number) => ArrayLike<number>,
  vDim: number,
  a: HeadAttention,
): Float64Array {
  const visible: number[] = [];
  const logits: number[] = [];
  for (let j = 0; j < length; j++) {
    if (!isVisible(a.mask, i, j)) continue;
    const k = key(j);
    let s = 0;
    for (let d = 0; d < q.length; d++) s += q[d]! * k[d]!;
    s *= a.scale;
    logits.push(a.softcap !== undefined ? softcap(s, a.softcap) : s);
    visible.push(j);
  }
  const p = softmax(logits, a.sink);
  const out = new Float64Array(vDim);
  visible.forEach((j, n) => {
    const v = value(j);
    for (let d = 0; d < vDim; d++) out[d]! += p[n]! * v[d]!;
  });
  return out;
}

/** Cached keys and values of one layer, one row per position (kvHeads·headDim, kvHeads·vHeadDim). */
export interface KvCache {
  readonly k: Float64Array[];
  readonly v: Float64Array[];
}

/** Standard / GQA / MQA attention for T queries at positions p0 … p0+T−1 over a filled cache. */
export function runAttention(op: AttentionOp, q: Mat, cache: KvCache, p0: number, sinks?: Float64Array): Mat {
  const out = zeros(q.rows, op.heads * op.vHeadDim);
  const length = cache.k.length;
  for (let t = 0; t < q.rows; t++) {
    const qRow = rowOf(q, t);
    for (let h = 0; h < op.heads; h++) {
      const g = kvHeadOf(h, op.heads, op.kvHeads);
      const head = attendHead(
        qRow.subarray(h * op.headDim, (h + 1) * op.headDim),
        p0 + t,
        length,
        (j) => cache.k[j]!.subarray(g * op.headDim, (g + 1) * op.headDim),
        (j) => cache.v[j]!.subarray(g * op.vHeadDim, (g + 1) * op.vHeadDim),
        op.vHeadDim,
        {
          scale: op.scale,
          mask: op.mask,
          ...(op.softcap !== undefined ? { softcap: op.softcap } : {}),
          ...(sinks ? { sink: sinks[h]! } : {}),
        },
      );
      out.data.set(head, t * out.cols + h * op.vHeadDim);
    }
  }
  return out;
}

/** MLA cache: per position the normalised latent c and the roped shared key part. */
export interface MlaCache {
  readonly latent: Float64Array[];
  readonly kRope: Float64Array[];
}

/**
 * DeepSeek MLA: expands each cached latent with kvB into per-head [k_nope | v], forms
 * k = [k_nope | kRope] and attends with q = [q_nope | q_rope] per head.
 */
export function runMlaAttention(op: MlaAttentionOp, q: Mat, cache: MlaCache, kvB: Mat, p0: number): Mat {
  const { heads, nopeDim, ropeDim, vHeadDim } = op;
  const expanded = cache.latent.map((c) => matVec(kvB, c));
  const stride = nopeDim + vHeadDim;
  const out = zeros(q.rows, heads * vHeadDim);
  for (let t = 0; t < q.rows; t++) {
    for (let h = 0; h < heads; h++) {
      const qh = rowOf(q, t).subarray(h * (nopeDim + ropeDim), (h + 1) * (nopeDim + ropeDim));
      const key = (j: number) => {
        const k = new Float64Array(nopeDim + ropeDim);
        k.set(expanded[j]!.subarray(h * stride, h * stride + nopeDim));
        k.set(cache.kRope[j]!, nopeDim);
        return k;
      };
      const value = (j: number) => expanded[j]!.subarray(h * stride + nopeDim, (h + 1) * stride);
      const head = attendHead(qh, p0 + t, cache.latent.length, key, value, vHeadDim, {
        scale: op.scale,
        mask: op.mask,
      });
      out.data.set(head, t * out.cols + h * vHeadDim);
    }
  }
  return out;
}
