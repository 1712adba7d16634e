/**
 * The `lower` pass: walks the graph once per segment (decode: one token; prefill: a chunk of rows)
 * and turns each op into draft steps with its op-family module. In prefill the head ops (after the
 * last layer) run on the last row only. The segment ends with the logits in the `logits` region
 * and a host argmax.
 */
import type { Op } from "../../resolver/graph/index.js";
import type { DSegment } from "../draft.js";
import { unsupportedOp } from "../errors.js";
import type { HostOperand } from "../program.js";
import { lowerAttention } from "./attention.js";
import type { Lower } from "./context.js";
import {
  hostOp,
  lowerActivation,
  lowerAdd,
  lowerGlu,
  lowerMean,
  lowerMul,
  lowerMulWeight,
  lowerScale,
  lowerSlice,
  lowerSoftcap,
} from "./elementwise.js";
import { lowerEmbedding, lowerPositionEmbedding } from "./embed.js";
import { lowerLinear } from "./linear.js";
import { lowerMla } from "./mla.js";
import { lowerMoeExperts, lowerMoeRoute } from "./moe.js";
import { lowerGaussianTopk, lowerLayerNorm, lowerMagnitudeMatch, lowerRmsNorm } from "./norm.js";
import { lowerRope } from "./rope.js";
import { tensorOperand } from "./vectors.js";

/** Lowers one op (one lowering per op kind). */
export function lowerOp(L: Lower, op: Op): void {
  L.begin(op);
  switch (op.kind) {
    case "embedding":
      lowerEmbedding(L, op);
      return;
    case "position_embedding":
      lowerPositionEmbedding(L, op);
      return;
    case "rms_norm":
      lowerRmsNorm(L, op);
      return;
    case "layer_norm":
      lowerLayerNorm(L, op);
      return;
    case "linear":
      lowerLinear(L, op);
      return;
    case "rope":
      lowerRope(L, op);
      return;
    case "attention":
      lowerAttention(L, op);
      return;
    case "mla_attention":
      lowerMla(L, op);
      return;
    case "activation":
      lowerActivation(L, op);
      return;
    case "glu":
      lowerGlu(L, op);
      return;
    case "add":
      lowerAdd(L, op);
      return;
    case "mul":
      lowerMul(L, op);
      return;
    case "mul_weight":
      lowerMulWeight(L, op);
      return;
    case "scale":
      lowerScale(L, op);
      return;
    case "softcap":
      lowerSoftcap(L, op);
      return;
    case "slice":
      lowerSlice(L, op);
      return;
    case "moe_route":
      lowerMoeRoute(L, op);
      return;
    case "moe_experts":
      lowerMoeExperts(L, op);
      return;
    case "magnitude_match":
      lowerMagnitudeMatch(L, op);
      return;
    case "gaussian_topk":
      lowerGaussianTopk(L, op);
      return;
    case "mean":
      lowerMean(L, op);
      return;
    case "altup_predict": {
      const coefs = tensorOperand(L, op.coefs.weight);
      hostOp(L, "altup_predict", [...op.streams, op.modalities], op.outputs, { n: op.streams.length }, [
        coefs,
      ]);
      return;
    }
    case "altup_correct": {
      const coefs = tensorOperand(L, op.coefs.weight);
      hostOp(
        L,
        "altup_correct",
        [...op.predictions, op.activated, op.modalities],
        op.outputs,
        {
          n: op.predictions.length,
          activeIndex: op.activeIndex,
          ...(op.coefClip !== undefined ? { coefClip: op.coefClip } : {}),
        },
        [coefs],
      );
      return;
    }
    default: {
      const never: never = op;
      throw unsupportedOp(never as Op, "no lowering for this op kind");
    }
  }
}

/** Prefill: from the first head op on, every value still read is viewed as its last row. */
function toLastRow(L: Lower, at: number): void {
  for (const [id, home] of [...L.values]) {
    if (!L.an.liveAfter(id, at - 1)) {
      L.values.delete(id);
      continue;
    }
    if (!home.l2 && home.host) L.l2(id);
    const v = L.values.get(id)?.l2;
    if (v && v.rows > 1) L.values.set(id, { l2: L.rowView(v, v.rows - 1) });
  }
  L.curRows = 1;
}

/** Lowers the whole graph into `seg` (decode or prefill). */
export function lowerSegment(L: Lower, seg: DSegment): void {
  const g = L.graph;
  let head = false;
  g.ops.forEach((op, i) => {
    if (seg.rows > 1 && !head && L.an.headOps.has(op.id)) {
      toLastRow(L, i);
      head = true;
    }
    lowerOp(L, op);
  });
  L.op = undefined;
  finishLogits(L);
}

/** The logits end in the `logits` region (read by the driver) and a host argmax picks the token. */
function finishLogits(L: Lower): void {
  const id = L.graph.logits;
  const home = L.values.get(id)!;
  const vocab = L.width(id);
  const bytes = Math.ceil(vocab / L.m.elemsPerWord) * L.m.wordBytes;
  L.reg.region("logits", "logits");
  if (L.reg.regions.get("logits")!.bytes < bytes) L.reg.regions.get("logits")!.bytes = bytes;
  const logits: HostOperand = { region: "logits", offset: 0, elements: vocab, dtype: "bf16" };
  if (home.l2 && home.l2.rows === 1) {
    const v = home.l2;
    for (const b of v.blocks)
      L.transfer("l2_to_host", b.data, "logits", b.start * L.m.activationBytes, b.width, "logits");
  } else {
    const h = L.host(id);
    L.hostStep("slice", [h], [logits], { start: 0, count: vocab }, "logits");
  }
  L.reg.region("result", "buffer");
  if (L.reg.regions.get("result")!.bytes < L.m.wordBytes) L.reg.regions.get("result")!.bytes = L.m.wordBytes;
  L.hostStep("argmax", [logits], [{ region: "result", offset: 0, elements: 1, dtype: "i32" }], {}, "argmax");
}
