/**
 * CVO, the special function unit (docs/program.md §4.5): each function is looked up by name in the
 * target's `isa.cvo_functions` and computed from its `formula` under its operand convention
 * (docs/targets.md "CVO operand conventions"). In exact mode a step's recorded intent (e.g.
 * "gelu_tanh") replaces the hardware formula.
 */
import type { InstrOf } from "../../isa/index.js";
import type { Target } from "../../target/index.js";
import { activate } from "../golden/kernels.js";
import { fault } from "./faults.js";
import { type CompiledFormula, compileFormula, envIndex, type Fn } from "./formula.js";
import type { SimState, StepCtx } from "./state.js";

type CvoInstr = InstrOf<"CVO">;

export interface CvoFunctionImpl {
  readonly name: string;
  readonly operands: Target["file"]["isa"]["cvo_functions"][number]["operands"];
  readonly formula: CompiledFormula;
}

const compiled = new WeakMap<Target, ReadonlyMap<string, CvoFunctionImpl>>();

/** The target's CVO functions by name, formulas compiled once per target. */
export function cvoFunctions(t: Target): ReadonlyMap<string, CvoFunctionImpl> {
  let m = compiled.get(t);
  if (!m) {
    m = new Map(
      t.file.isa.cvo_functions.map((c) => [
        c.name,
        { name: c.name, operands: c.operands, formula: compileFormula(c.formula, `CVO ${c.name}`) },
      ]),
    );
    compiled.set(t, m);
  }
  return m;
}

/** Exact-mode intents: the functions a compiler means when it emits an approximating CVO. */
const INTENTS: Readonly<Record<string, (x: number) => number>> = {
  gelu: (x) => activate("gelu", x),
  gelu_tanh: (x) => activate("gelu_tanh", x),
  silu: (x) => activate("silu", x),
  sigmoid: (x) => activate("sigmoid", x),
  tanh: Math.tanh,
  relu: (x) => Math.max(0, x),
  exp: Math.exp,
  sqrt: Math.sqrt,
  recip: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  square: (x) => x * x,
};

export const CVO_INTENTS: readonly string[] = Object.keys(INTENTS);

function unaryFn(s: SimState, fn: CvoFunctionImpl, ctx: StepCtx): Fn {
  if (s.numeric.exactSfu && ctx.intent !== undefined) {
    const f = INTENTS[ctx.intent];
    if (!f) {
      throw fault(
        "bad-instr",
        `CVO ${fn.name}: unknown intent "${ctx.intent}" (known: ${CVO_INTENTS.join(", ")})`,
      );
    }
    return (env) => f(env[envIndex.x]!);
  }
  return fn.formula.outputs[0]!;
}

