/**
 * Attention over the KV ring in DDR (docs/codegen.md "Attention").
 * Per token row: the host writes the new K/V row into the ring (KV quantisation, kv_write, which
 * also sets the row's kv_len / kv_blocks / kv_rows variables); then per query head:
 *   scores = K·q          GEMV chunks over ring slots, K rows streamed through the weight path,
 *                          rows and bytes relocated by the variables; findemax tracks e_max
 *                          (prefill over a ring of several chunks: one GEMM per row, prefill-scores.ts)
 *   [softcap]             host (or SCALE/TANH/SCALE with a TANH extension); then EXP without e_max
 *   p = softmax(scores)   CVO EXP(sub_emax), REDUCE_SUM into the word before the scores, SCALE(recip)
 *   out_h = Vᵀ·p          GEMV chunks with V streamed as K-block-major tiles, merged with accm
 * The attention scale is folded into K when it is written. Sinks are one more score word
 * ([sink, −inf × 7]) just before the scores. A layer sharing another layer's cache reads that ring.
 * Attention falls back to a host step when the cache cannot be streamed (see kv.ts).
 */
import type { AttentionOp } from "../../resolver/graph/index.js";
import type { DmaPiece, L2Addr, L2Buf, RelocExpr, TileUse } from "../draft.js";
import { unsupportedOp } from "../errors.js";
import { hasCvo } from "../machine.js";
import type { HostOperand } from "../program.js";
import { addrOf } from "../values.js";
import type { Lower } from "./context.js";
import { type KvCache, kvView, kvWrite, ownCache, ringOperands, sharedCache } from "./kv.js";
import { prefillScoresByGemm, scoresGemm } from "./prefill-scores.js";
import { kvBlocksVar, kvLenVar, kvRowsVar } from "./vars.js";
import { vectorOperand } from "./vectors.js";

/** The largest softcap whose exp(cap) stays finite in BF16 (exp without the e_max shift). */
const MAX_EXP_ARG = 80;

export function lowerAttention(L: Lower, op: AttentionOp): void {
  const own = op.kv.source === "own";
  const cache = own ? ownCache(L, op) : sharedCache(L, op, op.kv.source === "shared" ? op.kv.layer : 0);
  if (op.softcap !== undefined && op.softcap > MAX_EXP_ARG)
    throw unsupportedOp(
      op,
      `attention softcap ${op.softcap} exceeds ${MAX_EXP_ARG}: exp(score) would overflow BF16 without the e_max shift`,
    );
  const rows = L.rows;
  const out = op.outputs[0]!;
  let k: HostOperand | undefined;
  let v: HostOperand | undefined;
  if (op.kv.source === "own") {
    k = L.host(op.kv.k);
    v = L.host(op.kv.v);
  }
  if (cache.format === "bf16_rows") {
    hostAttention(L, op, cache, k, v);
    return;
  }
  const q = L.l2(op.q);
  const result = L.newValue(out, op.heads * op.vHeadDim, rows, op.vHeadDim);
  const hostCap = op.softcap !== undefined && !hasCvo(L.m, "TANH");
  for (let t = 0; t < rows; t++) {
    if (k && v) kvWrite(L, cache, k, v, t);
    else if (L.seg.kind === "prefill") kvView(L, cache, t);
    // Host soft-capping reads the scores back by whole 32-slot blocks: one zeroed buffer per row.
    const shared = hostCap ? zeroedScores(L, cache, `row ${t}`) : undefined;
    for (let h = 0; h < op.heads; h++) {
      const g = Math.floor((h * op.kvHeads) / op.heads);
      const qa = addrOf(L.m, q, t, h * op.headDim);
      const oa = addrOf(L.m, result, t, h * op.vHeadDim);
      if (!qa || !oa) throw unsupportedOp(op, `head ${h} of row ${t} does not start on an L2 word`);
      const sink = op.sinks ? sinkWord(L, op, h) : undefined;
      headAttention(
        L,
        op,
        cache,
        g,
        scaledQuery(L, op, cache, qa, `row ${t} head ${h}`),
        oa,
        `row ${t} head ${h}`,
        sink,
        shared,
      );
    }
  }
  L.setL2(out, result);
}

