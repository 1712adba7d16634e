import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeWeightImage } from "../../../src/layout/image/writer.js";
import { finalizeLayout } from "../../../src/layout/plan/finalize.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import { simpleTiling } from "../../../src/layout/plan/tiling.js";
import { dequantMxfp4Rows, quantizeF32Rows } from "../../../src/layout/quant/index.js";
import type { ModelGraph } from "../../../src/resolver/graph/index.js";
import { loadTarget } from "../../../src/target/index.js";
import { llamaGraph, moeGraph } from "../plan/graphs.js";
import { type Checkpoint, type CheckpointOptions, tempDir, writeCheckpoint } from "./checkpoint.js";
import { expectedTile, type FloatRows, schemeOf, segmentValues } from "./expected.js";

const target = loadTarget("kv260-v002");

/** Float values as the parser (not the layout code) dequantizes them. */
function reader(ck: Checkpoint): FloatRows {
  return async (name) => {
    const ix = ck.index;
    if (!ix.has(name) && ix.has(`${name}_blocks`)) {
      const blocks = await ix.readBytes(`${name}_blocks`);
      const scales = await ix.readBytes(`${name}_scales`);
      const sh = ix.get(`${name}_blocks`)!.shape;
      const k = sh[sh.length - 2]! * 32;
      const data = dequantMxfp4Rows({ blocks, scales, k });
      return { data, rows: data.length / k, k };
    }
    const g = ix.rows(name);
    return { data: await ix.readRowsDequant(name, 0, g.rows, [128, 128]), rows: g.rows, k: g.cols };
  };
}

async function run(
  graph: ModelGraph,
  o: CheckpointOptions,
  tile: { rows: number; cols: number },
  expectSource: string,
  tensor: string,
) {
  const ck = await writeCheckpoint(graph, o);
  const out = tempDir();
  try {
    const plan = planLayout(graph, target);
    const segments = simpleTiling(plan, tile);
    const wp = finalizeLayout(plan, segments);
    const { manifest } = await writeWeightImage(wp, segments, ck.index, out.dir, {
      threads: 2,
      jobElements: 4096,
    });
    const image = readFileSync(join(out.dir, "weights.bin"));
    const read = reader(ck);
    let errSq = 0;
    let count = 0;
    for (const s of manifest.segments.filter((x) => x.tensor === tensor)) {
      const p = plan.tensors.find((x) => x.tensor === s.tensor && x.placement === "stream")!;
      const values = await segmentValues(s, { rows: p.rows!, cols: p.cols! }, read);
      const got = image.subarray(s.fileOffset, s.fileOffset + s.bytes);
      expect(got.equals(Buffer.from(expectedTile(s, values))), s.id).toBe(true);
      errSq += quantizeF32Rows(values, s.cols.count, schemeOf(s.group, s.scaleDtype)).stats.sumErrSq.value();
      count += values.length;
    }
    const q = manifest.quantization.find((x) => x.tensor === tensor)!;
    expect(q.source).toBe(expectSource);
    expect(q.error["count"]).toBe(count);
    // The error is measured against the dequantized source values.
    expect(q.error["rmse"]).toBeCloseTo(Math.sqrt(errSq / count), 12);
  } finally {
    await ck.cleanup();
    out.cleanup();
  }
}

describe("pre-quantized checkpoints are dequantized and requantized", () => {
  const dense = llamaGraph({
    hidden: 160,
    inter: 192,
    layers: 1,
    heads: 4,
    kvHeads: 2,
    headDim: 40,
    vocab: 64,
  });
  const fp8 = new Set(["model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.down_proj.weight"]);

  it("FP8 block-scaled (DeepSeek-V3 style), column tiles cutting the 128×128 blocks", async () => {
    await run(
      dense,
      { fp8 },
      { rows: 64, cols: 48 },
      "F8_E4M3 block-scaled",
      "model.layers.0.mlp.down_proj.weight",
    );
  });

  it("FP8 block-scaled, whole-row tiles dequantized on the workers", async () => {
    await run(
      dense,
      { fp8 },
      { rows: 100, cols: 4096 },
      "F8_E4M3 block-scaled",
      "model.layers.0.self_attn.q_proj.weight",
    );
  });

  const moe = moeGraph({ hidden: 64, inter: 96, experts: 4, topK: 2, vocab: 64 });
  const mx = new Set(["model.layers.0.mlp.experts.gate_proj", "model.layers.0.mlp.experts.down_proj"]);

  it("MXFP4 stacked experts (gpt-oss style), 32-aligned column tiles", async () => {
    await run(moe, { mxfp4: mx }, { rows: 40, cols: 32 }, "MXFP4", "model.layers.0.mlp.experts.down_proj");
  });

  it("MXFP4 with column tiles that split a 32-block (dequantized before slicing)", async () => {
    await run(moe, { mxfp4: mx }, { rows: 40, cols: 48 }, "MXFP4", "model.layers.0.mlp.experts.gate_proj");
  });
});

describe("dequant transforms from codegen", () => {
  it("are checked against the checkpoint's format", async () => {
    const g = moeGraph({ hidden: 64, inter: 96, experts: 2, topK: 1, vocab: 64 });
    const name = "model.layers.0.mlp.experts.gate_proj";
    const plan = planLayout(g, target);
    const mark = (from: "mxfp4" | "fp8_block") =>
      simpleTiling(plan, { rows: 48, cols: 64 }).map((s) =>
        s.tensor === name
          ? {
              ...s,
              transforms: [...s.transforms, { kind: "dequant" as const, from, scales: `${name}_scales` }],
            }
          : s,
      );
    const ok = await writeCheckpoint(g, { mxfp4: new Set([name]) });
    const bf16 = await writeCheckpoint(g);
    const out = tempDir();
    try {
      const good = mark("mxfp4");
      await writeWeightImage(finalizeLayout(plan, good), good, ok.index, out.dir, { threads: 0 });
      const bad = mark("mxfp4");
      await expect(
        writeWeightImage(finalizeLayout(plan, bad), bad, bf16.index, out.dir, { threads: 0 }),
      ).rejects.toMatchObject({
        code: "layout/source-format",
        exitCode: 2,
        message: `tensor ${name}: the program expects mxfp4 weights but the checkpoint stores BF16`,
      });
    } finally {
      await ok.cleanup();
      await bf16.cleanup();
      out.cleanup();
    }
  });
});
