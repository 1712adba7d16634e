/**
 * Host operations (docs/program.md §5): the simulator's implementation of the host-function list
 * codegen defines in src/codegen/host-ops (names, operands, attributes, formulas). Every arithmetic
 * operation is float32 (`f` = Math.fround after each one, in the order the formula writes it),
 * sums run in index order, transcendental functions are evaluated in float64 and rounded once.
 * Functions work row by row over their operands' rows (host-io.ts).
 *
 * The element-wise, normalisation and small functions are here; the model-level ones (attention,
 * KV writes, MoE routing, AltUp, RoPE, gathers) in host-ops-model.ts. `HOST_OPS` joins both.
 */
import { hostFunction } from "../../codegen/host-ops/table.js";
import { erf } from "../../resolver/graph/index.js";
import { fault } from "./faults.js";
import type { BoundOperand } from "./host-io.js";
import { MODEL_OPS } from "./host-ops-model.js";
import type { SimState } from "./state.js";

type Attr = number | string | boolean | readonly number[];

/** What a host function sees: bound operands (outputs pre-read), attributes, variables. */
export interface HostCall {
  readonly fn: string;
  readonly attrs: Readonly<Record<string, Attr>>;
  readonly inputs: readonly BoundOperand[];
  readonly outputs: readonly BoundOperand[];
  readonly state: SimState;
  num(name: string, dflt?: number): number;
  str(name: string, dflt?: string): string;
  bool(name: string, dflt?: boolean): boolean;
  nums(name: string): readonly number[];
  variable(name: string): number;
  setVariable(name: string, value: number): void;
  /** The formulas' bf16(x): BF16 rounding in hardware mode; exact mode keeps float32 (no BF16 anywhere). */
  bf16(x: number): number;
}

export type HostImpl = (c: HostCall) => void;

export const f = Math.fround;
const SQRT2 = f(Math.SQRT2);
const SQRT_2_OVER_PI = f(Math.sqrt(2 / Math.PI));

/** The float32 activation formulas of `activation` / `glu` (src/codegen/host-ops, activation). */
export function act(fn: string, x: number): number {
  switch (fn) {
    case "silu":
      return f(x / f(1 + f(Math.exp(-x))));
    case "gelu":
      return f(f(0.5 * x) * f(1 + f(erf(f(x / SQRT2)))));
    case "gelu_tanh": {
      const inner = f(SQRT_2_OVER_PI * f(x + f(0.044715 * f(f(x * x) * x))));
      return f(f(0.5 * x) * f(1 + f(Math.tanh(inner))));
    }
    case "relu":
      return Math.max(x, 0);
    case "tanh":
      return f(Math.tanh(x));
    case "sigmoid":
      return f(1 / f(1 + f(Math.exp(-x))));
  }
  throw fault("host-op", `activation "${fn}" is not one of silu, gelu, gelu_tanh, relu, tanh, sigmoid`);
}

/** Output 0 computed element by element from input 0 (same layout), row by row. */
function map1(c: HostCall, g: (x: number) => number): void {
  const x = c.inputs[0]!.view;
  const y = c.outputs[0]!.view;
  checkSame(c, x.rows, y.rows, x.width, y.width);
  for (let t = 0; t < y.rows; t++) for (let j = 0; j < y.width; j++) y.set(t, j, g(x.get(t, j)));
}

function checkSame(c: HostCall, r1: number, r2: number, w1: number, w2: number): void {
  if (r1 !== r2 || w1 !== w2) {
    throw fault("host-op", `host ${c.fn}: operands of ${r1}×${w1} and ${r2}×${w2} elements do not match`);
  }
}

/** Σx² of a row in float32. */
function sumSq(row: Float32Array, from = 0, to = row.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s = f(s + f(row[i]! * row[i]!));
  return s;
}

function sum(row: Float32Array): number {
  let s = 0;
  for (const v of row) s = f(s + v);
  return s;
}

/** The optional inputs of a function, by the boolean attributes that announce them. */
function optionalInputs(c: HostCall, flags: readonly string[]): (BoundOperand | undefined)[] {
  let k = 1;
  return flags.map((flag) => (c.bool(flag, false) ? c.inputs[k++] : undefined));
}

