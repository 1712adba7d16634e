/**
 * Op signatures: for each op kind, what it expects of its inputs and weights and what it outputs.
 * One function (`checkOp`) serves the builder (to create output values, failing fast) and the
 * verifier (to collect every problem), so the two can never disagree.
 */
import {
  type CheckContext,
  type Checker,
  expect,
  expectVector,
  matrixDims,
  type OutSpec,
  positive,
  type Report,
  row,
  sameShape,
  sameWidths,
  storedDims,
  weightOf,
  width,
} from "./check-util.js";
import type { ExpertMatrix, ExpertVector, Op } from "./ops.js";
import { checkAltup, checkAttention, checkMla, checkMoe, checkRoute } from "./signature-blocks.js";
import type { WeightId } from "./types.js";

export type { CacheShape, CheckContext, OutSpec, Report } from "./check-util.js";

function checkNorm(c: Checker, op: Extract<Op, { kind: "rms_norm" | "layer_norm" }>): OutSpec[] | undefined {
  const n = width(c, op.input, "input");
  if (n === undefined) return undefined;
  expect(c, op.eps >= 0, "graph/bad-attribute", "eps must be ≥ 0", "eps");
  if (op.kind === "layer_norm") {
    expectVector(c, op.weight, [n], "weight");
    expectVector(c, op.bias, [n], "bias");
    return [row(n)];
  }
  if (positive(c, op.groupSize, "groupSize")) {
    expect(
      c,
      n % op.groupSize === 0,
      "graph/shape-mismatch",
      `width ${n} is not a multiple of groupSize ${op.groupSize}`,
      "groupSize",
    );
  }
  expectVector(c, op.weight, [op.groupSize], "weight");
  return [row(n)];
}

function checkRope(c: Checker, op: Extract<Op, { kind: "rope" }>): OutSpec[] | undefined {
  const n = width(c, op.input, "input");
  if (n === undefined) return undefined;
  expect(
    c,
    n === op.heads * op.headDim,
    "graph/shape-mismatch",
    `input has width ${n}, expected heads·headDim = ${op.heads * op.headDim}`,
    "input",
  );
  const ok =
    op.rotaryDim > 0 && op.rotaryDim % 2 === 0 && op.offset >= 0 && op.offset + op.rotaryDim <= op.headDim;
  expect(
    c,
    ok,
    "graph/bad-attribute",
    `rotary features [${op.offset}, ${op.offset + op.rotaryDim}) do not fit an even slice of head ${op.headDim}`,
    "rotaryDim",
  );
  if (op.rope.type === "longrope") {
    const half = op.rotaryDim / 2;
    expect(
      c,
      op.rope.shortFactor.length === half && op.rope.longFactor.length === half,
      "graph/bad-attribute",
      `longrope factors need ${half} entries`,
      "rope",
    );
  }
  return [row(n)];
}

