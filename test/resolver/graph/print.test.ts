import { describe, expect, it } from "vitest";
import { graphFromJson, graphToJson, printGraph } from "../../../src/resolver/graph/index.js";
import { ALL_FIXTURES, gemmaNGraph, gpt2Graph, llamaGraph, mlaGraph } from "./fixtures.js";

describe("printGraph", () => {
  it("lists the Llama block (snapshot)", () => {
    expect(printGraph(llamaGraph())).toMatchSnapshot();
  });

  it("lists MLA and GPT-2 blocks (snapshot)", () => {
    expect(printGraph(mlaGraph())).toMatchSnapshot();
    expect(printGraph(gpt2Graph())).toMatchSnapshot();
  });

  it("groups ops under embed, each layer and head, one line per op", () => {
    const g = gemmaNGraph();
    const lines = printGraph(g).trimEnd().split("\n");
    const headers = lines.filter((l) => /^\S.*:$/.test(l));
    expect(headers).toEqual(["embed:", "layer 0:", "layer 1:", "layer 2:", "layer 3:", "head:"]);
    expect(lines.filter((l) => l.startsWith("  %"))).toHaveLength(g.ops.length);
    expect(printGraph(g)).toContain("kv=shared(L0)");
    expect(printGraph(g)).toContain("mask=sliding(3)");
  });

  it.each(Object.keys(ALL_FIXTURES))("does not depend on how the %s graph objects were built", (name) => {
    const g = ALL_FIXTURES[name]!();
    expect(printGraph(graphFromJson(graphToJson(g)))).toBe(printGraph(g));
  });
});
