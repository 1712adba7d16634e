import { describe, expect, it } from "vitest";
import { type ModelGraph, verifyGraph } from "../../../src/resolver/graph/index.js";
import { ALL_FIXTURES, gemmaNGraph, llamaGraph, moeGraph } from "./fixtures.js";

/** A mutable deep copy to break on purpose. */
// biome-ignore lint/suspicious/noExplicitAny: tests edit arbitrary fields of the plain-JSON graph
type Loose = any;
const copy = (g: ModelGraph): Loose => structuredClone(g);
const codes = (g: Loose) => verifyGraph(g as ModelGraph).map((d) => `${d.code} @ ${d.at?.jsonPath}`);
const opIndex = (g: Loose, pred: (op: Loose) => boolean) => g.ops.findIndex(pred);

describe("verifyGraph", () => {
  it.each(Object.keys(ALL_FIXTURES))("accepts the %s fixture", (name) => {
    expect(verifyGraph(ALL_FIXTURES[name]!())).toEqual([]);
  });

  it("catches a read of an undefined value", () => {
    const g = copy(llamaGraph());
    const i = opIndex(g, (o) => o.kind === "linear" && o.layer === 0);
    g.ops[i].input = "L0.nope";
    expect(codes(g)).toContain(`graph/undefined-value @ ops[${i}].input`);
  });

  it("catches a use before the definition (ops out of order)", () => {
    const g = copy(llamaGraph());
    const i = opIndex(g, (o) => o.kind === "rope");
    const producer = opIndex(g, (o) => o.outputs.includes(g.ops[i].input));
    const [rope] = g.ops.splice(i, 1);
    g.ops.splice(producer, 0, rope); // the rope now runs before the linear that defines its input
    expect(codes(g)).toContain(`graph/undefined-value @ ops[${producer}].input`);
  });

  it("catches a shape mismatch between a value and the op that reads it", () => {
    const g = copy(llamaGraph());
    // Feed the 8-wide k projection to the 16-wide MLP input.
    const i = opIndex(
      g,
      (o) => o.kind === "linear" && o.weight.weight.endsWith("mlp.gate_proj.weight") && o.layer === 0,
    );
    g.ops[i].input = "L0.k";
    const d = verifyGraph(g).find((x) => x.at?.jsonPath === `ops[${i}].input`);
    expect(d?.code).toBe("graph/shape-mismatch");
    expect(d?.message).toContain(
      'input has width 8, matrix "model.layers.0.mlp.gate_proj.weight" expects 16',
    );
  });

  it("catches a declared output shape that differs from what the op yields", () => {
    const g = copy(llamaGraph());
    const v = g.values.find((x: Loose) => x.id === "L0.q");
    v.shape = ["T", 15];
    expect(codes(g).some((c) => c.startsWith("graph/shape-mismatch @ ops["))).toBe(true);
  });

  it("catches a missing weight", () => {
    const g = copy(llamaGraph());
    g.weights = g.weights.filter((w: Loose) => w.name !== "model.layers.1.self_attn.o_proj.weight");
    const i = opIndex(
      g,
      (o) => o.kind === "linear" && o.weight.weight === "model.layers.1.self_attn.o_proj.weight",
    );
    expect(codes(g)).toContain(`graph/missing-weight @ ops[${i}].weight.weight`);
  });

  it("catches a weight whose shape does not fit the op", () => {
    const g = copy(llamaGraph());
    g.weights.find((w: Loose) => w.name === "model.layers.0.input_layernorm.weight").shape = [12];
    g.weights.find((w: Loose) => w.name === "model.layers.1.mlp.down_proj.weight").shape = [16, 23];
    const found = codes(g);
    expect(found.filter((c) => c.startsWith("graph/weight-shape"))).toHaveLength(1); // the norm weight
    expect(found.filter((c) => c.startsWith("graph/shape-mismatch"))).toHaveLength(1); // down_proj input 24 ≠ 23
  });

  it("catches expert tensors of the wrong shape and a wrong expert count", () => {
    const g = copy(moeGraph());
    g.weights.find((w: Loose) => w.name === "model.layers.1.mlp.experts.5.up_proj.weight").shape = [13, 16];
    const i = opIndex(g, (o) => o.kind === "moe_experts" && o.layer === 0);
    g.ops[i].gate.weights.pop();
    const found = codes(g);
    expect(found).toContain(`graph/bad-attribute @ ops[${i}].gate`);
    expect(found.some((c) => /graph\/weight-shape @ ops\[\d+\]\.up/.test(c))).toBe(true);
  });

  it("catches an attention op that reads a cache nobody writes", () => {
    const g = copy(gemmaNGraph());
    const i = opIndex(g, (o) => o.kind === "attention" && o.layer === 3);
    expect(g.ops[i].kv).toEqual({ source: "shared", layer: 1 });
    g.ops[i].kv.layer = 2; // layer 2 itself reads a shared cache
    expect(codes(g)).toContain(`graph/kv-source @ ops[${i}].kv.layer`);
  });

  it("catches two ops appending to the same cache", () => {
    const g = copy(llamaGraph());
    const i = opIndex(g, (o) => o.kind === "attention" && o.layer === 1);
    g.ops[i].layer = 0;
    expect(codes(g)).toContain(`graph/kv-duplicate @ ops[${i}].layer`);
  });

  it("catches bad attributes", () => {
    const g = copy(llamaGraph());
    const a = opIndex(g, (o) => o.kind === "attention");
    g.ops[a].kvHeads = 3;
    const s = opIndex(g, (o) => o.kind === "rope");
    g.ops[s].rotaryDim = 5;
    const found = codes(g);
    expect(found).toContain(`graph/bad-attribute @ ops[${a}].kvHeads`);
    expect(found).toContain(`graph/bad-attribute @ ops[${s}].rotaryDim`);
  });

  it("catches unused weights, redefinitions, orphan values and bad ties", () => {
    const g = copy(gemmaNGraph());
    g.weights.push({ id: "extra", name: "extra", shape: [2], dtype: "BF16", role: "norm", keys: [] });
    g.weights.push({
      id: "quiet",
      name: "quiet",
      shape: [2],
      dtype: "BF16",
      role: "norm",
      keys: [],
      unused: "vision tower",
    });
    g.values.push({ id: "orphan", shape: ["T", 2], dtype: "float" });
    const tie = g.weights.find((w: Loose) => w.tiedTo !== undefined);
    tie.shape = [16, 32];
    const i = opIndex(g, (o) => o.kind === "scale");
    g.ops[i + 1].outputs = [g.ops[i].outputs[0]];
    const found = codes(g);
    expect(found).toContain(`graph/unused-weight @ weights[${g.weights.length - 2}]`);
    expect(found.some((c) => c.includes(`weights[${g.weights.length - 1}]`))).toBe(false);
    expect(found).toContain(`graph/orphan-value @ values[${g.values.length - 1}]`);
    expect(found.some((c) => c.startsWith("graph/bad-tie"))).toBe(true);
    expect(found).toContain(`graph/redefined-value @ ops[${i + 1}].outputs[0]`);
  });

  it("checks the logits width against the vocabulary", () => {
    const g = copy(llamaGraph());
    g.meta.vocabSize = 33;
    expect(codes(g)).toContain("graph/logits @ logits");
  });
});
