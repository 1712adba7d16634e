/**
 * MLP features: the activation function (with measured error bounds when the SFU's function differs
 * from the model's), the gating product of gated MLPs, gpt-oss's clamped SwiGLU and Gemma 3n's
 * Gaussian top-k activation sparsity.
 */
import type { GluAct, Op } from "../../resolver/graph/index.js";
import { ACTIVATION_GRID, EXACT_FUNCTIONS, icdfConstantError, measureMaxAbsError } from "../approx.js";
import { unaryFormula } from "../formula.js";
import type { FeatureContext, FeaturePlugin, LedgerEntry, Verdict } from "../types.js";
import {
  cvoVerdict,
  graphMismatch,
  groupBy,
  ids,
  layerRanges,
  layersOf,
  num,
  plural,
  sourceKey,
} from "./util.js";

const ACT_KEYS = ["hidden_act", "hidden_activation", "activation_function"];
/** Below this measured error a hardware function counts as exact (float64 noise of the formula). */
const EXACT_TOLERANCE = 1e-12;

/** The SFU function that can evaluate `fn` elementwise, if the target has it. */
const CANDIDATE: Readonly<Record<string, string>> = {
  silu: "SILU",
  gelu: "GELU",
  gelu_tanh: "GELU",
  quick_gelu: "GELU",
  tanh: "TANH",
};

/** Verdict for evaluating activation `fn` on the target. */
export function activationVerdict(ctx: FeatureContext, fn: string): { verdict: Verdict; cvo: string[] } {
  if (fn === "relu") return cvoVerdict(ctx, ["MAX"], "CVO MAX against a zero vector", "ReLU");
  if (fn === "sigmoid")
    return cvoVerdict(ctx, ["SCALE", "EXP", "ADD", "RECIP"], "SCALE by −1, EXP, ADD 1, RECIP", "the sigmoid");
  const hwName = CANDIDATE[fn];
  const exact = EXACT_FUNCTIONS[fn];
  const hw = hwName ? unaryFormula(ctx.cvoFormula(hwName)) : undefined;
  if (!hwName || !exact || !hw) {
    const missing = hwName ?? fn.toUpperCase();
    return {
      verdict: {
        kind: "host",
        reason: `${fn} needs ${missing}: ${ctx.target.file.name} declares no CVO code for it (pccx-v002.md §4)`,
      },
      cvo: [missing],
    };
  }
  const formula = ctx.cvoFormula(hwName)!;
  const m = measureMaxAbsError(hw, exact, ACTIVATION_GRID, `${formula}~${fn}`);
  if (m.maxAbsError <= EXACT_TOLERANCE)
    return {
      verdict: { kind: "lowered", how: `CVO ${hwName} (${formula}) computes ${fn} exactly` },
      cvo: [hwName],
    };
  return {
    verdict: {
      kind: "approximated",
      method: `CVO ${hwName}: ${formula}`,
      reference: fn,
      maxAbsError: m.maxAbsError,
      grid: m.grid,
      worstAt: Number(m.worstAt.toFixed(4)),
    },
    cvo: [hwName],
  };
}

type Site = { op: Op; fn: string; gated: boolean };

function sites(ops: readonly Op[]): Site[] {
  const out: Site[] = [];
  const act = (a: GluAct) => a.fn;
  for (const o of ops) {
    if (o.kind === "activation") out.push({ op: o, fn: o.fn, gated: false });
    else if ((o.kind === "glu" || o.kind === "moe_experts") && o.act.fn !== "clamped_swiglu")
      out.push({ op: o, fn: act(o.act), gated: true });
  }
  return out;
}

export const activation: FeaturePlugin = {
  id: "activation",
  summary:
    "Activation functions (hidden_act / hidden_activation / activation_function, router and gate activations) and the gate × up product of gated MLPs: lowered when the SFU computes them exactly, approximated with a measured error bound when it computes a different formula (GELU as x·σ(1.702x)), else host.",
  keys: ACT_KEYS,
  detect: (_p, g) => sites(g.ops).length > 0,
  apply(graph, parsed, _t, ctx) {
    const entries: LedgerEntry[] = [];
    const paths = ctx.pathsOf(...ACT_KEYS);
    const key = sourceKey(parsed, "hidden_act", ACT_KEYS);
    for (const [, group] of groupBy(sites(graph.ops), (s) => `${s.fn}|${s.gated}|${s.op.kind}`)) {
      const { fn, gated, op } = group[0]!;
      const ops = group.map((s) => s.op);
      const where = op.kind === "moe_experts" ? "routed experts" : gated ? "gated MLPs" : "activation ops";
      const { verdict, cvo } = activationVerdict(ctx, fn);
      const fromConfig = fn === parsed.text.hidden_act;
      entries.push(
        ctx.entry({
          key: fromConfig ? key : "",
          paths: fromConfig ? paths : [],
          value: fromConfig ? parsed.text.hidden_act_name : fn,
          detail: `${fn}${fromConfig && parsed.text.hidden_act_name !== fn ? ` (${parsed.text.hidden_act_name})` : ""} in ${plural(ops.length, where.replace(/s$/, ""))} (${layerRanges(layersOf(ops))})`,
          verdict,
          ops: ids(ops),
          cvo,
        }),
      );
      if (gated) {
        const g = cvoVerdict(
          ctx,
          ["MUL"],
          "CVO MUL of act(gate) into the up projection",
          "the gate × up product",
        );
        entries.push(
          ctx.entry({
            key: "",
            paths: [],
            value: fn,
            detail: `gate × up product of ${plural(ops.length, where.replace(/s$/, ""))}`,
            verdict: g.verdict,
            ops: ids(ops),
            cvo: g.cvo,
          }),
        );
      }
    }
    return { graph, entries };
  },
};

