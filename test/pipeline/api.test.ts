import { describe, expect, it } from "vitest";
import * as api from "../../src/index.js";

describe("the public library API (src/index.ts)", () => {
  it("exports the pipeline, every stage's entry point, the schemas and the diagnostics", () => {
    const functions = [
      "compile",
      "plan",
      "batch",
      "openModel",
      "parseConfigText",
      "resolve",
      "runFeatures",
      "loadPlugins",
      "planLayout",
      "finalizeLayout",
      "writeWeightImage",
      "codegen",
      "verifyProgram",
      "writeProgramArtifacts",
      "readProgramJson",
      "generateDriver",
      "golden",
      "simulateGeneration",
      "compareToGolden",
      "runFunctional",
      "runTiming",
      "loadTarget",
      "targetJsonSchema",
      "programJsonSchema",
      "ledgerJsonSchema",
      "graphJsonSchema",
      "budgetJsonSchema",
      "formatDiagnostic",
    ] as const;
    for (const f of functions) expect(typeof (api as Record<string, unknown>)[f], f).toBe("function");
    expect(api.STAGES.map((s) => s.name)).toEqual([...api.STAGE_NAMES]);
    expect(api.STAGE_NAMES).toEqual([
      "parse",
      "resolve",
      "features",
      "layout",
      "codegen",
      "stubs",
      "validate",
    ]);
    expect(new api.PccxError("x/y", api.ExitCode.UNSUPPORTED, "m").exitCode).toBe(3);
  });

  it("publishes the budget file's JSON Schema, which accepts what the zod schema accepts", () => {
    const schema = api.budgetJsonSchema() as {
      properties: Record<string, unknown>;
      additionalProperties?: unknown;
    };
    expect(Object.keys(schema.properties).sort()).toEqual(["$schema", "defaults", "format", "models"]);
    expect(schema.additionalProperties).toBe(false);
    expect(api.BudgetFileSchema.safeParse({ models: { "*": { minDecodeTokS: 1 } } }).success).toBe(true);
    expect(api.BudgetFileSchema.safeParse({ models: { "*": { minDecodeTokS: -1 } } }).success).toBe(false);
  });
});