export function execCvo(s: SimState, instr: CvoInstr, ctx: StepCtx): void {
  const f = instr.fields;
  const name = String(f.cvo_func);
  const fn = cvoFunctions(s.target).get(name);
  if (!fn) throw fault("bad-instr", `CVO cvo_func ${name} is not a function of target ${s.target.file.name}`);
  const len = f.length;
  const max = s.target.file.l2.cvo_max_length_elements;
  if (len > max) throw fault("shape", `CVO ${name} length = ${len} exceeds the SFU's ${max} elements`);
  const { sub_emax: subEmax, recip_scale: recip, accm } = f.flags;
  if (recip && fn.operands !== "scalar_first") {
    throw fault("shape", `CVO ${name}: recip_scale applies only to scalar_first functions (SCALE)`);
  }
  if (subEmax && fn.operands !== "unary")
    throw fault("shape", `CVO ${name}: sub_emax applies only to unary functions`);
  if (subEmax && !s.emaxSet) {
    throw fault("bad-instr", `CVO ${name} sub_emax: no findemax GEMV/GEMM has produced e_max yet`);
  }
  if (len === 0) return;
  const l2 = s.l2;
  const epw = l2.epw;
  const what = `CVO ${name} ${ctx.label}`;
  const env = new Float64Array(envIndex.c + 1);
  const data = l2.data;
  let out: Float64Array;
  let dstLen = len;
  let readsDst = accm === 1;
  switch (fn.operands) {
    case "unary": {
      const src = l2.vector("cvo", "src_addr", f.src_addr, len);
      s.hazards.checkRead("l2", src.w0, src.w1, what);
      const g = unaryFn(s, fn, ctx);
      const sub = subEmax ? s.emax : 0;
      out = new Float64Array(len);
      for (let i = 0; i < len; i++) {
        env[envIndex.x] = data[src.el + i]! - sub;
        out[i] = g(env);
      }
      break;
    }
    case "reduce": {
      const src = l2.vector("cvo", "src_addr", f.src_addr, len);
      s.hazards.checkRead("l2", src.w0, src.w1, what);
      out = Float64Array.of(reduce(fn.formula.reduce ?? "sum", data, src.el, len, !s.numeric.exactSfu));
      dstLen = 1;
      break;
    }
    case "scalar_first": {
      const src = l2.vector("cvo", "src_addr", f.src_addr, epw + len);
      s.hazards.checkRead("l2", src.w0, src.w1, what);
      const g = fn.formula.outputs[0]!;
      const sc = data[src.el]!;
      env[envIndex.s] = recip ? 1 / sc : sc;
      out = new Float64Array(len);
      for (let i = 0; i < len; i++) {
        env[envIndex.x] = data[src.el + epw + i]!;
        out[i] = recip ? data[src.el + epw + i]! / sc : g(env);
      }
      break;
    }
    case "binary_dst": {
      const src = l2.vector("cvo", "src_addr", f.src_addr, len);
      const dst = l2.vector("cvo", "dst_addr", f.dst_addr, len);
      s.hazards.checkRead("l2", src.w0, src.w1, what);
      s.hazards.checkRead("l2", dst.w0, dst.w1, what);
      const g = fn.formula.outputs[0]!;
      out = new Float64Array(len);
      for (let i = 0; i < len; i++) {
        env[envIndex.a] = data[src.el + i]!;
        env[envIndex.b] = data[dst.el + i]!;
        env[envIndex.x] = env[envIndex.a]!;
        out[i] = g(env);
      }
      readsDst = true;
      break;
    }
    case "rope_pairs":
      out = rope(s, fn, f.src_addr, len, what, env);
      break;
  }
  const dst = l2.vector("cvo", "dst_addr", f.dst_addr, dstLen);
  if (readsDst) s.hazards.checkRead("l2", dst.w0, dst.w1, what);
  s.hazards.checkWrite("l2", dst.w0, dst.w1, what);
  const store = s.numeric.store;
  for (let i = 0; i < dstLen; i++) {
    const v = Math.fround(out[i]!);
    data[dst.el + i] = store(accm ? Math.fround(data[dst.el + i]! + v) : v);
  }
  if (subEmax) s.emaxResetPending = true;
  if (f.async === 1 && s.target.file.control.async_supported) {
    s.hazards.add("l2", dst.w0, dst.w1, ctx.step, ctx.label, { kind: "npu" });
  }
}

function reduce(
  kind: "sum" | "max" | "min",
  data: Float32Array,
  el: number,
  len: number,
  f32: boolean,
): number {
  let acc = kind === "sum" ? 0 : data[el]!;
  for (let i = 0; i < len; i++) {
    const x = data[el + i]!;
    if (kind === "sum") acc = f32 ? Math.fround(acc + x) : acc + x;
    else acc = kind === "max" ? Math.max(acc, x) : Math.min(acc, x);
  }
  return acc;
}

/** x[length] at src, then word-aligned cos[length/2] and sin[length/2]; rotate_half pairs (j, j + length/2). */
function rope(
  s: SimState,
  fn: CvoFunctionImpl,
  srcAddr: number,
  len: number,
  what: string,
  env: Float64Array,
) {
  if (len % 2 !== 0) throw fault("shape", `CVO ${fn.name} length = ${len}: RoPE pairs need an even length`);
  const l2 = s.l2;
  const half = len / 2;
  const span = (l2.words(len) + 2 * l2.words(half)) * l2.epw;
  const src = l2.vector("cvo", "src_addr", srcAddr, span);
  s.hazards.checkRead("l2", src.w0, src.w1, what);
  const [o1, o2] = fn.formula.outputs;
  if (!o1 || !o2) throw fault("shape", `CVO ${fn.name}: a rope_pairs formula needs two outputs`);
  const data = l2.data;
  const cos = src.el + l2.words(len) * l2.epw;
  const sin = cos + l2.words(half) * l2.epw;
  const out = new Float64Array(len);
  for (let j = 0; j < half; j++) {
    env[envIndex.x1] = data[src.el + j]!;
    env[envIndex.x2] = data[src.el + j + half]!;
    env[envIndex.c] = data[cos + j]!;
    env[envIndex.s] = data[sin + j]!;
    out[j] = o1(env);
    out[j + half] = o2(env);
  }
  return out;
}