/** Checks one op against the context and returns its outputs, or undefined if they are unknown. */
export function checkOp(op: Op, ctx: CheckContext, report: Report): readonly OutSpec[] | undefined {
  const c: Checker = { ctx, report };
  switch (op.kind) {
    case "embedding": {
      const t = ctx.value(op.tokens);
      if (!t) report("graph/undefined-value", `value "${op.tokens}" is read before it is defined`, "tokens");
      else
        expect(
          c,
          t.dtype === "int" && t.shape.length === 1 && t.shape[0] === "T",
          "graph/shape-mismatch",
          `tokens "${op.tokens}" must be an int [T] value`,
          "tokens",
        );
      const w = weightOf(c, op.table, "table");
      const d = w && storedDims(c, w, undefined, 2, "table");
      return d ? [row(d[1]!)] : undefined;
    }
    case "position_embedding": {
      const n = width(c, op.input, "input");
      const w = weightOf(c, op.table, "table");
      const d = w && storedDims(c, w, undefined, 2, "table");
      if (d && n !== undefined)
        expect(
          c,
          d[1] === n,
          "graph/weight-shape",
          `position table "${op.table}" rows have ${d[1]} elements, input ${n}`,
          "table",
        );
      return n === undefined ? undefined : [row(n)];
    }
    case "rms_norm":
    case "layer_norm":
      return checkNorm(c, op);
    case "linear": {
      const n = width(c, op.input, "input");
      const d = matrixDims(c, op.weight, "weight");
      if (!d) return undefined;
      if (n !== undefined)
        expect(
          c,
          d.in === n,
          "graph/shape-mismatch",
          `input has width ${n}, matrix "${op.weight.weight}" expects ${d.in}`,
          "input",
        );
      expectVector(c, op.bias, [d.out], "bias");
      return [row(d.out)];
    }
    case "rope":
      return checkRope(c, op);
    case "attention":
      return checkAttention(c, op);
    case "mla_attention":
      return checkMla(c, op);
    case "glu": {
      const w = sameWidths(c, [op.gate, op.up], "gate");
      if (op.act.fn === "clamped_swiglu")
        expect(c, op.act.limit > 0, "graph/bad-attribute", "limit must be > 0", "act");
      return w === undefined ? undefined : [row(w)];
    }
    case "add": {
      const w = sameWidths(c, [op.a, op.b], "a");
      return w === undefined ? undefined : [row(w)];
    }
    case "mul": {
      const a = width(c, op.a, "a");
      const b = width(c, op.b, "b");
      if (a !== undefined && b !== undefined)
        expect(c, b === a || b === 1, "graph/shape-mismatch", `b has width ${b}, expected ${a} or 1`, "b");
      return a === undefined ? undefined : [row(a)];
    }
    case "mul_weight": {
      const n = width(c, op.input, "input");
      if (n !== undefined) expectVector(c, op.weight, [n, 1], "weight");
      return n === undefined ? undefined : [row(n)];
    }
    case "softcap":
      expect(c, op.cap > 0, "graph/bad-attribute", "cap must be > 0", "cap");
      return sameShape(c, op.input);
    case "gaussian_topk":
      expect(
        c,
        op.sparsity > 0 && op.sparsity < 1,
        "graph/bad-attribute",
        `sparsity ${op.sparsity} outside (0, 1)`,
        "sparsity",
      );
      return sameShape(c, op.input);
    case "activation":
    case "scale":
      return sameShape(c, op.input);
    case "slice": {
      const n = width(c, op.input, "input");
      if (n !== undefined)
        expect(
          c,
          op.start >= 0 && op.count >= 1 && op.start + op.count <= n,
          "graph/bad-attribute",
          `slice [${op.start}, ${op.start + op.count}) outside width ${n}`,
          "start",
        );
      return [row(op.count)];
    }
    case "moe_route":
      return checkRoute(c, op);
    case "moe_experts":
      return checkMoe(c, op);
    case "altup_predict":
    case "altup_correct":
      return checkAltup(c, op);
    case "magnitude_match": {
      const w = sameWidths(c, [op.input, op.reference], "input");
      expect(c, op.eps > 0, "graph/bad-attribute", "eps must be > 0", "eps");
      return w === undefined ? undefined : [row(w)];
    }
    case "mean": {
      const w = sameWidths(c, op.inputs, "inputs");
      return w === undefined ? undefined : [row(w)];
    }
  }
}

/** Every weight an op reads, with the JSON path (inside the op) where it is referenced. */
export function opWeightRefs(op: Op): { readonly path: string; readonly weight: WeightId }[] {
  const out: { path: string; weight: WeightId }[] = [];
  const add = (path: string, v: { weight: WeightId } | undefined) => {
    if (v) out.push({ path, weight: v.weight });
  };
  const addExperts = (path: string, m: ExpertMatrix | ExpertVector | undefined) => {
    if (!m) return;
    if (m.kind === "stacked") out.push({ path: `${path}.weight`, weight: m.weight });
    else for (const [i, w] of m.weights.entries()) out.push({ path: `${path}.weights[${i}]`, weight: w });
  };
  switch (op.kind) {
    case "embedding":
    case "position_embedding":
      out.push({ path: "table", weight: op.table });
      break;
    case "rms_norm":
      add("weight", op.weight);
      break;
    case "layer_norm":
      add("weight", op.weight);
      add("bias", op.bias);
      break;
    case "linear":
      add("weight", op.weight);
      add("bias", op.bias);
      break;
    case "attention":
      add("sinks", op.sinks);
      break;
    case "mla_attention":
      add("kvB", op.kvB);
      break;
    case "mul_weight":
      add("weight", op.weight);
      break;
    case "moe_route":
      add("correctionBias", op.correctionBias);
      add("perExpertScale", op.perExpertScale);
      break;
    case "moe_experts":
      for (const k of ["gate", "up", "down", "gateBias", "upBias", "downBias"] as const) addExperts(k, op[k]);
      break;
    case "altup_predict":
    case "altup_correct":
      add("coefs", op.coefs);
      break;
    default:
      break;
  }
  return out;
}
