/**
 * DeepSeek multi-head latent attention, in the absorbed form: the cache holds one row per token,
 * K = [latent | kRope] (kvRank + ropeDim) and V = latent (kvRank), shared by all heads (one KV
 * head). Per head: q̃ = W_UKᵀ·q_nope (a GEMV over the transposed k_nope rows of kv_b_proj), the
 * scores are [q̃ | q_rope]·K, softmax as for attention, ctx = Vᵀ·p, and out_h = W_UV·ctx (a GEMV
 * over the v rows of kv_b_proj). Exact in real arithmetic; HF computes k_nope/v explicitly.
 */
import type { MlaAttentionOp, ValueId } from "../../resolver/graph/index.js";
import type { L2Addr } from "../draft.js";
import { unsupportedOp } from "../errors.js";
import type { HostOperand } from "../program.js";
import { addrOf, type LValue } from "../values.js";
import { headAttention } from "./attention.js";
import type { Lower } from "./context.js";
import { kvWrite, ownCache } from "./kv.js";
import { matmul, weightTransforms } from "./linear.js";

/** A one-row view of `n` elements at `at` (no header). */
export function spanView(at: L2Addr, n: number, epw: number, name: string): LValue {
  return {
    name,
    n,
    rows: 1,
    buf: at.buf,
    view: true,
    blocks: [{ start: 0, width: n, rowWords: Math.ceil(n / epw), data: at }],
  };
}

/** The DDR copies of several values side by side (for a K row made of two values). */
export function hostConcat(L: Lower, ids: readonly ValueId[]): HostOperand {
  const widths = ids.map((id) => L.width(id));
  const total = widths.reduce((a, b) => a + b, 0);
  const rows = L.rows;
  const epw = L.m.elemsPerWord;
  const stride = rows === 1 ? total : Math.ceil(total / epw) * epw;
  const buf = L.hostBuf(rows * stride * L.m.activationBytes);
  let col = 0;
  ids.forEach((id, i) => {
    const w = widths[i]!;
    for (let t = 0; t < rows; t++) {
      const off = (t * stride + col) * L.m.activationBytes;
      const dst: HostOperand = { region: buf.region, offset: off, elements: w, dtype: "bf16" };
      if (L.inL2(id) && rows === 1 && col % epw === 0) {
        const v = L.l2(id);
        L.transfer("l2_to_host", v.blocks[0]!.data, buf.region, off, w, `gather ${id}`);
      } else {
        L.hostStep(
          "slice",
          [L.host(id)],
          [dst],
          { start: 0, count: w, ...(rows > 1 ? { row: t } : {}) },
          `gather ${id}`,
        );
      }
    }
    col += w;
  });
  return {
    region: buf.region,
    offset: 0,
    elements: rows * stride,
    dtype: "bf16",
    ...(rows > 1 ? { rows, blocks: [total] } : {}),
  };
}

export function lowerMla(L: Lower, op: MlaAttentionOp): void {
  const cache = ownCache(L, op);
  const out = op.outputs[0]!;
  const epw = L.m.elemsPerWord;
  if (cache.format !== "int4_tiles") hostMla(op, cache);
  const k = hostConcat(L, [op.latent, op.kRope]);
  const v = L.host(op.latent);
  const q = L.l2(op.q);
  const result = L.newValue(out, op.heads * op.vHeadDim, L.rows, op.vHeadDim);
  const kvb = L.tensorName(op.kvB.weight);
  const baseT = weightTransforms(L, op.kvB.weight).filter((t) => t.kind !== "transpose");
  const stored = L.gi.weights.get(op.kvB.weight)!;
  const group = L.plan.policy(kvb).group;
  const rowBase = op.kvB.rows?.start ?? 0;
  const per = op.nopeDim + op.vHeadDim;
  const qw = op.nopeDim + op.ropeDim;
  for (let t = 0; t < L.rows; t++) {
    kvWrite(L, cache, k, v, t);
    for (let h = 0; h < op.heads; h++) {
      const label = `row ${t} head ${h}`;
      const qa = addrOf(L.m, q, t, h * qw)!;
      const qt = L.buf(`mla q ${label}`, 1 + Math.ceil(cache.headDim / epw));
      const qtData = { buf: qt, word: 1 };
      matmul(L, {
        input: spanView(qa, op.nopeDim, epw, "q_nope"),
        out: spanView(qtData, op.kvRank, epw, "q_absorbed"),
        mat: {
          tensor: kvb,
          rowStart: 0,
          colStart: rowBase + h * per,
          n: op.kvRank,
          k: op.nopeDim,
          group,
          transforms: stored.transposed ? baseT : [...baseT, { kind: "transpose" }],
        },
        accumulate: false,
        label: `mla q_absorbed ${label}`,
      });
      L.copy(
        { buf: qa.buf, word: qa.word + op.nopeDim / epw },
        { buf: qt, word: 1 + op.kvRank / epw },
        op.ropeDim / epw,
        `mla q_rope ${label}`,
      );
      const ctx = L.buf(`mla ctx ${label}`, 1 + op.kvRank / epw);
      headAttention(L, op, cache, 0, qtData, { buf: ctx, word: 1 }, label);
      matmul(L, {
        input: spanView({ buf: ctx, word: 1 }, op.kvRank, epw, "ctx"),
        out: spanView(addrOf(L.m, result, t, h * op.vHeadDim)!, op.vHeadDim, epw, "out"),
        mat: {
          tensor: kvb,
          rowStart: rowBase + h * per + op.nopeDim,
          n: op.vHeadDim,
          k: op.kvRank,
          group,
          transforms: weightTransforms(L, op.kvB.weight),
        },
        accumulate: false,
        label: `mla out ${label}`,
      });
    }
  }
  L.setL2(out, result);
}

function hostMla(op: MlaAttentionOp, cache: ReturnType<typeof ownCache>): never {
  throw unsupportedOp(
    op,
    `MLA attention needs its cache in the NPU tile format (${cache.hostReason}); a host fallback would need kv_b_proj in BF16, which the layout streams as INT4`,
    "MLA dims (nope, rope, v, latent rank) must be whole L2 words and the KV cache int4",
  );
}