const activation: HostImpl = (c) => {
  const fn = c.str("fn");
  map1(c, (x) => act(fn, x));
};

const glu: HostImpl = (c) => {
  const fn = c.str("fn");
  const interleaved = c.bool("interleaved", false);
  const g = c.inputs[0]!.view;
  const u = interleaved ? g : c.inputs[1]?.view;
  if (!u) throw fault("host-op", `host glu: needs an up operand unless interleaved`);
  const y = c.outputs[0]!.view;
  const alpha = fn === "clamped_swiglu" ? c.num("alpha") : 0;
  const limit = fn === "clamped_swiglu" ? c.num("limit") : 0;
  for (let t = 0; t < y.rows; t++) {
    for (let j = 0; j < y.width; j++) {
      const gate = interleaved ? g.get(t, 2 * j) : g.get(t, j);
      const up = interleaved ? g.get(t, 2 * j + 1) : u.get(t, j);
      if (fn === "clamped_swiglu") {
        const gg = Math.min(gate, limit);
        const uu = Math.min(Math.max(up, -limit), limit);
        y.set(t, j, f(f(f(uu + 1) * gg) / f(1 + f(Math.exp(f(-alpha * gg))))));
      } else y.set(t, j, f(act(fn, gate) * up));
    }
  }
};

const mul: HostImpl = (c) => {
  const a = c.inputs[0]!.view;
  const b = c.inputs[1]!.view;
  const y = c.outputs[0]!.view;
  const bc = c.bool("broadcast", false);
  for (let t = 0; t < y.rows; t++) {
    for (let j = 0; j < y.width; j++) y.set(t, j, f(a.get(t, j) * (bc ? b.get(t, 0) : b.get(t, j))));
  }
};

const add: HostImpl = (c) => {
  const a = c.inputs[0]!.view;
  const b = c.inputs[1]!.view;
  const y = c.outputs[0]!.view;
  checkSame(c, a.rows, b.rows, a.width, b.width);
  for (let t = 0; t < y.rows; t++)
    for (let j = 0; j < y.width; j++) y.set(t, j, f(a.get(t, j) + b.get(t, j)));
};

const mean: HostImpl = (c) => {
  const n = c.num("n");
  const xs = c.inputs.slice(0, n).map((b) => b.view);
  const y = c.outputs[0]!.view;
  const inv = f(1 / n);
  for (let t = 0; t < y.rows; t++) {
    for (let j = 0; j < y.width; j++) {
      let s = 0;
      for (const x of xs) s = f(s + x.get(t, j));
      y.set(t, j, f(s * inv));
    }
  }
};

const mulWeight: HostImpl = (c) => {
  const w = c.inputs[1]!.view;
  const n = w.width;
  const x = c.inputs[0]!.view;
  const y = c.outputs[0]!.view;
  for (let t = 0; t < y.rows; t++) {
    for (let j = 0; j < y.width; j++) y.set(t, j, f(x.get(t, j) * w.get(0, n === 1 ? 0 : j)));
  }
};

const rmsNorm: HostImpl = (c) => {
  const [w] = optionalInputs(c, ["hasWeight"]);
  const eps = c.num("eps");
  const gs = c.num("groupSize");
  const off = c.num("weightOffset");
  const x = c.inputs[0]!.view;
  const y = c.outputs[0]!.view;
  if (x.width % gs !== 0)
    throw fault("host-op", `host rms_norm: width ${x.width} is not a multiple of groupSize ${gs}`);
  for (let t = 0; t < y.rows; t++) {
    const row = x.row(t);
    for (let g0 = 0; g0 < row.length; g0 += gs) {
      const r = f(1 / f(Math.sqrt(f(f(sumSq(row, g0, g0 + gs) / gs) + eps))));
      for (let j = g0; j < g0 + gs; j++) {
        const xr = f(row[j]! * r);
        y.set(t, j, w ? f(xr * f(off + w.view.get(0, j - g0))) : xr);
      }
    }
  }
};

