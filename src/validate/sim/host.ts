/**
 * Host steps (docs/program.md §5): the step is checked against the host-function list of
 * src/codegen/host-ops (operand counts, required attributes and their types), its operands are
 * bound to DDR (faulting on a range an unfinished transfer is still writing), the function runs in
 * float32, and its outputs are stored. Host steps run to completion on the driver thread, so their
 * outputs are never pending.
 */

import type { HostFnSpec } from "../../codegen/host-ops/table.js";
import type { HostStep } from "../../codegen/program.js";
import { fault } from "./faults.js";
import { type BoundOperand, bindOperand, storeOperand } from "./host-io.js";
import { HOST_OPS, type HostCall, hostFunction } from "./host-ops.js";
import { RAW_INPUT_OPS, RAW_OUTPUT_OPS } from "./host-ops-model.js";
import { perRowInputs } from "./host-rows.js";
import { bf16Round } from "./numeric.js";
import type { SimState, StepCtx } from "./state.js";

type Attrs = HostStep["attrs"];

/** [min, max] operands a spec admits; repeated operands count `n` times. */
function operandRange(ops: HostFnSpec["inputs"], n: number): [number, number] {
  let min = 0;
  let opt = 0;
  for (const o of ops) {
    if (o.repeated) min += n;
    else if (o.optional) opt++;
    else min++;
  }
  return [min, min + opt];
}

function checkStep(spec: HostFnSpec, step: HostStep): void {
  const name = `host ${step.fn}`;
  for (const a of spec.attrs) {
    const v = step.attrs[a.name];
    if (v === undefined) {
      if (a.optional) continue;
      throw fault("host-op", `${name}: attribute ${a.name} (${a.doc}) is missing`);
    }
    const ok =
      a.type === "number[]" ? Array.isArray(v) && v.every((x) => typeof x === "number") : typeof v === a.type;
    if (!ok)
      throw fault("host-op", `${name}: attribute ${a.name} must be a ${a.type}, got ${JSON.stringify(v)}`);
  }
  const n = typeof step.attrs["n"] === "number" ? step.attrs["n"] : 1;
  for (const [what, ops, got] of [
    ["inputs", spec.inputs, step.inputs.length],
    ["outputs", spec.outputs, step.outputs.length],
  ] as const) {
    const [min, max] = operandRange(ops, n);
    if (got < min || got > max) {
      throw fault(
        "host-op",
        `${name} takes ${min === max ? min : `${min}..${max}`} ${what} (${ops.map((o) => o.name).join(", ")}), the step has ${got}`,
      );
    }
  }
}

function call(s: SimState, step: HostStep, inputs: BoundOperand[], outputs: BoundOperand[]): HostCall {
  const attrs: Attrs = step.attrs;
  const bad = (name: string, type: string): never => {
    throw fault(
      "host-op",
      `host ${step.fn}: attribute ${name} must be a ${type}, got ${JSON.stringify(attrs[name])}`,
    );
  };
  const get = <T>(name: string, type: string, dflt: T | undefined): T => {
    const v = attrs[name];
    if (v === undefined) return dflt === undefined ? bad(name, type) : dflt;
    if (type === "number[]" ? !Array.isArray(v) : typeof v !== type) bad(name, type);
    return v as T;
  };
  return {
    fn: step.fn,
    attrs,
    inputs,
    outputs,
    state: s,
    num: (name, dflt) => get<number>(name, "number", dflt),
    str: (name, dflt) => get<string>(name, "string", dflt),
    bool: (name, dflt) => get<boolean>(name, "boolean", dflt),
    nums: (name) => get<readonly number[]>(name, "number[]", undefined),
    variable(name) {
      const v = s.variables.get(name);
      if (v === undefined) throw fault("reloc", `host ${step.fn} needs variable ${name}, which is not set`);
      return v;
    },
    setVariable(name, value) {
      s.variables.set(name, value);
    },
    bf16: s.mode === "exact" ? (x) => x : bf16Round,
  };
}

export function execHost(s: SimState, step: HostStep, ctx: StepCtx): void {
  const impl = HOST_OPS.get(step.fn);
  const spec = hostFunction(step.fn);
  if (!impl || !spec) {
    throw fault("host-op", `unknown host function "${step.fn}" (known: ${[...HOST_OPS.keys()].join(", ")})`);
  }
  checkStep(spec, step);
  const what = `host ${step.fn} ${ctx.label}`;
  const rowsAttr = typeof step.attrs["rows"] === "number" ? step.attrs["rows"] : undefined;
  const raw = RAW_OUTPUT_OPS.has(step.fn);
  const n = typeof step.attrs["n"] === "number" ? step.attrs["n"] : 1;
  const perRow = perRowInputs(spec, n, step.inputs.length);
  const inputs = step.inputs.map((o, i) => {
    // `rows` applies to per-row inputs; parameter inputs are one row, broadcast (host-rows.ts)
    const rows = i < perRow ? rowsAttr : undefined;
    const b = bindOperand(s, o, rows, `${what} input ${i}`, RAW_INPUT_OPS.has(step.fn));
    s.hazards.checkRead(`ddr:${o.region}`, o.offset, o.offset + b.bytes, what);
    return b;
  });
  const outputs = step.outputs.map((o, i) => {
    const b = bindOperand(s, o, rowsAttr, `${what} output ${i}`, raw);
    s.hazards.checkWrite(`ddr:${o.region}`, o.offset, o.offset + b.bytes, what);
    return b;
  });
  HOST_OPS.get(step.fn)!(call(s, step, inputs, outputs));
  if (!raw) for (const b of outputs) storeOperand(s, b);
}
