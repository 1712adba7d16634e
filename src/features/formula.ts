/**
 * A tiny evaluator for the element formulas of a target's CVO functions ("x*sigmoid(1.702*x)",
 * "tanh(x)", …), so that approximation errors are measured against what the target file says the
 * hardware computes, never against a constant copied into code. Grammar: numbers, variables,
 * + - * / ^, parentheses, unary minus and the functions below. Anything else is not evaluable.
 */

export type Formula = (vars: Readonly<Record<string, number>>) => number;

const FUNCS: Readonly<Record<string, (...a: number[]) => number>> = {
  exp: Math.exp,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  sin: Math.sin,
  cos: Math.cos,
  abs: Math.abs,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  max: Math.max,
  min: Math.min,
};

type Tok = { t: "num"; v: number } | { t: "id"; v: string } | { t: "op"; v: string };

function tokenize(src: string): Tok[] | undefined {
  const out: Tok[] = [];
  const re = /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/^(),]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) return undefined;
    if (m[1] !== undefined) out.push({ t: "num", v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ t: "id", v: m[2] });
    else out.push({ t: "op", v: m[3]! });
    i = re.lastIndex;
  }
  return out;
}

/** Compiles a formula; undefined when it uses anything outside the grammar (e.g. "sum(x)"). */
export function compileFormula(src: string): Formula | undefined {
  const toks = tokenize(src);
  if (!toks || toks.length === 0) return undefined;
  let p = 0;
  const peek = (v: string) => toks[p]?.t === "op" && toks[p]?.v === v;
  const fail = (): never => {
    throw new SyntaxError(src);
  };
  const expect = (v: string) => (peek(v) ? p++ : fail());
  const expr = (): Formula => {
    let f = term();
    while (peek("+") || peek("-")) {
      const op = toks[p++]!.v;
      const [l, r] = [f, term()];
      f = op === "+" ? (e) => l(e) + r(e) : (e) => l(e) - r(e);
    }
    return f;
  };
  const term = (): Formula => {
    let f = unary();
    while (peek("*") || peek("/")) {
      const op = toks[p++]!.v;
      const [l, r] = [f, unary()];
      f = op === "*" ? (e) => l(e) * r(e) : (e) => l(e) / r(e);
    }
    return f;
  };
  const unary = (): Formula => {
    if (peek("-")) {
      p++;
      const f = unary();
      return (e) => -f(e);
    }
    const base = primary();
    if (!peek("^")) return base;
    p++;
    const ex = unary();
    return (e) => base(e) ** ex(e);
  };
  const primary = (): Formula => {
    const tok = toks[p++] ?? fail();
    if (tok.t === "num") return () => tok.v;
    if (tok.t === "op") {
      if (tok.v !== "(") fail();
      const f = expr();
      expect(")");
      return f;
    }
    if (!peek("(")) {
      const name = tok.v;
      return (e) => {
        const v = e[name];
        if (v === undefined) throw new ReferenceError(name);
        return v;
      };
    }
    const fn = FUNCS[tok.v] ?? fail();
    p++;
    const args: Formula[] = [expr()];
    while (peek(",")) {
      p++;
      args.push(expr());
    }
    expect(")");
    return (e) => fn(...args.map((a) => a(e)));
  };
  try {
    const f = expr();
    if (p !== toks.length) return undefined;
    return f;
  } catch {
    return undefined;
  }
}

/** A unary formula in `x` as a plain function, or undefined when it is not evaluable. */
export function unaryFormula(src: string | undefined): ((x: number) => number) | undefined {
  if (src === undefined) return undefined;
  const f = compileFormula(src);
  if (!f) return undefined;
  try {
    if (!Number.isFinite(f({ x: 0.5 }))) return undefined;
  } catch {
    return undefined;
  }
  return (x) => f({ x });
}
