/**
 * The routing the program runs (the host function `moe_route`, float32, as the simulator and the C
 * driver implement it) against the golden reference's `route` (float64, HF MoEGate semantics):
 * same experts in the same order and the same weights, for softmax and sigmoid scores, the
 * DeepSeek-V3 correction bias, group-limited top-k (max or top-2-sum groups), normalisation and the
 * routed scale. Issue #7 suspected DeepSeek's drift came from routing computed differently or at
 * reduced precision; it does not: the float32 routing agrees wherever the float64 decision margins
 * exceed float32 noise, and the drift comes from its inputs (the router logits' upstream error).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type RouteParams, route } from "../../../src/validate/golden/index.js";
import { HOST_OPS, type HostCall } from "../../../src/validate/sim/index.js";

interface Case {
  readonly e: number;
  readonly k: number;
  readonly scoring: "softmax" | "sigmoid";
  readonly normalize: boolean;
  readonly routedScale: number;
  readonly groups?: { count: number; topk: number; score: 0 | 1 };
  readonly logits: Float32Array;
  readonly bias?: Float32Array;
}

/** Runs the host implementation on a minimal call: one row of logits, the k weights as k rows. */
function hostRoute(c: Case): { indices: number[]; weights: number[] } {
  const attrs: Record<string, number | string | boolean | readonly number[]> = {
    layer: 3,
    numExperts: c.e,
    topK: c.k,
    scoring: c.scoring,
    normalize: c.normalize,
    routedScale: c.routedScale,
    hasBias: c.bias !== undefined,
    hasExpertScale: false,
    ...(c.groups ? { groups: [c.groups.count, c.groups.topk, c.groups.score] } : {}),
  };
  const weights: number[] = [];
  const vars = new Map<string, number>();
  const rowOf = (a: Float32Array) => ({ view: { row: () => a } });
  const call = {
    fn: "moe_route",
    attrs,
    inputs: [rowOf(c.logits), ...(c.bias ? [rowOf(c.bias)] : [])],
    outputs: [{ view: { rows: c.k, set: (j: number, _c: number, v: number) => (weights[j] = v) } }],
    state: { l2: { epw: 8 } },
    num: (n: string, d?: number) => (attrs[n] as number | undefined) ?? d,
    str: (n: string) => attrs[n] as string,
    bool: (n: string, d?: boolean) => (attrs[n] as boolean | undefined) ?? d,
    setVariable: (n: string, v: number) => vars.set(n, v),
  } as unknown as HostCall;
  HOST_OPS.get("moe_route")!(call);
  return { indices: Array.from({ length: c.k }, (_, j) => vars.get(`expert[3][${j}]`)!), weights };
}

function params(c: Case): RouteParams {
  return {
    numExperts: c.e,
    topK: c.k,
    scoring: c.scoring,
    normalize: c.normalize,
    routedScale: c.routedScale,
    ...(c.groups
      ? {
          groups: {
            count: c.groups.count,
            topk: c.groups.topk,
            score: c.groups.score === 0 ? "max" : "top2_sum",
          },
        }
      : {}),
    ...(c.bias ? { correctionBias: c.bias } : {}),
  } as RouteParams;
}

/** Smallest gap between distinct-rank values (float64): the decision margins a flip needs. */
function minGap(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  let m = Number.POSITIVE_INFINITY;
  for (let i = 1; i < s.length; i++) m = Math.min(m, s[i]! - s[i - 1]!);
  return m;
}

/** The float64 choice values and group scores the golden decides on (to skip near-ties). */
function margins(c: Case): number {
  const l = Array.from(c.logits);
  const max = Math.max(...l);
  const ex = l.map((v) => Math.exp(v - max));
  const sum = ex.reduce((a, b) => a + b, 0);
  const s = c.scoring === "softmax" ? ex.map((v) => v / sum) : l.map((v) => 1 / (1 + Math.exp(-v)));
  const choice = s.map((v, i) => v + (c.bias?.[i] ?? 0));
  if (!c.groups) return minGap(choice);
  const size = c.e / c.groups.count;
  const gs = Array.from({ length: c.groups.count }, (_, g) => {
    const m = choice.slice(g * size, (g + 1) * size).sort((a, b) => b - a);
    return c.groups!.score === 0 ? m[0]! : m[0]! + m[1]!;
  });
  return Math.min(minGap(choice), minGap(gs));
}

