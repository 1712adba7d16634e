/**
 * The per-op error trace (docs/simulator.md "How the reasons were found"): the same program run by
 * two machines side by side on the same tokens, one in exact mode and one in hardware mode (with
 * optional exact parts), compared after every step of one chosen run. For each step that writes
 * something it gives the relative error ‖hw − exact‖ / ‖exact‖ of what it wrote — the L2 elements
 * the exact step changed (NPU steps), or its output operands (host steps, located with the
 * variables after the step) — in program order, with the step's origin. Exact mode agrees with the
 * golden reference to float rounding, so this is the error against the golden intermediate values:
 * where hardware error enters, and where an op amplifies it.
 */
import type { Program, Step } from "../../codegen/program.js";
import { usageError } from "../../diag/index.js";
import type { Target } from "../../target/index.js";
import { driverVariables, type KvGeometry } from "./generate.js";
import { FunctionalMachine } from "./machine.js";
import type { ExactPart, Fault, WeightImage } from "./types.js";

export interface OpErrorRow {
  /** Step index in the decode segment. */
  readonly step: number;
  readonly layer?: number;
  readonly op?: string;
  readonly label: string;
  /** `GEMV`, `CVO:GELU`, `host:rms_norm`, ... */
  readonly what: string;
  /** Elements compared. */
  readonly elements: number;
  /** ‖hw − exact‖₂ / ‖exact‖₂ over them (Infinity when the exact values are all zero and hw's not). */
  readonly relErr: number;
  readonly maxAbs: number;
  readonly maxErr: number;
}

export interface OpErrorTrace {
  readonly rows: readonly OpErrorRow[];
  readonly faults: readonly Fault[];
}

export interface OpErrorOptions {
  /** Parts of the hardware machine's numeric model made exact (attribution). */
  readonly exactParts?: readonly ExactPart[];
  readonly layers?: Readonly<Record<number, KvGeometry>>;
}

/**
 * Runs `tokens` token by token through the decode segment (after every load segment) on both
 * machines and traces the run at position `at` (0 ≤ at < tokens.length): teacher forcing, so both
 * see the same tokens.
 */
export function opErrorTrace(
  program: Program,
  image: WeightImage,
  target: Target,
  tokens: readonly number[],
  at: number,
  options: OpErrorOptions = {},
): OpErrorTrace {
  if (!Number.isInteger(at) || at < 0 || at >= tokens.length) {
    throw usageError("sim/trace-position", `position ${at} is not one of the ${tokens.length} tokens`);
  }
  const dec = program.segments.find((s) => s.kind === "decode");
  if (!dec) throw usageError("sim/no-decode", "the program has no decode segment");
  const ex = new FunctionalMachine(program, image, target, { mode: "exact" });
  const hw = new FunctionalMachine(program, image, target, {
    mode: "hardware",
    ...(options.exactParts ? { exactParts: options.exactParts } : {}),
  });
  const vars = (pos: number) => driverVariables(program.variables, pos, [tokens[pos]!], options.layers);
  for (const m of [ex, hw]) {
    for (const s of program.segments.filter((x) => x.kind === "load")) m.runSegment(s.name, {});
    for (let pos = 0; pos < at; pos++) m.runSegment(dec.name, vars(pos));
  }
  const rows: OpErrorRow[] = [];
  const E = ex.state.l2.data;
  const H = hw.state.l2.data;
  const before = new Float32Array(E.length);
  const a = ex.stepSegment(dec.name, vars(at));
  const b = hw.stepSegment(dec.name, vars(at));
  for (let i = 0; ; i++) {
    const step = dec.steps[i];
    if (step?.kind === "npu") before.set(E);
    const na = a.next();
    const nb = b.next();
    if (na.done || nb.done || !step) break;
    const acc = { se: 0, sr: 0, n: 0, maxAbs: 0, maxErr: 0 };
    const add = (e: number, h: number) => {
      const d = h - e;
      acc.se += d * d;
      acc.sr += e * e;
      acc.n++;
      acc.maxAbs = Math.max(acc.maxAbs, Math.abs(e));
      acc.maxErr = Math.max(acc.maxErr, Math.abs(d));
    };
    if (step.kind === "npu") {
      for (let j = 0; j < E.length; j++) if (!Object.is(E[j], before[j])) add(E[j]!, H[j]!);
    } else if (step.kind === "host") {
      hostOutputs(ex, hw, dec.name, i, add);
    }
    if (acc.n === 0) continue;
    rows.push({
      step: i,
      ...(step.origin.layer !== undefined ? { layer: step.origin.layer } : {}),
      ...(step.origin.op !== undefined ? { op: step.origin.op } : {}),
      label: step.origin.label,
      what: whatOf(step),
      elements: acc.n,
      relErr: acc.sr > 0 ? Math.sqrt(acc.se / acc.sr) : acc.se > 0 ? Number.POSITIVE_INFINITY : 0,
      maxAbs: acc.maxAbs,
      maxErr: acc.maxErr,
    });
  }
  return { rows, faults: [...ex.log.faults, ...hw.log.faults] };
}

/** A host step's non-INT4 outputs, as each machine holds them. */
function hostOutputs(
  ex: FunctionalMachine,
  hw: FunctionalMachine,
  segment: string,
  i: number,
  add: (e: number, h: number) => void,
): void {
  const sa = ex.resolvedStep(segment, i);
  const sb = hw.resolvedStep(segment, i);
  if (sa.kind !== "host" || sb.kind !== "host") return;
  for (const [k, o] of sa.outputs.entries()) {
    const ob = sb.outputs[k];
    if (o.dtype === "int4" || !ob) continue;
    const ra = ex.state.ddr.region(o.region);
    const rb = hw.state.ddr.region(ob.region);
    if (!ra || !rb) continue;
    const va = ex.state.ddr.readTyped(ra, o.offset, o.elements, o.dtype);
    const vb = hw.state.ddr.readTyped(rb, ob.offset, ob.elements, ob.dtype);
    for (let j = 0; j < Math.min(va.length, vb.length); j++) add(va[j]!, vb[j]!);
  }
}

function whatOf(step: Step): string {
  if (step.kind === "host") return `host:${step.fn}`;
  if (step.kind !== "npu") return step.kind;
  const f = step.instr.fields["cvo_func"];
  return step.instr.opcode === "CVO" ? `CVO:${String(f)}` : step.instr.opcode;
}

/** The trace as aligned text lines (for logs and docs). */
export function formatOpErrors(rows: readonly OpErrorRow[]): string {
  return rows
    .map(
      (r) =>
        `${String(r.step).padStart(5)} ${`L${r.layer ?? "-"}`.padEnd(4)} ${r.what.padEnd(20)} ` +
        `n=${String(r.elements).padStart(5)} rel ${r.relErr.toExponential(2)} ` +
        `max|x| ${r.maxAbs.toExponential(2)} max err ${r.maxErr.toExponential(2)}  ${r.label}`,
    )
    .join("\n");
}
