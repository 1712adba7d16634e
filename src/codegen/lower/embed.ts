/**
 * Embedding lookups, from where the layout stage placed the table. BF16 rows in DDR: the row of
 * each token is copied to L2 with an ACP DataMover command whose offset is relocated by the token
 * variable (`token`, or `token[t]` in prefill), and a scale (Gemma's √H) is one SCALE. INT4 rows
 * (large vocabularies) or a table off DDR (Gemma 3n's 4.7 GB per-layer embedding, read from the
 * weight file): a host step dequantises the token's row. Learned positions (GPT-2) are a BF16 row
 * relocated by `pos`, then added.
 */

import { OFF_DDR_REGION as OFF_DDR } from "../../layout/plan/index.js";
import type { EmbeddingOp, PositionEmbeddingOp } from "../../resolver/graph/index.js";
import { unsupportedOp } from "../errors.js";
import type { Lower } from "./context.js";
import { lowerAdd, scaleBlocks } from "./elementwise.js";
import { posVar, tokenVar } from "./vars.js";
import { useRegion } from "./vectors.js";

/** Copies table rows into `v` (one per token row), each offset relocated by a variable. */
function gatherRows(
  L: Lower,
  region: string,
  base: number,
  rowBytes: number,
  v: ReturnType<Lower["newValue"]>,
  varOf: (t: number) => [string, number][],
  label: string,
): void {
  for (let t = 0; t < v.rows; t++) {
    for (const b of v.blocks) {
      const off = L.rx(
        base + b.start * L.m.activationBytes,
        varOf(t).map(([n, s]) => [n, s * rowBytes] as const),
      );
      const dest = { buf: b.data.buf, word: b.data.word + t * b.rowWords };
      const count = v.rows === 1 && v.blocks.length === 1 ? b.width : b.rowWords * L.m.elemsPerWord;
      L.transfer("host_to_l2", dest, region, off, count, `${label} row ${t}`);
    }
  }
}

export function lowerEmbedding(L: Lower, op: EmbeddingOp): void {
  const out = op.outputs[0]!;
  const tensor = L.tensorName(op.table);
  const p = L.plan.placed(tensor);
  const scale = op.scale ?? 1;
  if (!p)
    throw unsupportedOp(
      op,
      `the layout plan streams the table ${tensor}; an embedding lookup reads rows from DDR or the weight file`,
    );
  if (p.format === "bf16" && p.layout === "vector" && p.placement !== "off-ddr") {
    useRegion(L, p.region);
    const v = L.newValue(out, p.cols, L.rows, L.an.unit(out));
    gatherRows(L, p.region, p.offset, p.rowStride, v, (t) => [[tokenVar(L, t), 1]], `embedding ${tensor}`);
    if (scale !== 1) scaleBlocks(L, v, v, scale, `embedding scale ${scale}`, false);
    L.setL2(out, v);
    return;
  }
  // INT4 table rows (or a table off DDR): the host dequantises the rows of the tokens.
  if (p.region !== OFF_DDR) useRegion(L, p.region);
  const tokens = Array.from({ length: L.rows }, (_, t) => tokenVar(L, t)).join(",");
  const o = L.hostOut(out);
  const table = {
    region: p.region,
    offset: p.offset,
    elements: p.rows * p.cols,
    dtype: p.format === "int4" ? ("int4" as const) : ("bf16" as const),
  };
  L.hostStep(
    "gather_rows",
    [table],
    [o],
    {
      tensor,
      tokens,
      scale,
      width: p.cols,
      format: p.layout === "table" ? "int4_table" : "bf16",
      rowStride: p.rowStride,
      group: p.group,
    },
    `embedding ${tensor} (host${p.placement === "off-ddr" ? ", off DDR" : ", int4 rows"})`,
  );
  L.setHost(out, o);
}

export function lowerPositionEmbedding(L: Lower, op: PositionEmbeddingOp): void {
  const tensor = L.tensorName(op.table);
  const p = L.plan.placed(tensor);
  if (p?.format !== "bf16" || p.layout !== "vector" || p.placement === "off-ddr")
    throw unsupportedOp(op, `the learned position table ${tensor} must be BF16 rows in DDR for the ACP copy`);
  if (p.rows < L.plan.context)
    throw unsupportedOp(
      op,
      `the learned position table ${tensor} has ${p.rows} rows, fewer than the context ${L.plan.context}`,
      `compile with a context of at most ${p.rows} tokens`,
    );
  useRegion(L, p.region);
  const posId = `${op.outputs[0]!}#pos`;
  const v = L.newValue(posId, p.cols, L.rows, L.an.unit(op.input));
  const pos = posVar(L);
  for (let t = 0; t < v.rows; t++) {
    for (const b of v.blocks) {
      const off = L.rx(p.offset + t * p.rowStride + b.start * L.m.activationBytes, [[pos, p.rowStride]]);
      const dest = { buf: b.data.buf, word: b.data.word + t * b.rowWords };
      const count = v.rows === 1 && v.blocks.length === 1 ? b.width : b.rowWords * L.m.elemsPerWord;
      L.transfer("host_to_l2", dest, p.region, off, count, `position row ${t}`);
    }
  }
  L.setL2(posId, v);
  lowerAdd(L, { ...op, kind: "add", a: op.input, b: posId } as unknown as Parameters<typeof lowerAdd>[1]);
}
