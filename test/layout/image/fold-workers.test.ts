/**
 * Folded norms are applied on the quantization workers (QuantTask.colScale / rowScale): the image
 * must hold exactly what a reference computes in this test on the main thread (scale in float32,
 * then quantize with the quant core), for any thread count, job size and band size.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeWeightImage } from "../../../src/layout/image/writer.js";
import { finalizeLayout } from "../../../src/layout/plan/finalize.js";
import { foldableNorms } from "../../../src/layout/plan/fold.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import { simpleTiling } from "../../../src/layout/plan/tiling.js";
import { QuantPool } from "../../../src/layout/quant/index.js";
import type { StreamSegment, WeightPlan } from "../../../src/layout/types.js";
import { loadTarget } from "../../../src/target/index.js";
import { llamaGraph } from "../plan/graphs.js";
import { type Checkpoint, tempDir, writeCheckpoint } from "./checkpoint.js";
import { expectedTable, expectedTile, type FloatRows, segmentValues } from "./expected.js";

const target = loadTarget("kv260-v002");
// Gemma-style (1 + w) norms, a tied head whose final norm folds into the LM head tiles.
const graph = llamaGraph({
  hidden: 128,
  inter: 192,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 32,
  vocab: 96,
  tied: true,
  normOffset: 1,
});

for (const dtype of ["BF16", "F32"] as const) {
  describe(`writeWeightImage with every norm folded, scaled on the workers (${dtype})`, () => {
    let ck: Checkpoint;
    let wp: WeightPlan;
    let segments: StreamSegment[];
    const pool = new QuantPool(2);
    const outs: ReturnType<typeof tempDir>[] = [];
    const read: FloatRows = async (name) => {
      const g = ck.index.rows(name);
      return { data: await ck.index.readRows(name, 0, g.rows), rows: g.rows, k: g.cols };
    };
    const run = async (opts: Parameters<typeof writeWeightImage>[4]) => {
      const o = tempDir();
      outs.push(o);
      const r = await writeWeightImage(wp, segments, ck.index, o.dir, opts);
      return { ...r, image: new Uint8Array(readFileSync(join(o.dir, "weights.bin"))) };
    };

    beforeAll(async () => {
      ck = await writeCheckpoint(graph, { seed: 23, dtype });
      const folded = new Set(foldableNorms(graph).map((c) => c.norm));
      const plan = planLayout(graph, target, { folded, int4EmbeddingMinElements: 1000 });
      segments = simpleTiling(plan, { rows: 40, cols: 48 });
      wp = finalizeLayout(plan, segments);
    });
    afterAll(async () => {
      await pool.close();
      await ck.cleanup();
      for (const o of outs) o.cleanup();
    });

    it("holds the reference's folded tiles and the unscaled embedding table (shared pool, small jobs and bands)", async () => {
      const { manifest, image } = await run({ pool, jobElements: 500, bandBytes: 2048 });
      const folded = manifest.segments.filter((s) => s.transforms.some((t) => t.kind === "scale_cols"));
      // q/k/v and gate/up of both layers, and the LM head (final norm).
      expect(new Set(folded.map((s) => s.tensor.replace(/^model\.layers\.\d+\./, ""))).size).toBe(6);
      expect(folded.some((s) => s.tensor === "model.embed_tokens.weight")).toBe(true);
      for (const s of folded) {
        const p = wp.layout.tensors.find((x) => x.tensor === s.tensor && x.placement === "stream")!;
        const values = await segmentValues(s, { rows: p.rows!, cols: p.cols! }, read);
        const got = image.subarray(s.fileOffset, s.fileOffset + s.bytes);
        expect(Buffer.from(got).equals(Buffer.from(expectedTile(s, values))), s.id).toBe(true);
      }
      // The table serves token lookups: it must not carry the final norm.
      const emb = manifest.tensors.find((t) => t.role === "embedding")!;
      expect(emb.format).toBe("int4");
      const table = image.subarray(emb.fileOffset, emb.fileOffset + emb.bytes);
      expect(Buffer.from(table).equals(Buffer.from(expectedTable(emb, (await read(emb.tensor)).data)))).toBe(
        true,
      );
    });

    it("is byte-identical for 0, 1 and 2 threads and other blockings", async () => {
      const base = await run({ threads: 0 });
      for (const opts of [{ threads: 1 }, { threads: 2, jobElements: 700 }, { pool, bandBytes: 1 << 20 }]) {
        const r = await run(opts);
        expect(r.digest, JSON.stringify(opts)).toBe(base.digest);
        expect(Buffer.from(r.image).equals(Buffer.from(base.image))).toBe(true);
      }
    });
  });
}
