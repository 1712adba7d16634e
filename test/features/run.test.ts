import { describe, expect, it } from "vitest";
import {
  BUILTIN_FEATURES,
  type FeaturePlugin,
  prepareConfig,
  runFeatures,
} from "../../src/features/index.js";
import { resolve } from "../../src/resolver/index.js";
import { BASE, catchPccx, example } from "./helpers.js";

const parsed = example("meta-llama__Llama-3.2-1B");
const graph = resolve(parsed).graph;

const plugin = (over: Partial<FeaturePlugin>): FeaturePlugin => ({
  id: "probe",
  summary: "test plugin",
  keys: [],
  detect: () => true,
  apply: (g, _p, _t, ctx) => ({
    graph: g,
    entries: [
      ctx.entry({
        key: "",
        paths: [],
        value: 1,
        detail: "d",
        verdict: { kind: "lowered", how: "h" },
        ops: [g.ops[0]!.id],
      }),
    ],
  }),
  ...over,
});

describe("runFeatures", () => {
  it("runs plugins in order, each seeing the previous one's graph, and records the ones that ran", () => {
    const seen: number[] = [];
    const a = plugin({
      id: "a",
      apply: (g) => ({ graph: { ...g, meta: { ...g.meta, notes: ["a was here"] } }, entries: [] }),
    });
    const b = plugin({
      id: "b",
      apply: (g) => {
        seen.push(g.meta.notes?.length ?? 0);
        return { graph: g, entries: [] };
      },
    });
    const off = plugin({ id: "off", detect: () => false });
    const r = runFeatures(graph, parsed, BASE, [a, off, b]);
    expect(seen).toEqual([1]);
    expect(r.graph.meta.notes).toEqual(["a was here"]);
    expect(r.ledger.features).toEqual(["a", "b"]);
  });

  it("the built-in set never changes a graph that needs no rewrite", () => {
    expect(runFeatures(graph, parsed, BASE, BUILTIN_FEATURES).graph).toBe(graph);
  });

  it.each([
    [
      "an entry pointing at a missing op",
      plugin({
        apply: (g, _p, _t, ctx) => ({
          graph: g,
          entries: [
            ctx.entry({
              key: "",
              paths: [],
              value: 0,
              detail: "",
              verdict: { kind: "lowered", how: "" },
              ops: ["op999999"],
            }),
          ],
        }),
      }),
      'points at op "op999999"',
    ],
    [
      "a malformed entry",
      plugin({ apply: (g) => ({ graph: g, entries: [{ feature: "probe" } as never] }) }),
      "entry 0 is malformed",
    ],
    [
      "an entry for another feature",
      plugin({
        apply: (g, _p, _t, ctx) => ({
          graph: g,
          entries: [
            {
              ...ctx.entry({
                key: "",
                paths: [],
                value: 0,
                detail: "",
                verdict: { kind: "ignored", reason: "" },
                ops: [],
              }),
              feature: "other",
            },
          ],
        }),
      }),
      'names feature "other"',
    ],
    ["no graph", plugin({ apply: () => ({}) as never }), "did not return { graph, entries }"],
    [
      "an invalid rewrite",
      plugin({ apply: (g) => ({ graph: { ...g, ops: g.ops.slice(1) }, entries: [] }) }),
      "invalid graph",
    ],
    [
      "a crash",
      plugin({
        apply: () => {
          throw new TypeError("boom");
        },
      }),
      "threw boom",
    ],
  ])("a plugin bug is reported with the plugin's id (exit 70): %s", (_name, p, text) => {
    const err = catchPccx(() => runFeatures(graph, parsed, BASE, [p]));
    expect(err.code).toBe("features/plugin-bug");
    expect(err.exitCode).toBe(70);
    expect(err.message).toContain('feature plugin "probe"');
    expect([err.message, ...err.notes].join("\n")).toContain(text);
  });

  it("two plugins with one id are a usage error", () => {
    const err = catchPccx(() => runFeatures(graph, parsed, BASE, [plugin({}), plugin({})]));
    expect(err.code).toBe("features/duplicate-plugin");
    expect(err.exitCode).toBe(1);
  });

  it("prepareConfig chains config rewrites and never mutates its input", () => {
    const before = JSON.stringify(parsed.text);
    const bump = (d: number): FeaturePlugin =>
      plugin({
        id: `bump${d}`,
        prepare: (p) => ({
          ...p,
          text: { ...p.text, max_position_embeddings: p.text.max_position_embeddings + d },
        }),
      });
    const out = prepareConfig(parsed, [bump(1), plugin({ id: "none", prepare: () => undefined }), bump(10)]);
    expect(out.text.max_position_embeddings).toBe(parsed.text.max_position_embeddings + 11);
    expect(JSON.stringify(parsed.text)).toBe(before);
    expect(prepareConfig(parsed)).toBe(parsed);
  });
});