export const clampedSwiglu: FeaturePlugin = {
  id: "clamped-swiglu",
  summary:
    "gpt-oss's clamped SwiGLU (up+1)·g·σ(αg) with clamps at ±swiglu_limit: the SFU GELU computes g·σ(1.702g) exactly when α = 1.702; clamps need MAX.",
  keys: ["swiglu_limit", "swiglu_alpha"],
  detect: (_p, g) =>
    g.ops.some((o) => (o.kind === "glu" || o.kind === "moe_experts") && o.act.fn === "clamped_swiglu"),
  apply(graph, _p, _t, ctx) {
    const ops = graph.ops.filter(
      (o) => (o.kind === "glu" || o.kind === "moe_experts") && o.act.fn === "clamped_swiglu",
    );
    const act = (ops[0] as Extract<Op, { kind: "glu" }>).act as Extract<GluAct, { fn: "clamped_swiglu" }>;
    const alpha = act.alpha;
    const gelu = unaryFormula(ctx.cvoFormula("GELU"));
    const exactGate = (x: number) => x / (1 + Math.exp(-alpha * x));
    const viaGelu =
      gelu !== undefined &&
      measureMaxAbsError(gelu, exactGate, ACTIVATION_GRID).maxAbsError <= EXACT_TOLERANCE;
    const sig = viaGelu ? "GELU" : "SILU";
    const { verdict, cvo } = cvoVerdict(
      ctx,
      ["MAX", "SCALE", "ADD", "MUL", sig],
      `clamps with MAX/SCALE(−1), ${viaGelu ? `g·σ(${num(alpha)}g) by CVO GELU exactly` : `g·σ(αg) = SILU(αg)/α`}, ADD 1 to up, MUL`,
      "the clamped SwiGLU",
    );
    const entry = ctx.entry({
      key: "swiglu_limit",
      paths: ctx.pathsOf("swiglu_limit", "swiglu_alpha"),
      value: { alpha, limit: act.limit },
      detail: `clamped SwiGLU, α ${num(alpha)}, limit ${num(act.limit)} in ${plural(ops.length, "op")}`,
      verdict,
      ops: ids(ops),
      cvo,
    });
    return { graph, entries: [entry] };
  },
};

export const activationSparsity: FeaturePlugin = {
  id: "activation-sparsity",
  summary:
    "Gemma 3n Gaussian top-k activation sparsity relu(x − mean − std·Φ⁻¹(p)): the threshold constant Φ⁻¹(p) held in BF16 on the SFU (error measured), or exactly on the host.",
  keys: ["activation_sparsity_pattern"],
  detect: (_p, g) => g.ops.some((o) => o.kind === "gaussian_topk"),
  apply(graph, parsed, _t, ctx) {
    const ops = ctx.opsOf(graph, "gaussian_topk");
    const pattern = parsed.text.gemma3n?.activation_sparsity_pattern;
    for (const o of ops)
      if (pattern && o.layer !== undefined && pattern[o.layer] !== o.sparsity)
        throw graphMismatch(
          "activation-sparsity",
          `${o.id} uses sparsity ${o.sparsity}, the config says ${pattern[o.layer]}`,
        );
    const e = icdfConstantError(ops.map((o) => o.sparsity));
    const notes = e.constants.map(
      (c) => `p ${num(c.sparsity)}: Φ⁻¹(p) = ${c.z.toPrecision(9)}, BF16 ${c.bf16}`,
    );
    const hw = cvoVerdict(
      ctx,
      ["REDUCE_SUM", "SCALE", "SQUARE", "SQRT", "ADD", "MAX"],
      "",
      "the Gaussian top-k threshold",
    );
    const verdict: Verdict =
      hw.verdict.kind === "lowered"
        ? {
            kind: "approximated",
            method:
              "mean and std by REDUCE_SUM/SQUARE/SQRT, threshold mean + z·std with z = Φ⁻¹(p) as a BF16 constant, ADD −threshold, MAX 0",
            reference: "Φ⁻¹(p) in float64 (error in units of the row's std)",
            maxAbsError: e.maxAbsError,
            grid: {
              from: Math.min(...ops.map((o) => o.sparsity)),
              to: Math.max(...ops.map((o) => o.sparsity)),
              points: e.constants.length,
            },
            worstAt: e.worstAt,
          }
        : ({
            ...hw.verdict,
            how: "the host computes mean, std and the threshold in float32 with the float64 constant",
          } as Verdict);
    const entry = ctx.entry({
      key: "activation_sparsity_pattern",
      paths: ctx.pathsOf("activation_sparsity_pattern"),
      value: pattern ?? [],
      detail: `Gaussian top-k on the gate of ${layerRanges(layersOf(ops))} (sparsity ${[...new Set(ops.map((o) => num(o.sparsity)))].join(", ")})`,
      verdict,
      ops: ids(ops),
      cvo: hw.cvo,
      notes,
    });
    return { graph, entries: [entry] };
  },
};
