/**
 * Which host operands the step's `rows` attribute applies to (docs/program.md §5). `rows` counts the
 * token rows of the step's per-row operands (activations, outputs); a parameter input — a norm's
 * weight and bias, a weight vector, the RoPE table, AltUp coefficients — is the same for every row
 * and is read whole (one row of its `elements`), whatever `rows` says. The simulator and the C
 * driver (src/stubs/host-fns.ts) both take this list.
 *
 * Parameter inputs always follow the per-row ones in src/codegen/host-ops' operand order, so a step's
 * inputs split at one index: see `perRowInputs`.
 */
import type { HostFnSpec } from "../../codegen/host-ops/table.js";

/** Per function, the spec names of its inputs broadcast to every row. */
export const BROADCAST_INPUTS: Readonly<Record<string, readonly string[]>> = {
  altup_correct: ["coefs"],
  altup_predict: ["coefs"],
  layer_norm: ["weight", "bias"],
  mul_weight: ["w"],
  rms_norm: ["weight"],
  rope: ["table"],
};

/**
 * The leading per-row inputs of a function as (fixed, repeated): a step with `n` repeated operands
 * has `fixed + repeated·n` per-row inputs; null when every input is per row.
 */
export function perRowInputCount(spec: HostFnSpec): { fixed: number; repeated: number } | null {
  const broadcast = BROADCAST_INPUTS[spec.name];
  if (!broadcast) return null;
  let fixed = 0;
  let repeated = 0;
  for (const o of spec.inputs) {
    if (broadcast.includes(o.name)) continue;
    if (o.repeated) repeated++;
    else fixed++;
  }
  return { fixed, repeated };
}

/** Index of a step's first broadcast input (its input count when none). */
export function perRowInputs(spec: HostFnSpec, n: number, inputs: number): number {
  const c = perRowInputCount(spec);
  return c ? Math.min(inputs, c.fixed + c.repeated * n) : inputs;
}