/** The word [sink_h, −inf × 7] of head h, pinned in L2 by the load segment. */
function sinkWord(L: Lower, op: AttentionOp, h: number): L2Addr {
  const view = op.sinks!;
  const name = `sinks ${L.tensorName(view.weight)}`;
  let p = L.reg.pinned.get(name);
  if (!p) {
    p = {
      buf: L.buf(name, op.heads, "program"),
      source: vectorOperand(L, view),
      words: op.heads,
      spread: "-inf",
    };
    L.reg.pinned.set(name, p);
  }
  return { buf: p.buf, word: h };
}

/** q scaled by op.scale / the scale folded into the shared cache, when they differ. */
function scaledQuery(L: Lower, op: AttentionOp, c: KvCache, qa: L2Addr, label: string): L2Addr {
  const ratio = op.scale / c.kScale;
  if (ratio === 1) return qa;
  const words = Math.ceil(op.headDim / L.m.elemsPerWord);
  const tmp = L.buf(`q scaled ${label}`, 1 + words);
  L.copy(qa, { buf: tmp, word: 1 }, words, `q ${label}`);
  L.setScalar({ buf: tmp, word: 0 }, ratio, `q scale ${label}`);
  L.cvo("SCALE", { buf: tmp, word: 0 }, { buf: tmp, word: 1 }, op.headDim, `q scale ${label}`);
  return { buf: tmp, word: 1 };
}

/** Q·Kᵀ, softmax and P·V of one query head (or one MLA head: same cache format). */
export function headAttention(
  L: Lower,
  op: { softcap?: number; sinks?: AttentionOp["sinks"]; layer?: number },
  c: KvCache,
  g: number,
  qa: L2Addr,
  oa: L2Addr,
  label: string,
  sinkWord?: L2Addr,
  scoreBuf?: L2Buf,
): void {
  const m = L.m;
  const epw = m.elemsPerWord;
  const len = kvLenVar(L, c.layer);
  const blocks = kvBlocksVar(L, c.layer);
  const sinks = sinkWord !== undefined;
  const S = scoreBuf ?? L.buf(`scores ${label}`, 1 + (sinks ? 1 : 0) + scoreWords(L, c));
  const sum: L2Addr = { buf: S, word: 0 };
  const first: L2Addr = { buf: S, word: 1 };
  const scores: L2Addr = { buf: S, word: sinks ? 2 : 1 };
  if (sinkWord) L.copy(sinkWord, first, 1, `sink ${label}`);
  const softcap = op.softcap;
  const ports = m.enginePorts.gemv;
  const bpc = c.chunk / 32;
  const chunks = reachableChunks(L, c);
  // Q·Kᵀ: one GEMV per ring chunk, or (prefill, several chunks) one GEMM (prefill-scores.ts).
  if (prefillScoresByGemm(L, c, chunks))
    scoresGemm(L, c, g, qa, scores, softcap === undefined, chunks, label);
  else scoresByChunks(L, c, g, qa, scores, softcap === undefined, chunks, label);
  if (softcap !== undefined) capScores(L, c, scores, sum, softcap, label);
  const total = L.rx(sinks ? epw : 0, [[len, 1]], undefined, c.capacity + (sinks ? epw : 0));
  L.cvo("EXP", first, first, total, `softmax exp ${label}`, { subEmax: softcap === undefined });
  L.cvo("REDUCE_SUM", first, sum, total, `softmax sum ${label}`);
  L.cvo("SCALE", sum, first, total, `softmax normalise ${label}`, { recipScale: true });
  for (let ch = 0; ch < chunks; ch++) {
    const tiles: TileUse[] = ports.map((port, j) => ({
      port,
      pieces: [
        {
          region: c.region,
          offset: c.vBase + g * c.vHeadBytes + c.vPortOffsets[j]! + ch * bpc * c.vBlockBytes[j]!,
          bytes: L.rx(
            -ch * bpc * c.vBlockBytes[j]!,
            [[blocks, c.vBlockBytes[j]!]],
            0,
            bpc * c.vBlockBytes[j]!,
          ),
        },
      ],
    }));
    L.push({
      kind: "gemv",
      engine: "GEMV",
      dest: oa,
      src: { buf: S, word: scores.word + (ch * c.chunk) / epw },
      findemax: false,
      accm: ch > 0,
      shape: L.fmap(1, c.vHeadDim, L.rx(-ch * c.chunk, [[len, 1]], 0, c.chunk)),
      wshape: L.wshape(1, 32),
      tiles: tiles.filter((t) => c.vParts[ports.indexOf(t.port)]!.count > 0),
      origin: L.origin(`context ${label} chunk ${ch}`),
    });
  }
}

