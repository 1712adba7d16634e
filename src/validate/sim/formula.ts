/**
 * CVO formulas as data: the target writes each SFU function as a small expression
 * (`x*sigmoid(1.702*x)`, `max(a,b)`, `(x1*c-x2*s, x2*c+x1*s)`, `sum(x)`), and the simulator compiles
 * it once into closures, so a what-if target's new function runs without simulator code.
 *
 * Grammar: expr = "(" sum ("," sum)+ ")" | sum; sum = prod (("+"|"-") prod)*; prod = unary
 * (("*"|"/") unary)*; unary = "-" unary | atom; atom = number | name | name "(" sum ("," sum)* ")"
 * | "(" sum ")". Variables: x (the element), a/b (binary: src, dst), s (scale), x1/x2/c (RoPE pair
 * and its cos; s is its sin). Functions: exp, log, sqrt, sigmoid, tanh, sin, cos, abs, max, min.
 * A reduction is written as sum(x), max(x) or min(x) over the whole vector.
 */
import { unsupported } from "../../diag/index.js";

export const FORMULA_VARS = ["x", "a", "b", "s", "x1", "x2", "c"] as const;
export type FormulaVar = (typeof FORMULA_VARS)[number];
/** Evaluation environment: FORMULA_VARS values by index. */
export type Env = Float64Array;
export type Fn = (env: Env) => number;

export const envIndex: Readonly<Record<FormulaVar, number>> = Object.fromEntries(
  FORMULA_VARS.map((v, i) => [v, i]),
) as Record<FormulaVar, number>;

export interface CompiledFormula {
  readonly text: string;
  /** One closure per output element (two for a RoPE pair). */
  readonly outputs: readonly Fn[];
  /** For sum(x)/max(x)/min(x): the reduction over the vector. */
  readonly reduce?: "sum" | "max" | "min";
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const FUNCS: Readonly<Record<string, (...a: number[]) => number>> = {
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  sigmoid,
  tanh: Math.tanh,
  sin: Math.sin,
  cos: Math.cos,
  abs: Math.abs,
  max: Math.max,
  min: Math.min,
};
const REDUCTIONS = new Set(["sum", "max", "min"]);

type Tok = { kind: "num"; v: number } | { kind: "name"; v: string } | { kind: "op"; v: string };

function tokenize(text: string, fail: (m: string) => never): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/(),]))/y;
  let i = 0;
  while (i < text.length) {
    if (/^\s*$/.test(text.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) fail(`unexpected character "${text.slice(i).trim()[0]}" at offset ${i}`);
    if (m[1] !== undefined) out.push({ kind: "num", v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ kind: "name", v: m[2] });
    else out.push({ kind: "op", v: m[3]! });
    i = re.lastIndex;
  }
  return out;
}

/** Compile a target formula. Throws `sim/cvo-formula` (exit 3) for text it cannot read. */
export function compileFormula(text: string, what: string): CompiledFormula {
  const fail = (m: string): never => {
    throw unsupported("sim/cvo-formula", `${what}: formula "${text}": ${m}`, {
      fix: `write the formula with ${FORMULA_VARS.join(", ")}, numbers, + - * / and ${Object.keys(FUNCS).join(", ")}`,
    });
  };
  const toks = tokenize(text, fail);
  let p = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => peek()?.kind === "op" && peek()!.v === v;
  const expect = (v: string) => {
    if (!isOp(v)) fail(`expected "${v}"`);
    p++;
  };

  const red = /^\s*(sum|max|min)\s*\(\s*x\s*\)\s*$/.exec(text);
  if (red) return { text, outputs: [], reduce: red[1] as "sum" | "max" | "min" };

  const atom = (): Fn => {
    const t = toks[p++];
    if (!t) return fail("unexpected end");
    if (t.kind === "num") {
      const v = t.v;
      return () => v;
    }
    if (t.kind === "op") {
      if (t.v !== "(") return fail(`unexpected "${t.v}"`);
      const e = sum();
      expect(")");
      return e;
    }
    if (isOp("(")) {
      p++;
      const f = FUNCS[t.v];
      if (!f)
        return fail(
          REDUCTIONS.has(t.v)
            ? `${t.v}() is a reduction: write ${t.v}(x) alone`
            : `unknown function "${t.v}"`,
        );
      const args = [sum()];
      while (isOp(",")) {
        p++;
        args.push(sum());
      }
      expect(")");
      if (args.length === 1) {
        const [a0] = args as [Fn];
        return (env) => f(a0(env));
      }
      if (args.length === 2) {
        const [a0, a1] = args as [Fn, Fn];
        return (env) => f(a0(env), a1(env));
      }
      return (env) => f(...args.map((a) => a(env)));
    }
    const idx = envIndex[t.v as FormulaVar];
    if (idx === undefined) return fail(`unknown variable "${t.v}"`);
    return (env) => env[idx]!;
  };
  const unary = (): Fn => {
    if (isOp("-")) {
      p++;
      const u = unary();
      return (env) => -u(env);
    }
    return atom();
  };
  const prod = (): Fn => {
    let l = unary();
    while (isOp("*") || isOp("/")) {
      const op = toks[p++]!.v;
      const a = l;
      const b = unary();
      l = op === "*" ? (env) => a(env) * b(env) : (env) => a(env) / b(env);
    }
    return l;
  };
  function sum(): Fn {
    let l = prod();
    while (isOp("+") || isOp("-")) {
      const op = toks[p++]!.v;
      const a = l;
      const b = prod();
      l = op === "+" ? (env) => a(env) + b(env) : (env) => a(env) - b(env);
    }
    return l;
  }

  let outputs: Fn[];
  // A top-level tuple: "(e1, e2)".
  if (isOp("(") && toks.some((t) => t.kind === "op" && t.v === ",")) {
    const save = p;
    p++;
    const first = sum();
    if (isOp(",")) {
      outputs = [first];
      while (isOp(",")) {
        p++;
        outputs.push(sum());
      }
      expect(")");
    } else {
      p = save;
      outputs = [sum()];
    }
  } else outputs = [sum()];
  if (p !== toks.length) fail(`unexpected "${(toks[p] as Tok).v}" after the expression`);
  return { text, outputs };
}
