import { describe, expect, it } from "vitest";
import { isPccxError } from "../../../src/diag/index.js";
import { GraphBuilder, verifyGraph } from "../../../src/resolver/graph/index.js";

const meta = { modelType: "t", plugin: "test", numLayers: 2, hiddenSize: 8, vocabSize: 4 };

function start() {
  const g = new GraphBuilder(meta);
  const emb = g.weight({
    name: "model.embed_tokens.weight",
    shape: [4, 8],
    dtype: "BF16",
    role: "embedding",
    keys: ["vocab_size"],
  });
  return { g, emb, x: g.embedding(g.tokens, emb, undefined, { name: "embed" }) };
}

function errorCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isPccxError(e) ? `${e.code}:${e.exitCode}` : `raw:${String(e)}`;
  }
  return undefined;
}

describe("GraphBuilder", () => {
  it("assigns op ids in order, prefixes value names with the layer and keeps them unique", () => {
    const { g, emb, x } = start();
    const [a, b] = g.inLayer(1, () => [g.scale(x, 2, { name: "h" }), g.scale(x, 3, { name: "h" })]);
    expect([a, b]).toEqual(["L1.h", "L1.h#2"]);
    const logits = g.linear(g.add(a!, b!), g.tie(emb, "lm_head"));
    const graph = g.finish(logits);
    expect(graph.ops.map((o) => o.id)).toEqual(["op0", "op1", "op2", "op3", "op4"]);
    expect(graph.ops.map((o) => o.layer)).toEqual([undefined, 1, 1, undefined, undefined]);
    expect(graph.values.find((v) => v.id === logits)?.shape).toEqual(["T", 4]);
    expect(graph.values[0]).toEqual({ id: "tokens", shape: ["T"], dtype: "int" });
  });

  it("records config keys in scope and per op, and the layer of weights", () => {
    const { g, x } = start();
    const w = g.inLayer(0, () =>
      g.withKeys(["hidden_size"], () => {
        const w = g.weight({
          name: "model.layers.0.mlp.up_proj.weight",
          shape: [4, 8],
          dtype: "BF16",
          role: "mlp_up",
          keys: ["intermediate_size"],
        });
        g.linear(x, w, undefined, { keys: ["mlp_bias"] });
        return w;
      }),
    );
    const graph = g.finish(
      g.linear(
        g.inLayer(0, () => g.slice(x, 0, 4)),
        g.weight({ name: "head", shape: [4, 4], dtype: "BF16", role: "lm_head" }),
      ),
      { verify: false },
    );
    const decl = graph.weights.find((d) => d.id === w)!;
    expect(decl.layer).toBe(0);
    expect(decl.keys).toEqual(["hidden_size", "intermediate_size"]);
    expect(graph.ops[1]!.keys).toEqual(["hidden_size", "mlp_bias"]);
    expect(graph.ops[2]!.keys).toEqual([]);
  });

  it("infers multi-output ops (moe_route → int indices and float weights)", () => {
    const { g, x } = start();
    const logits = g.linear(x, g.weight({ name: "router", shape: [4, 8], dtype: "BF16", role: "router" }));
    const [idx, w] = g.emit("moe_route", {
      logits,
      numExperts: 4,
      topK: 2,
      scoring: "softmax",
      normalize: true,
      routedScale: 1,
    });
    const graph = g.finish(logits, { verify: false });
    const decl = (id: string) => graph.values.find((v) => v.id === id);
    expect(decl(idx!)).toEqual({ id: "experts", shape: ["T", 2], dtype: "int" });
    expect(decl(w!)).toEqual({ id: "expert_weights", shape: ["T", 2], dtype: "float" });
  });

  it("fails fast, as an internal error, on plugin bugs", () => {
    const { g, x } = start();
    const w = g.weight({ name: "w", shape: [4, 6], dtype: "BF16", role: "mlp_up" });
    expect(errorCode(() => g.linear(x, w))).toBe("graph/shape-mismatch:70");
    expect(errorCode(() => g.linear("nope", "model.embed_tokens.weight"))).toBe("graph/undefined-value:70");
    expect(errorCode(() => g.linear(x, "missing"))).toBe("graph/missing-weight:70");
    expect(errorCode(() => g.weight({ name: "w", shape: [1], dtype: "BF16", role: "norm" }))).toBe(
      "graph/duplicate-weight:70",
    );
    expect(errorCode(() => g.rmsNorm(x, { eps: 1e-6, groupSize: 3 }))).toBe("graph/shape-mismatch:70");
    expect(
      errorCode(() =>
        g.attention({
          q: x,
          kv: { source: "shared", layer: 0 },
          heads: 2,
          kvHeads: 1,
          headDim: 4,
          vHeadDim: 4,
          scale: 1,
          mask: { kind: "causal" },
        }),
      ),
    ).toBe("graph/bad-attribute:70"); // no layer: attention ops need their cache slot
  });

  it("finish() verifies: an unread weight is a bug unless marked unused", () => {
    const { g, emb, x } = start();
    g.weight({ name: "model.rotary_emb.inv_freq", shape: [4], dtype: "F32", role: "other" });
    const head = g.tie(emb, "lm_head");
    const logits = g.linear(x, head);
    expect(errorCode(() => g.finish(logits))).toBe("graph/invalid:70");
    const unverified = g.finish(logits, { verify: false });
    expect(verifyGraph(unverified).map((d) => d.code)).toEqual(["graph/unused-weight"]);

    const ok = start();
    ok.g.weight({
      name: "model.rotary_emb.inv_freq",
      shape: [4],
      dtype: "F32",
      role: "other",
      unused: "recomputed from rope_theta",
    });
    expect(verifyGraph(ok.g.finish(ok.g.linear(ok.x, ok.g.tie(ok.emb, "lm_head"))))).toEqual([]);
  });

  it("ties declare the same stored tensor under another role", () => {
    const { g, emb } = start();
    const id = g.tie(emb, "lm_head", ["tie_word_embeddings"]);
    expect(id).toBe("model.embed_tokens.weight@lm_head");
    expect(errorCode(() => g.tie("nope", "lm_head"))).toBe("graph/missing-weight:70");
    expect(GraphBuilder.mask(null)).toEqual({ kind: "causal" });
    expect(GraphBuilder.mask(512)).toEqual({ kind: "sliding", window: 512 });
  });
});
