import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileFormula, unaryFormula } from "../../src/features/index.js";
import { listBuiltinTargets, loadTarget } from "../../src/target/index.js";

describe("CVO formula evaluator", () => {
  it("evaluates the target formulas as written", () => {
    const f = unaryFormula("x*sigmoid(1.702*x)")!;
    expect(f(2)).toBeCloseTo(2 / (1 + Math.exp(-3.404)), 15);
    expect(unaryFormula("tanh(x)")!(0.5)).toBe(Math.tanh(0.5));
    expect(unaryFormula("x*x")!(-3)).toBe(9);
    expect(unaryFormula("-x^2")!(3)).toBe(-9);
    expect(unaryFormula("1/x")!(4)).toBe(0.25);
    expect(compileFormula("max(a,b)")!({ a: 1, b: 5 })).toBe(5);
    expect(compileFormula("(x1*c-x2*s)")!({ x1: 2, c: 3, x2: 1, s: 4 })).toBe(2);
  });

  it("refuses what it cannot evaluate", () => {
    for (const s of ["sum(x)", "gelu_lut(x)", "x*", "", "x y", "2**x", "(x"])
      expect(unaryFormula(s), s).toBeUndefined();
    expect(unaryFormula(undefined)).toBeUndefined();
  });

  it("every unary formula of the built-in targets that names only known functions evaluates", () => {
    for (const name of listBuiltinTargets())
      for (const f of loadTarget(name).file.isa.cvo_functions)
        if (f.operands === "unary") expect(unaryFormula(f.formula), `${name} ${f.name}`).toBeDefined();
  });

  it("agrees with JavaScript on random affine and product expressions", () => {
    const real = fc.double({ min: -100, max: 100, noNaN: true });
    fc.assert(
      fc.property(real, real, real, (a, b, x) => {
        const f = unaryFormula(`${a}*x+(${b})-x*x/4`)!;
        expect(f(x)).toBeCloseTo(a * x + b - (x * x) / 4, 6);
      }),
      { numRuns: 200 },
    );
  });
});
