/**
 * Rotary embedding. The cos/sin values come from a table in DDR, one row per position, written once
 * by the load segment (host `rope_table`) from the frequencies the compiler computes with the
 * graph's RoPE formulas (ropeInvFreq, attention factor included, rounded to BF16 as HF casts cos/sin
 * to the model dtype). Angles are not computed with the SFU's SIN/COS: a BF16 angle pos·θ is off by
 * radians beyond a few hundred positions.
 * - With a ROPE_ROTATE extension (half pairing, word-aligned heads): the table row of each token is
 *   copied to L2 with an ACP command whose offset is relocated by `pos`, then per head the rotated
 *   span is copied next to it and rotated by the SFU.
 * - Otherwise a host step rotates the pairs, reading the table row of each token's position.
 */
import type { RopeOp } from "../../resolver/graph/index.js";
import { hasCvo } from "../machine.js";
import { placeValue } from "../values.js";
import type { Lower } from "./context.js";
import { hostOp, writable } from "./elementwise.js";
import { posVar } from "./vars.js";

export function lowerRope(L: Lower, op: RopeOp): void {
  const out = op.outputs[0]!;
  const table = L.reg.ropeTable(op.rope, op.rotaryDim, L.plan.context);
  const rowBytes = table.rowBytes;
  const epw = L.m.elemsPerWord;
  const npu =
    hasCvo(L.m, "ROPE_ROTATE") &&
    op.style === "half" &&
    op.headDim % epw === 0 &&
    op.offset % epw === 0 &&
    !L.onHostOnly(op.input);
  if (!npu) {
    const tableOp = {
      region: table.region,
      offset: 0,
      elements: (rowBytes * table.positions) / L.m.activationBytes,
      dtype: "bf16" as const,
    };
    hostOp(
      L,
      "rope",
      [op.input],
      [out],
      {
        heads: op.heads,
        headDim: op.headDim,
        offset: op.offset,
        rotaryDim: op.rotaryDim,
        style: op.style,
        row: 0,
        tableRowBytes: rowBytes,
      },
      [tableOp],
    );
    return;
  }
  const x = writable(L, op.input, out);
  const rdWords = Math.ceil(op.rotaryDim / epw);
  const rowWords = rowBytes / L.m.wordBytes;
  const tmp = placeValue(
    L.m,
    L.buf(`${out} rope tmp`, 1 + rdWords + rowWords),
    `${out} rope tmp`,
    op.rotaryDim,
    1,
  );
  const tail = { buf: tmp.buf, word: tmp.blocks[0]!.data.word + rdWords };
  const pos = posVar(L);
  for (let t = 0; t < x.rows; t++) {
    const off = L.rx(t * rowBytes, [[pos, rowBytes]]);
    L.transfer("host_to_l2", tail, table.region, off, rowWords * epw, `rope table row ${t}`, rowBytes);
    for (let h = 0; h < op.heads; h++) {
      const col = h * op.headDim + op.offset;
      const blk = x.blocks.find((b) => col >= b.start && col + op.rotaryDim <= b.start + b.width)!;
      const at = { buf: blk.data.buf, word: blk.data.word + t * blk.rowWords + (col - blk.start) / epw };
      L.copy(at, tmp.blocks[0]!.data, rdWords, `rope ${out} head ${h}`);
      L.cvo("ROPE_ROTATE", tmp.blocks[0]!.data, at, op.rotaryDim, `rope ${out} row ${t} head ${h}`);
    }
  }
  L.setL2(out, x);
}