/** Q·Kᵀ as one GEMV per ring chunk (N ≤ the GEMV's rows per call), rows and bytes relocated by kv_rows. */
function scoresByChunks(
  L: Lower,
  c: KvCache,
  g: number,
  qa: L2Addr,
  scores: L2Addr,
  findemax: boolean,
  chunks: number,
  label: string,
): void {
  const m = L.m;
  const ports = m.enginePorts.gemv;
  const len = kvLenVar(L, c.layer);
  for (let ch = 0; ch < chunks; ch++) {
    const rowsVars = ports.map((_, j) => kvRowsVar(L, c.layer, ch, j));
    const tiles: TileUse[] = ports.map((port, j) => {
      const before = rowsVars.slice(0, j).map((vn) => [vn, c.kRowBytes] as const);
      const beforeS = rowsVars.slice(0, j).map((vn) => [vn, m.beatBytes] as const);
      const rowsPiece: DmaPiece = {
        region: c.region,
        offset: L.rx(g * c.kHeadBytes + c.kRowBytes * ch * c.chunk, before),
        bytes: L.rx(0, [[rowsVars[j]!, c.kRowBytes]]),
      };
      const scalePiece: DmaPiece = {
        region: c.region,
        offset: L.rx(g * c.kHeadBytes + c.kScaleOffset + m.beatBytes * ch * c.chunk, beforeS),
        bytes: L.rx(0, [[rowsVars[j]!, m.beatBytes]]),
      };
      return { port, pieces: [rowsPiece, scalePiece] };
    });
    L.push({
      kind: "gemv",
      engine: "GEMV",
      dest: { buf: scores.buf, word: scores.word + (ch * c.chunk) / m.elemsPerWord },
      src: qa,
      findemax,
      accm: false,
      shape: L.fmap(1, L.rx(-ch * c.chunk, [[len, 1]], 0, c.chunk), c.headDim),
      wshape: L.wshape(0, c.kGroup),
      tiles,
      origin: L.origin(`scores ${label} chunk ${ch}`),
    });
  }
}

/**
 * Attention chunks a segment can reach: all of the ring in decode; in prefill only those below the
 * segment's largest position (its maxPos + rows), the rest would always be empty.
 */
function reachableChunks(L: Lower, c: KvCache): number {
  if (L.seg.maxPos === undefined) return c.chunks;
  const rows = Math.min(c.capacity, Math.max(1, L.seg.maxPos + L.seg.rows));
  return Math.min(c.chunks, Math.ceil(rows / c.chunk));
}

/** Words of a score vector: the ring's slots rounded up to whole 32-slot blocks. */
const scoreWords = (L: Lower, c: KvCache) => Math.ceil(c.capacity / 32) * (32 / L.m.elemsPerWord);