const arbCase: fc.Arbitrary<Case> = fc
  .record({
    shape: fc.constantFrom(
      { e: 4, groups: undefined },
      { e: 8, groups: { count: 4, topk: 2 } }, // the tiny DeepSeek-V3
      { e: 16, groups: { count: 8, topk: 3 } },
      { e: 16, groups: undefined },
    ),
    k: fc.integer({ min: 1, max: 4 }),
    scoring: fc.constantFrom("softmax" as const, "sigmoid" as const),
    normalize: fc.boolean(),
    routedScale: fc.constantFrom(1, 2.5, 16),
    groupScore: fc.constantFrom(0 as const, 1 as const),
    withBias: fc.boolean(),
    // distinct logits in [−4, 4] (steps of 1/64) and biases in [−0.3, 0.3]: near-ties are rare
    logits: fc.uniqueArray(fc.integer({ min: -256, max: 256 }), { minLength: 16, maxLength: 16 }),
    bias: fc.array(fc.integer({ min: -150, max: 150 }), { minLength: 16, maxLength: 16 }),
  })
  .map(({ shape, k, scoring, normalize, routedScale, groupScore, withBias, logits, bias }) => {
    const size = shape.groups ? shape.e / shape.groups.count : shape.e;
    const kk = Math.min(k, shape.groups ? shape.groups.topk * size : shape.e);
    return {
      e: shape.e,
      k: kk,
      scoring,
      normalize,
      routedScale,
      ...(shape.groups ? { groups: { ...shape.groups, score: groupScore } } : {}),
      logits: Float32Array.from(logits.slice(0, shape.e), (v) => v / 64),
      ...(withBias ? { bias: Float32Array.from(bias.slice(0, shape.e), (v) => v / 500) } : {}),
    };
  });

describe("host moe_route (float32) against the golden route (float64)", () => {
  it("the tiny DeepSeek-V3 case of the golden's hand example gives the same experts and weights", () => {
    // moe.test.ts: scores [0.95, 0.01, 0.6, 0.5, 0.3, 0.4, 0.2, 0.1], bias 0.45 on e4 → e4, e2,
    // weights [1/3, 2/3]·2.5.
    const s = [0.95, 0.01, 0.6, 0.5, 0.3, 0.4, 0.2, 0.1];
    const c: Case = {
      e: 8,
      k: 2,
      scoring: "sigmoid",
      normalize: true,
      routedScale: 2.5,
      groups: { count: 4, topk: 2, score: 1 },
      logits: Float32Array.from(s, (p) => Math.log(p / (1 - p))),
      bias: Float32Array.from([0, 0, 0, 0, 0.45, 0, 0, 0]),
    };
    const h = hostRoute(c);
    expect(h.indices).toEqual([4, 2]);
    expect(h.weights[0]).toBeCloseTo(2.5 / 3, 6);
    expect(h.weights[1]).toBeCloseTo(5 / 3, 6);
    // the bias decides the groups too: without it groups {1: 1.1, 0: 0.96} are kept → e0, e2,
    // weights [0.95, 0.6]/1.55·2.5
    const nb = hostRoute({ ...c, bias: new Float32Array(8) });
    expect(nb.indices).toEqual([0, 2]);
    expect(nb.weights[0]).toBeCloseTo((2.5 * 0.95) / 1.55, 6);
    expect(nb.weights[1]).toBeCloseTo((2.5 * 0.6) / 1.55, 6);
  });

  it("agrees on experts (order included) and weights whenever the decision margins exceed 1e-4", () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        fc.pre(margins(c) > 1e-4);
        const g = route(Array.from(c.logits), params(c));
        const h = hostRoute(c);
        expect(h.indices).toEqual(g.indices);
        for (let j = 0; j < c.k; j++) {
          expect(Math.abs(h.weights[j]! - g.weights[j]!)).toBeLessThanOrEqual(
            2e-6 * Math.max(1, Math.abs(g.weights[j]!)),
          );
        }
      }),
      { numRuns: 400, seed: 7 },
    );
  });
});
