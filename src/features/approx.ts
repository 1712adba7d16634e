/**
 * Measured approximation errors. Every `approximated` verdict carries a bound computed here: the
 * largest |hardware(x) − exact(x)| over a dense, evenly spaced grid of the relevant input range,
 * with the hardware side taken from the target's CVO formula text (formula.ts). Results are
 * memoised (the grids are dense, the same pair is asked for once per op).
 */
import { normalCdf, normalIcdf } from "../resolver/graph/index.js";
import { roundBf16 } from "../util/float.js";

/** The exact functions an approximation is compared with (names as in the graph's ActFn). */
export const EXACT_FUNCTIONS: Readonly<Record<string, (x: number) => number>> = {
  gelu: (x) => x * normalCdf(x),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
  silu: (x) => x / (1 + Math.exp(-x)),
  quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
  tanh: Math.tanh,
  relu: (x) => Math.max(0, x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

/**
 * Activation inputs: pre-activations of MLP gates stay well inside ±10 in trained models, and
 * outside it both the exact functions and the sigmoid form tend to x or 0 with errors below 1e-6.
 */
export const ACTIVATION_GRID = { from: -10, to: 10, points: 200_001 } as const;

export interface ErrorMeasure {
  readonly maxAbsError: number;
  readonly worstAt: number;
  readonly grid: { readonly from: number; readonly to: number; readonly points: number };
}

const memo = new Map<string, ErrorMeasure>();

/** max |hw(x) − exact(x)| over `points` evenly spaced x in [from, to]. */
export function measureMaxAbsError(
  hw: (x: number) => number,
  exact: (x: number) => number,
  grid: { from: number; to: number; points: number } = ACTIVATION_GRID,
  memoKey?: string,
): ErrorMeasure {
  const key = memoKey ? `${memoKey}|${grid.from}|${grid.to}|${grid.points}` : undefined;
  const hit = key ? memo.get(key) : undefined;
  if (hit) return hit;
  let maxAbsError = 0;
  let worstAt = grid.from;
  const step = (grid.to - grid.from) / (grid.points - 1);
  for (let i = 0; i < grid.points; i++) {
    const x = grid.from + i * step;
    const e = Math.abs(hw(x) - exact(x));
    if (e > maxAbsError) {
      maxAbsError = e;
      worstAt = x;
    }
  }
  const out = { maxAbsError, worstAt, grid: { ...grid } };
  if (key) memo.set(key, out);
  return out;
}

/**
 * The Gaussian top-k threshold constant z = Φ⁻¹(p) as the SFU holds it (BF16) vs exact: the
 * threshold mean + z·std is off by |Δz|·std, so |Δz| is the error in units of the row's std.
 */
export function icdfConstantError(sparsities: readonly number[]): {
  readonly maxAbsError: number;
  readonly worstAt: number;
  readonly constants: readonly { readonly sparsity: number; readonly z: number; readonly bf16: number }[];
} {
  let maxAbsError = 0;
  let worstAt = sparsities[0] ?? 0;
  const constants = [...new Set(sparsities)]
    .sort((a, b) => a - b)
    .map((p) => {
      const z = normalIcdf(p);
      const bf16 = roundBf16(z);
      if (Math.abs(bf16 - z) > maxAbsError) {
        maxAbsError = Math.abs(bf16 - z);
        worstAt = p;
      }
      return { sparsity: p, z, bf16 };
    });
  return { maxAbsError, worstAt, constants };
}