/** A score buffer (sum word, then the scores) with every score word zeroed. */
function zeroedScores(L: Lower, c: KvCache, label: string): L2Buf {
  const words = scoreWords(L, c);
  const S = L.buf(`scores ${label}`, 1 + words);
  const zeros = L.reg.constVector(0, words * L.m.elemsPerWord);
  L.copy({ buf: L.constBuf(), word: zeros.word + 1 }, { buf: S, word: 1 }, words, `zero scores ${label}`);
  return S;
}

/** Soft-capping of the scores: host round trip, or SCALE·TANH·SCALE with a TANH extension. */
function capScores(L: Lower, c: KvCache, scores: L2Addr, sum: L2Addr, cap: number, label: string): void {
  const len = kvLenVar(L, c.layer);
  const n = L.rx(0, [[len, 1]], undefined, c.capacity);
  if (hasCvo(L.m, "TANH") && scores.word === sum.word + 1) {
    L.setScalar(sum, 1 / cap, `softcap ${label}`);
    L.cvo("SCALE", sum, scores, n, `softcap ${label} /cap`);
    L.cvo("TANH", scores, scores, n, `softcap ${label} tanh`);
    L.setScalar(sum, cap, `softcap ${label}`);
    L.cvo("SCALE", sum, scores, n, `softcap ${label} ·cap`);
    return;
  }
  // The scores go to the host and back by whole 32-slot blocks (kv_blocks), so sizes stay linear.
  const blocks = kvBlocksVar(L, c.layer);
  const blockBytes = 32 * L.m.activationBytes;
  const maxBlocks = Math.ceil(c.capacity / 32);
  const buf = L.hostBuf(maxBlocks * blockBytes);
  const opnd = { region: buf.region, offset: 0, elements: maxBlocks * 32, dtype: "bf16" as const };
  const count = L.rx(0, [[blocks, 32]], 0, maxBlocks * 32);
  const bytes = L.rx(0, [[blocks, blockBytes]], 0, maxBlocks * blockBytes);
  const o = L.origin(`scores ${label}`);
  L.push({ kind: "dma", port: "acp_result", region: buf.region, offset: 0, bytes, origin: o });
  L.push({ kind: "memcpy", dir: "l2_to_host", src: scores, count, origin: o });
  const elements = L.rx(0, [[blocks, 32]], 0, maxBlocks * 32);
  L.push({
    kind: "host",
    fn: "softcap",
    inputs: [opnd],
    outputs: [opnd],
    attrs: { cap },
    relocs: [
      { field: "inputs[0].elements", expr: elements as RelocExpr },
      { field: "outputs[0].elements", expr: elements as RelocExpr },
    ],
    origin: L.origin(`softcap ${label}`),
  });
  L.push({ kind: "dma", port: "acp_fmap", region: buf.region, offset: 0, bytes, origin: o });
  L.push({ kind: "memcpy", dir: "host_to_l2", dest: scores, count, origin: o });
}

/** Attention on the host over a bf16 ring (fallback). */
function hostAttention(L: Lower, op: AttentionOp, c: KvCache, k?: HostOperand, v?: HostOperand): void {
  const out = op.outputs[0]!;
  const q = L.host(op.q);
  const o = L.hostOut(out);
  const [kRing, vRing] = ringOperands(c, L.reg.regionBytes(c.region));
  const sinks = op.sinks ? [vectorOperand(L, op.sinks)] : [];
  kvLenVar(L, c.layer);
  for (let t = 0; t < L.rows; t++) {
    if (k && v) kvWrite(L, c, k, v, t);
    else if (L.seg.kind === "prefill") kvView(L, c, t);
    L.hostStep(
      "attention",
      [q, kRing, vRing, ...sinks],
      [o],
      {
        layer: c.layer,
        heads: op.heads,
        kvHeads: op.kvHeads,
        headDim: op.headDim,
        vHeadDim: op.vHeadDim,
        scale: op.scale / c.kScale,
        row: t,
        ...(op.softcap !== undefined ? { softcap: op.softcap } : {}),
      },
      `attention (host: ${c.hostReason}) row ${t}`,
    );
  }
  L.setHost(out, o);
}
