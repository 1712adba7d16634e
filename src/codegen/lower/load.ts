/**
 * The load segment, built after the others from what they registered: the L2 constant table
 * (written by a host `fill` step into DDR, then copied to L2), the RoPE tables (host `rope_table`,
 * straight into their DDR regions), the vectors pinned in L2 (copied from where the layout stage
 * placed them, header word 1.0) and the attention sink words. allocate-const adds the pinned
 * MEMSETs at its start.
 */
import { ropeAttentionFactor, ropeInvFreq } from "../../resolver/graph/index.js";
import type { RopeTable } from "../registry.js";
import type { Lower } from "./context.js";

export function lowerLoad(L: Lower): void {
  const reg = L.reg;
  const epw = L.m.elemsPerWord;
  const cbuf = L.constBuf();
  for (const p of reg.pinned.values()) if (!p.spread) L.constAddr(1);
  cbuf.words = Math.max(1, reg.constBufWords);
  // (first element, count, value) runs; everything else is 0.
  const runs: number[] = [];
  for (const [v, w] of [...reg.constWords.entries()].sort((a, b) => a[1] - b[1]))
    if (v !== 0) runs.push(w * epw, 1, v);
  for (const cv of reg.constVectorList) {
    runs.push(cv.word * epw, 1, 1);
    if (cv.value !== 0) runs.push((cv.word + 1) * epw, cv.length, cv.value);
  }
  const words = cbuf.words;
  const hb = L.hostBuf(words * L.m.wordBytes);
  const table = { region: hb.region, offset: 0, elements: words * epw, dtype: "bf16" as const };
  L.hostStep("fill", [], [table], { runs }, "constant table");
  L.transfer("host_to_l2", { buf: cbuf, word: 0 }, hb.region, 0, words * epw, "constant table");
  for (const t of reg.ropeTables.values()) ropeTable(L, t);
  for (const [name, p] of reg.pinned) {
    if (p.spread) {
      const sb = L.hostBuf(p.words * L.m.wordBytes);
      const dst = { region: sb.region, offset: 0, elements: p.words * epw, dtype: "bf16" as const };
      L.hostStep("spread_words", [p.source], [dst], { fill: p.spread }, `sink words ${name}`);
      L.transfer("host_to_l2", { buf: p.buf, word: 0 }, sb.region, 0, p.words * epw, `sink words ${name}`);
      continue;
    }
    L.transfer(
      "host_to_l2",
      { buf: p.buf, word: 1 },
      p.source.region,
      p.source.offset,
      p.source.elements,
      `pinned ${name}`,
    );
    L.copy(L.constAddr(1), { buf: p.buf, word: 0 }, 1, `pinned ${name} header`);
  }
}

/** The host step writing one RoPE table. */
function ropeTable(L: Lower, t: RopeTable): void {
  const d = t.rotaryDim;
  const spec = t.rope;
  const base = {
    attentionFactor: ropeAttentionFactor(spec),
    rotaryDim: d,
    positions: t.positions,
    halfBytes: t.halfBytes,
  };
  let attrs: Record<string, number | string | readonly number[]>;
  if (spec.type === "dynamic") {
    attrs = {
      mode: "dynamic",
      invFreq: [...ropeInvFreq(spec, d, 1)],
      theta: spec.theta,
      factor: spec.factor,
      maxPos: spec.maxPositionEmbeddings,
      ...base,
    };
  } else if (spec.type === "longrope") {
    const orig = spec.originalMaxPositionEmbeddings;
    attrs = {
      mode: "switch",
      invFreq: [...ropeInvFreq(spec, d, orig)],
      invFreqLong: [...ropeInvFreq(spec, d, orig + 1)],
      switchAt: orig,
      ...base,
    };
  } else {
    attrs = { mode: "fixed", invFreq: [...ropeInvFreq(spec, d, 1)], ...base };
  }
  const out = {
    region: t.region,
    offset: 0,
    elements: (t.rowBytes * t.positions) / L.m.activationBytes,
    dtype: "bf16" as const,
  };
  L.hostStep("rope_table", [], [out], attrs, `rope table ${t.region}`);
}
