import { describe, expect, it } from "vitest";
import { isPccxError } from "../../../src/diag/index.js";
import { GraphBuilder, type ModelGraph } from "../../../src/resolver/graph/index.js";
import { GoldenModel, golden, MemoryWeights, rowSourceReader } from "../../../src/validate/golden/index.js";
import { gpt2Graph, gptOssGraph, randomWeights } from "../../resolver/graph/fixtures.js";

const t = (shape: number[], data: number[]) => ({ shape, data: Float64Array.from(data) });

/** embedding ×2 → per-pair RMSNorm → slice one feature → broadcast mul → scalar weight → linear. */
function microGraph(): ModelGraph {
  const g = new GraphBuilder({
    modelType: "micro",
    plugin: "test",
    numLayers: 0,
    hiddenSize: 4,
    vocabSize: 3,
  });
  const x = g.embedding(
    g.tokens,
    g.weight({ name: "emb", shape: [3, 4], dtype: "F32", role: "embedding" }),
    2,
  );
  const n = g.rmsNorm(x, { eps: 0, groupSize: 2 });
  const s = g.slice(n, 1, 1);
  const m = g.mul(x, s);
  const mw = g.mulWeight(m, g.weight({ name: "half", shape: [1], dtype: "F32", role: "scale" }));
  return g.finish(g.linear(mw, g.weight({ name: "head", shape: [3, 4], dtype: "F32", role: "lm_head" })));
}

const microWeights = new MemoryWeights({
  emb: t([3, 4], [0, 0, 0, 0, 1, 2, 3, 4, 1, 1, 1, 1]),
  half: t([1], [0.5]),
  head: t([3, 4], [1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1]),
});

describe("the executor on a hand-computed micro graph", () => {
  it("computes each op as documented", async () => {
    // token 1: x = 2·(1, 2, 3, 4) = (2, 4, 6, 8); per-pair RMSNorm: (2, 4)/√10, (6, 8)/√50;
    // slice feature 1 → s = 4/√10; m = x·s; ·0.5 → (4, 8, 12, 16)/√10;
    // logits = (row e0, row e1, row of ones) · m = (4, 8, 40)/√10.
    const model = await GoldenModel.load(microGraph(), microWeights);
    const out = model.session().forward([1]);
    const r10 = Math.sqrt(10);
    for (const [i, v] of [4 / r10, 8 / r10, 40 / r10].entries()) expect(out.data[i]).toBeCloseTo(v, 14);
  });

  it("advances positions across calls and rejects bad token ids", async () => {
    const model = await GoldenModel.load(microGraph(), microWeights);
    const s = model.session();
    s.forward([1, 2]);
    expect(s.position).toBe(2);
    s.forward([0]);
    expect(s.position).toBe(3);
    try {
      s.forward([3]);
      expect.unreachable();
    } catch (e) {
      expect(isPccxError(e) && e.code).toBe("golden/token-range");
    }
  });

  it("greedy generation returns the prefill rows, the step logits and argmax tokens", async () => {
    const run = await golden(microGraph(), microWeights, [1, 2], 3);
    expect(run.prefill).toHaveLength(2);
    // Token 2: x = (2, 2, 2, 2), pair norms (1, 1, 1, 1), s = 1, m = x, ·0.5 → (1, 1, 1, 1) →
    // logits (1, 1, 4): token 2 again, at every step.
    expect(run.tokens).toEqual([2, 2, 2]);
    expect(run.steps[0]).toEqual(run.prefill[1]);
    expect(Array.from(run.steps[1]!)).toEqual([1, 1, 4]);
    expect(Array.from(run.steps[2]!)).toEqual([1, 1, 4]);
  });

  it("refuses learned positions beyond the table", async () => {
    const g = gpt2Graph(); // 16 learned positions
    const s = (await GoldenModel.load(g, randomWeights(g))).session();
    s.forward(Array.from({ length: 16 }, (_, i) => i % 32));
    expect(() => s.forward([1])).toThrow(/beyond the 16 learned positions/);
  });
});

describe("weight readers", () => {
  it("reports a missing tensor and a shape mismatch as invalid input", async () => {
    const codes: string[] = [];
    for (const w of [
      new MemoryWeights({ emb: t([3, 4], Array(12).fill(0)), half: t([1], [1]) }),
      new MemoryWeights({
        emb: t([4, 3], Array(12).fill(0)),
        half: t([1], [1]),
        head: t([3, 4], Array(12).fill(0)),
      }),
    ]) {
      try {
        await GoldenModel.load(microGraph(), w);
      } catch (e) {
        if (isPccxError(e)) codes.push(`${e.code}:${e.exitCode}`);
      }
    }
    expect(codes).toEqual(["golden/missing-weight:2", "golden/weight-shape:2"]);
  });

  it("reads whole tensors through a row source", async () => {
    const data: Record<string, { shape: number[]; data: number[] }> = {
      emb: { shape: [3, 4], data: [0, 0, 0, 0, 1, 2, 3, 4, 1, 1, 1, 1] },
      half: { shape: [1], data: [0.5] },
      head: { shape: [3, 4], data: [1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1] },
    };
    const calls: string[] = [];
    const reader = rowSourceReader({
      shapeOf: (n) => data[n]?.shape,
      readRows: async (n, start, count) => {
        calls.push(`${n}:${start}+${count}`);
        const d = data[n]!;
        const cols = d.shape.length > 1 ? d.shape[1]! : d.shape[0]!;
        return Float32Array.from(d.data.slice(start * cols, (start + count) * cols));
      },
    });
    const out = (await GoldenModel.load(microGraph(), reader)).session().forward([1]);
    expect(out.data[2]).toBeCloseTo(40 / Math.sqrt(10), 6);
    expect(calls.sort()).toEqual(["emb:0+3", "half:0+1", "head:0+3"]);
  });
  it("reads stacked 3-D expert tensors row by row like the safetensors index", async () => {
    // gpt-oss fixture: [E, H, 2I] tensors are E·H rows of 2I for the parser.
    const g = gptOssGraph();
    const mem = randomWeights(g, 3);
    const f32 = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    for (const w of g.weights)
      if (!w.tiedTo)
        f32.set(w.name, { shape: w.shape, data: Float32Array.from((await mem.get(w.name)).data) });
    const reader = rowSourceReader({
      shapeOf: (n) => f32.get(n)?.shape,
      readRows: async (n, start, count) => {
        const t = f32.get(n)!;
        const cols = t.shape[t.shape.length - 1]!;
        expect(start + count).toBeLessThanOrEqual(t.data.length / cols);
        return t.data.slice(start * cols, (start + count) * cols);
      },
    });
    const viaRows = (await GoldenModel.load(g, reader)).session().forward([1, 2, 3]);
    const direct = (await GoldenModel.load(g, new MemoryWeights([...f32]))).session().forward([1, 2, 3]);
    expect(Array.from(viaRows.data)).toEqual(Array.from(direct.data));
  });
});
