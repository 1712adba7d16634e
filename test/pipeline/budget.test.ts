import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExitCode, isPccxError } from "../../src/diag/index.js";
import { checkBudget, limitsFor, readBaselineFile, readBudgetFile } from "../../src/pipeline/budget.js";
import { tempDir } from "./helpers.js";

describe("budget limits", () => {
  const file = {
    defaults: { maxDdrBytes: 3_000_000_000 },
    models: {
      "*gemma*": { minDecodeTokS: 2, context: 4096 },
      "google__gemma-3n-E4B-it": { minDecodeTokS: 3 },
      "Qwen?Qwen3-0.6B": { maxL2PeakWords: 100 },
    },
  };

  it("applies the defaults, then every matching entry in file order (later wins)", () => {
    expect(limitsFor(file, ["google__gemma-3n-E4B-it"])).toEqual({
      maxDdrBytes: 3e9,
      minDecodeTokS: 3,
      context: 4096,
    });
    expect(limitsFor(file, ["google__gemma-2-2b-it"])).toEqual({
      maxDdrBytes: 3e9,
      minDecodeTokS: 2,
      context: 4096,
    });
    // "?" is exactly one character
    expect(limitsFor(file, ["Qwen__Qwen3-0.6B"])).toEqual({ maxDdrBytes: 3e9 });
    expect(limitsFor(file, ["x", "Qwen/Qwen3-0.6B"])).toEqual({ maxDdrBytes: 3e9, maxL2PeakWords: 100 });
    expect(limitsFor(undefined, ["any"])).toEqual({});
  });

  it("passes and fails each gate with the numbers in the reason", () => {
    const checks = checkBudget(
      { minDecodeTokS: 3, maxDdrBytes: 1000, maxL2PeakWords: 50, minPrefillTokS: 10 },
      { decodeTokS: 2.5, ddrBytes: 1000, l2PeakWords: 51 },
      undefined,
    );
    const byGate = Object.fromEntries(checks.map((c) => [c.gate, c]));
    expect(byGate.minDecodeTokS).toMatchObject({ ok: false, actual: 2.5, text: "decode tok/s 2.50 < 3" });
    expect(byGate.maxDdrBytes).toMatchObject({ ok: true, text: "DDR bytes 1000 ≤ 1000" });
    expect(byGate.maxL2PeakWords).toMatchObject({ ok: false, text: "L2 peak words 51 > 50" });
    // a figure that was not measured cannot pass its gate
    expect(byGate.minPrefillTokS).toMatchObject({
      ok: false,
      actual: null,
      text: "prefill tok/s not measured (gate ≥ 10)",
    });
  });

  it("measures the regression against the baseline, per rate", () => {
    const [decode, prefill] = checkBudget(
      { maxRegressionPct: 5 },
      { decodeTokS: 9, prefillTokS: 105 },
      { decodeTokS: 10, prefillTokS: 100 },
    );
    expect(decode).toMatchObject({ ok: false, actual: 10 });
    expect(decode!.text).toContain("−10.0 %");
    expect(prefill).toMatchObject({ ok: true, actual: -5 });
    // no baseline for the model: nothing to compare
    expect(checkBudget({ maxRegressionPct: 5 }, { decodeTokS: 1 }, undefined)).toEqual([]);
  });

  it("a regression gate passes exactly when the drop is within the limit", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (base, now, limit) => {
          const [c] = checkBudget({ maxRegressionPct: limit }, { decodeTokS: now }, { decodeTokS: base });
          return c!.ok === ((base - now) / base) * 100 <= limit;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("budget and baseline files", () => {
  it("reads a valid file and rejects unknown keys with the JSON path (exit 2)", async () => {
    const t = await tempDir();
    try {
      const good = join(t.dir, "good.json");
      await writeFile(
        good,
        JSON.stringify({ format: "pccxc-budget/1", models: { "*": { minDecodeTokS: 1 } } }),
      );
      expect((await readBudgetFile(good)).models["*"]).toEqual({ minDecodeTokS: 1 });
      const bad = join(t.dir, "bad.json");
      await writeFile(bad, JSON.stringify({ models: { "*": { minDecodeToks: 1 } } }));
      const e = await readBudgetFile(bad).catch((x: unknown) => x);
      expect(isPccxError(e) && e.exitCode).toBe(ExitCode.INVALID_INPUT);
      expect(isPccxError(e) && e.at?.jsonPath).toBe("$.models.*");
      const missing = await readBudgetFile(join(t.dir, "none.json")).catch((x: unknown) => x);
      expect(isPccxError(missing) && missing.exitCode).toBe(ExitCode.IO);
      const baseline = join(t.dir, "base.json");
      await writeFile(
        baseline,
        JSON.stringify({ format: "pccxc-baseline/1", target: "t@1", models: { a: { decodeTokS: 2 } } }),
      );
      expect((await readBaselineFile(baseline)).models.a).toEqual({ decodeTokS: 2 });
      await writeFile(baseline, "{not json");
      const e2 = await readBaselineFile(baseline).catch((x: unknown) => x);
      expect(isPccxError(e2) && e2.code).toBe("batch/bad-json");
    } finally {
      await t.cleanup();
    }
  });
});