const rmsScale: HostImpl = (c) => {
  const row = c.inputs[0]!.view.row(0);
  const eps = c.num("eps");
  c.outputs[0]!.view.set(0, 0, f(1 / f(Math.sqrt(f(f(sumSq(row) / row.length) + eps)))));
};

const layerNorm: HostImpl = (c) => {
  const [w, b] = optionalInputs(c, ["hasWeight", "hasBias"]);
  const eps = c.num("eps");
  const x = c.inputs[0]!.view;
  const y = c.outputs[0]!.view;
  for (let t = 0; t < y.rows; t++) {
    const row = x.row(t);
    const n = row.length;
    const mu = f(sum(row) / n);
    let v = 0;
    for (const e of row) v = f(v + f(f(e - mu) * f(e - mu)));
    const inv = f(Math.sqrt(f(f(v / n) + eps)));
    for (let j = 0; j < n; j++) {
      let o = f(f(row[j]! - mu) / inv);
      if (w) o = f(o * w.view.get(0, j));
      if (b) o = f(o + b.view.get(0, j));
      y.set(t, j, o);
    }
  }
};

const magnitudeMatch: HostImpl = (c) => {
  const eps = c.num("eps");
  const x = c.inputs[0]!.view;
  const ref = c.inputs[1]!.view;
  const y = c.outputs[0]!.view;
  for (let t = 0; t < y.rows; t++) {
    const xr = x.row(t);
    const rr = ref.row(t);
    const target = f(Math.sqrt(f(sumSq(rr) / rr.length)));
    const cur = f(Math.sqrt(Math.max(f(sumSq(xr) / xr.length), eps)));
    for (let j = 0; j < xr.length; j++) y.set(t, j, f(f(xr[j]! * target) / cur));
  }
};

const gaussianTopk: HostImpl = (c) => {
  const z = c.num("z");
  const x = c.inputs[0]!.view;
  const y = c.outputs[0]!.view;
  for (let t = 0; t < y.rows; t++) {
    const row = x.row(t);
    const n = row.length;
    const mu = f(sum(row) / n);
    let v = 0;
    for (const e of row) v = f(v + f(f(e - mu) * f(e - mu)));
    const cut = f(mu + f(f(Math.sqrt(f(v / n))) * z));
    for (let j = 0; j < n; j++) y.set(t, j, Math.max(f(row[j]! - cut), 0));
  }
};

const softcap: HostImpl = (c) => {
  const cap = c.num("cap");
  map1(c, (x) => f(cap * f(Math.tanh(f(x / cap)))));
};

const scale: HostImpl = (c) => {
  const k = c.num("factor");
  map1(c, (x) => f(x * k));
};

/** Columns [start, start + count) of each row, or of row `row` only into a one-row output. */
const slice: HostImpl = (c) => {
  const start = c.num("start");
  const count = c.num("count");
  const x = c.inputs[0]!.view;
  const y = c.outputs[0]!.view;
  const one = c.attrs["row"];
  if (typeof one === "number") {
    for (let j = 0; j < count; j++) y.set(0, j, x.get(one, start + j));
    return;
  }
  for (let t = 0; t < y.rows; t++) for (let j = 0; j < count; j++) y.set(t, j, x.get(t, start + j));
};

const argmax: HostImpl = (c) => {
  const x = c.inputs[0]!.view;
  const row = x.row(x.rows - 1);
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  c.outputs[0]!.view.set(0, 0, best);
};

const SIMPLE_OPS: Readonly<Record<string, HostImpl>> = {
  activation,
  add,
  argmax,
  gaussian_topk: gaussianTopk,
  glu,
  layer_norm: layerNorm,
  magnitude_match: magnitudeMatch,
  mean,
  mul,
  mul_weight: mulWeight,
  rms_norm: rmsNorm,
  rms_scale: rmsScale,
  scale,
  slice,
  softcap,
};

/** Every host function the simulator implements, by name. */
export const HOST_OPS: ReadonlyMap<string, HostImpl> = new Map(
  Object.entries({ ...SIMPLE_OPS, ...MODEL_OPS }).sort(([a], [b]) => (a < b ? -1 : 1)),
);

/** The codegen spec of a host function, for operand and attribute checks. */
export { hostFunction };
