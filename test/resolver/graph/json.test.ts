import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPccxError } from "../../../src/diag/index.js";
import {
  GRAPH_SCHEMA_VERSION,
  GraphBuilder,
  graphFromJson,
  graphFromJsonText,
  graphJsonSchema,
  graphToJson,
  verifyGraph,
} from "../../../src/resolver/graph/index.js";
import { canonicalJson, prettyJson } from "../../../src/util/json.js";
import { ALL_FIXTURES, llamaGraph } from "./fixtures.js";

function failure(
  f: () => unknown,
): { code: string; exit: number; path?: string; message: string } | undefined {
  try {
    f();
  } catch (e) {
    if (isPccxError(e))
      return {
        code: e.code,
        exit: e.exitCode,
        message: e.message,
        ...(e.at?.jsonPath ? { path: e.at.jsonPath } : {}),
      };
    throw e;
  }
  return undefined;
}

describe("graph JSON", () => {
  it.each(Object.keys(ALL_FIXTURES))("round-trips the %s fixture through JSON text", (name) => {
    const g = ALL_FIXTURES[name]!();
    const text = prettyJson(graphToJson(g));
    const back = graphFromJsonText(text, "graph.json");
    expect(back).toEqual(g);
    expect(prettyJson(graphToJson(back))).toBe(text);
    expect(verifyGraph(back)).toEqual([]);
  });

  it("is deterministic and schema-versioned, with sorted keys", () => {
    const a = prettyJson(graphToJson(llamaGraph()));
    const b = prettyJson(graphToJson(llamaGraph()));
    expect(a).toBe(b);
    const j = graphToJson(llamaGraph());
    expect(j.format).toBe("pccxc-model-graph");
    expect(j.version).toBe(GRAPH_SCHEMA_VERSION);
    expect(Object.keys(j)).toEqual([...Object.keys(j)].sort());
    expect(Object.keys(j.ops[0]!)).toEqual([...Object.keys(j.ops[0]!)].sort());
    // Sorted at every level: the pretty form already is the canonical form.
    expect(JSON.stringify(JSON.parse(a))).toBe(canonicalJson(j));
  });

  it("refuses other schema versions as unsupported (exit 3)", () => {
    const j = { ...graphToJson(llamaGraph()), version: 2 };
    expect(failure(() => graphFromJson(j))).toMatchObject({
      code: "graph/schema-version",
      exit: 3,
      path: "version",
    });
  });

  it("refuses files that are not graphs, and bad JSON, as invalid input (exit 2)", () => {
    expect(failure(() => graphFromJson({ format: "something-else" }))).toMatchObject({
      code: "graph/json-format",
      exit: 2,
    });
    expect(failure(() => graphFromJson([1, 2]))).toMatchObject({ code: "graph/json-format", exit: 2 });
    expect(failure(() => graphFromJsonText("{ nope", "g.json"))).toMatchObject({
      code: "graph/json-syntax",
      exit: 2,
    });
  });

  it("points at the offending field of a malformed op", () => {
    const j = structuredClone(graphToJson(llamaGraph())) as { ops: Record<string, unknown>[] };
    const i = j.ops.findIndex((o) => o.kind === "rms_norm");
    j.ops[i]!.eps = "small";
    const f = failure(() => graphFromJson(j));
    expect(f).toMatchObject({ code: "graph/json-invalid", exit: 2, path: `ops[${i}].eps` });
    // Unknown fields are errors too (strict objects catch typos such as "window" on a causal mask).
    const k = structuredClone(graphToJson(llamaGraph())) as { ops: Record<string, unknown>[] };
    const a = k.ops.findIndex((o) => o.kind === "attention");
    k.ops[a]!.mask = { kind: "causal", window: 4 };
    expect(failure(() => graphFromJson(k))?.path).toBe(`ops[${a}].mask`);
    // An unknown op kind.
    k.ops[0]!.kind = "conv2d";
    expect(failure(() => graphFromJson(k))?.path).toBe("ops[0].kind");
  });

  it("exports a JSON Schema", () => {
    const s = graphJsonSchema() as { $schema?: string; properties?: Record<string, unknown> };
    expect(s.$schema).toContain("json-schema.org");
    expect(Object.keys(s.properties ?? {})).toEqual(
      expect.arrayContaining(["format", "version", "ops", "weights"]),
    );
  });

  it("round-trips arbitrary names, notes and attribute values (property)", () => {
    const name = fc.string({ minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(
        name,
        name,
        fc.array(fc.string(), { maxLength: 3 }),
        fc.double({ min: 1e-12, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 4 }),
        (wName, vName, notes, eps, k) => {
          const g = new GraphBuilder({
            modelType: "p",
            plugin: "p",
            numLayers: 1,
            hiddenSize: 4,
            vocabSize: 4,
            notes,
          });
          const emb = g.weight({ name: wName, shape: [4, 4], dtype: "F32", role: "embedding" });
          const x = g.inLayer(0, () =>
            g.rmsNorm(
              g.embedding(g.tokens, emb, eps),
              { eps, groupSize: 4 / (k === 3 ? 1 : k) },
              { name: vName },
            ),
          );
          const graph = g.finish(g.linear(x, g.tie(emb, "lm_head")));
          const back = graphFromJsonText(JSON.stringify(graphToJson(graph)));
          expect(back).toEqual(graph);
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });
});
