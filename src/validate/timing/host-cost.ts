/**
 * The cost of a host step on the ARM cores: a fixed call overhead plus the elements it processes
 * at the target's per-thread rate for its cost class (codegen's host function table gives the
 * class: transcendental functions at the transcendental rate, everything else at the element-wise
 * rate). The elements processed are what the function touches, not the size of its operands: a
 * reduction reads all its inputs; an element-wise function produces min(inputs, outputs) elements
 * (an output that is a whole KV ring receives one row); host attention reads the visible rows.
 */
import { hostFunction } from "../../codegen/host-ops/table.js";
import type { HostOperand, HostStep } from "../../codegen/program.js";
import type { TimingModel } from "./resources.js";
import type { Variables } from "./variables.js";

export interface HostCost {
  readonly cycles: number;
  readonly elements: number;
  /** Bytes of DDR buffers touched (elements × operand element size). */
  readonly bytes: number;
}

const ELEM_BYTES: Readonly<Record<HostOperand["dtype"], number>> = { f32: 4, bf16: 2, i32: 4, int4: 0.5 };

const sum = (ops: readonly HostOperand[]) => ops.reduce((s, o) => s + o.elements, 0);
const num = (v: unknown, d: number) => (typeof v === "number" ? v : d);

/** Elements a host step processes (see the header). */
export function hostElements(step: HostStep, vars: Variables): number {
  const a = step.attrs;
  if (step.fn === "attention") {
    const len = vars.get(`kv_len[${num(a.layer, -1)}]`);
    return num(a.heads, 1) * len * (num(a.headDim, 0) + num(a.vHeadDim, 0));
  }
  const ins = sum(step.inputs);
  const outs = sum(step.outputs);
  if (hostFunction(step.fn)?.cost === "reduction") return Math.max(ins, outs);
  if (ins === 0 || outs === 0) return Math.max(ins, outs);
  return Math.min(ins, outs);
}

export function hostCost(m: TimingModel, step: HostStep, vars: Variables): HostCost {
  const elements = hostElements(step, vars);
  const cls = hostFunction(step.fn)?.cost ?? "elementwise";
  const rate = cls === "transcendental" ? m.host.transcendentalPerCycle : m.host.elementwisePerCycle;
  const ops = [...step.inputs, ...step.outputs];
  const all = sum(ops);
  const bytesPerElem = all > 0 ? ops.reduce((s, o) => s + o.elements * ELEM_BYTES[o.dtype], 0) / all : 2;
  return { cycles: m.host.callOverhead + elements / rate, elements, bytes: elements * bytesPerElem };
}
