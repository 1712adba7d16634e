/**
 * A `transpose` transform on a tensor stored [out, in] (DeepSeek MLA reads kv_b_proj's [in, out]
 * view): segment validation bounds the tile by the transposed matrix, and the image writer's tile
 * equals quantizing the transposed matrix's slice (folded norms then scale the tile's rows), read
 * in bands of the stored tensor however small the band budget.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import type { WeightManifest } from "../../../src/layout/image/manifest.js";
import { writeWeightImage } from "../../../src/layout/image/writer.js";
import { finalizeLayout } from "../../../src/layout/plan/finalize.js";
import { foldableNorms } from "../../../src/layout/plan/fold.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import { tileBytes } from "../../../src/layout/plan/sizes.js";
import { simpleTiling } from "../../../src/layout/plan/tiling.js";
import type { LayoutPlan, StreamSegment, TensorPolicy } from "../../../src/layout/types.js";
import type { ModelGraph } from "../../../src/resolver/graph/index.js";
import { loadTarget } from "../../../src/target/index.js";
import { gpt2Graph, llamaGraph, moeGraph } from "../plan/graphs.js";
import { tempDir, writeCheckpoint } from "./checkpoint.js";
import { expectedTile, type FloatRows, segmentValues } from "./expected.js";

const target = loadTarget("kv260-v002");
const graph = llamaGraph({
  hidden: 96,
  inter: 160,
  layers: 1,
  heads: 4,
  kvHeads: 2,
  headDim: 24,
  vocab: 300,
  tied: false,
});

/** Transposed tiles of `p` ([in, out] view) appended after `segs` on the first GEMV port. */
function transposedTiles(
  plan: LayoutPlan,
  segs: readonly StreamSegment[],
  p: TensorPolicy,
  tiles: readonly { r: number; n: number; c: number; k: number; step?: number }[],
): StreamSegment[] {
  const port = plan.machine!.gemvPorts[0]!;
  let offset = Math.max(0, ...segs.filter((s) => s.port === port).map((s) => s.offset + s.bytes));
  const base = segs.find((s) => s.tensor === p.tensor)!;
  return tiles.map((t, i) => {
    const bytes = tileBytes({ rows: t.n, cols: t.k, order: 0, group: p.group, scaleDtype: p.scaleDtype });
    const s: StreamSegment = {
      ...base,
      id: `${p.tensor}ᵀ#${i}`,
      port: port as StreamSegment["port"],
      offset,
      bytes,
      rows: { start: t.r, count: t.n },
      cols: { start: t.c, count: t.k },
      ...(t.step ? { rowStep: t.step } : {}),
      transforms: [...base.transforms, { kind: "transpose" }],
    };
    offset += bytes;
    return s;
  });
}

/** The expected [n, k] values of a transposed tile: stored[c][r] × (offset + norm[r]) per fold. */
async function transposedValues(s: StreamSegment, read: FloatRows): Promise<Float32Array> {
  const t = await read(s.tensor);
  const step = s.rowStep ?? 1;
  const out = new Float32Array(s.rows.count * s.cols.count);
  for (let i = 0; i < s.rows.count; i++) {
    const r = s.rows.start + i * step;
    let f = 1;
    for (const x of s.transforms)
      if (x.kind === "scale_cols") f = Math.fround(f * Math.fround(x.offset + (await read(x.by)).data[r]!));
    for (let c = 0; c < s.cols.count; c++) {
      const v = t.data[(s.cols.start + c) * t.k + r]!;
      out[i * s.cols.count + c] = f === 1 ? v : Math.fround(v * f);
    }
  }
  return out;
}

interface Built {
  readonly plan: LayoutPlan;
  readonly segments: readonly StreamSegment[];
  readonly manifest: WeightManifest;
  tile(id: string): { s: WeightManifest["segments"][number]; bytes: Uint8Array };
  readonly read: FloatRows;
}

async function buildImage(
  g: ModelGraph,
  dtype: "BF16" | "F32",
  bandBytes: number,
  extra: (plan: LayoutPlan, segs: StreamSegment[]) => StreamSegment[],
  folded: boolean,
  check: (r: Built) => Promise<void>,
): Promise<void> {
  const plan = planLayout(g, target, folded ? { folded: new Set(foldableNorms(g).map((c) => c.norm)) } : {});
  const base = simpleTiling(plan, { rows: 48, cols: 40 });
  const segments = [...base, ...extra(plan, base)];
  const ck = await writeCheckpoint(g, { dtype, seed: 11 });
  const out = tempDir();
  try {
    const wp = finalizeLayout(plan, segments);
    const { manifest } = await writeWeightImage(wp, segments, ck.index, out.dir, {
      threads: 2,
      jobElements: 400,
      bandBytes,
    });
    const image = readFileSync(join(out.dir, "weights.bin"));
    const read: FloatRows = async (name) => {
      const r = ck.index.rows(name);
      return { data: await ck.index.readRows(name, 0, r.rows), rows: r.rows, k: r.cols };
    };
    const tile = (id: string) => {
      const s = manifest.segments.find((x) => x.id === id)!;
      return { s, bytes: image.subarray(s.fileOffset, s.fileOffset + s.bytes) };
    };
    await check({ plan, segments, manifest, tile, read });
  } finally {
    await ck.cleanup();
    out.cleanup();
  }
}

const policyOf = (plan: LayoutPlan, suffix: string) =>
  plan.tensors.find((p) => p.placement === "stream" && p.tensor.endsWith(suffix))!;

describe("writeWeightImage: transpose of a tensor stored [out, in]", () => {
  for (const [dtype, bandBytes] of [
    ["BF16", 8 << 20],
    ["BF16", 300],
    ["F32", 500],
  ] as const) {
    it(`tile bytes equal quantizing the transposed slice (${dtype}, band ${bandBytes} B)`, async () => {
      const extra = (plan: LayoutPlan, segs: StreamSegment[]) =>
        // o_proj is [96, 96]; its [in, out] view tiled unevenly, one with a row step.
        transposedTiles(plan, segs, policyOf(plan, "0.self_attn.o_proj.weight"), [
          { r: 0, n: 96, c: 0, k: 32 },
          { r: 5, n: 40, c: 33, k: 63 },
          { r: 1, n: 30, c: 64, k: 32, step: 3 },
        ]);
      await buildImage(graph, dtype, bandBytes, extra, false, async (r) => {
        const ids = r.segments.filter((s) => s.id.includes("ᵀ")).map((s) => s.id);
        expect(ids.length).toBe(3);
        for (const id of ids) {
          const { s, bytes } = r.tile(id);
          const want = expectedTile(s, await transposedValues(s, r.read));
          expect(Buffer.from(bytes).equals(Buffer.from(want)), id).toBe(true);
        }
        // The untransposed tiles of the same tensor are unchanged by the extra reads.
        for (const s of r.manifest.segments.filter(
          (x) => x.tensor.endsWith("o_proj.weight") && !x.id.includes("ᵀ"),
        )) {
          const p = policyOf(r.plan, "o_proj.weight");
          const want = expectedTile(s, await segmentValues(s, { rows: p.rows!, cols: p.cols! }, r.read));
          expect(Buffer.from(r.tile(s.id).bytes).equals(Buffer.from(want)), s.id).toBe(true);
        }
      });
    });
  }

  it("a non-square tensor: rows index the stored columns; a folded norm scales the tile's rows", async () => {
    await buildImage(
      graph,
      "BF16",
      400,
      (plan, segs) => {
        const p = policyOf(plan, "0.mlp.up_proj.weight"); // stored [160, 96], input norm folded
        expect([p.rows, p.cols]).toEqual([160, 96]);
        return transposedTiles(plan, segs, p, [
          { r: 0, n: 96, c: 0, k: 64 },
          { r: 10, n: 50, c: 100, k: 60 },
        ]);
      },
      true,
      async (r) => {
        const tiles = r.segments.filter((s) => s.id.includes("ᵀ"));
        expect(tiles.length).toBe(2);
        expect(tiles.every((s) => s.transforms.some((t) => t.kind === "scale_cols"))).toBe(true);
        for (const t of tiles) {
          const { s, bytes } = r.tile(t.id);
          const want = expectedTile(s, await transposedValues(s, r.read));
          expect(Buffer.from(bytes).equals(Buffer.from(want)), t.id).toBe(true);
        }
      },
    );
  });

  it("Conv1D-style [in, out] storage still reads the logical matrix, with a tiny band", async () => {
    const g = gpt2Graph({ hidden: 64, layers: 1, vocab: 50, positions: 20 });
    await buildImage(
      g,
      "F32",
      200,
      () => [],
      false,
      async (r) => {
        const tiles = r.manifest.segments.filter((s) => s.transforms.some((t) => t.kind === "transpose"));
        expect(tiles.length).toBeGreaterThan(0);
        for (const s of tiles) {
          const p = r.plan.tensors.find((x) => x.tensor === s.tensor && x.placement === "stream")!;
          expect(p.transposed).toBe(true);
          const want = expectedTile(s, await segmentValues(s, { rows: p.rows!, cols: p.cols! }, r.read));
          expect(Buffer.from(r.tile(s.id).bytes).equals(Buffer.from(want)), s.id).toBe(true);
        }
      },
    );
  });
});

describe("finalizeLayout: transpose checks", () => {
  const plan = planLayout(graph, target);
  const segs = simpleTiling(plan, { rows: 48, cols: 40 });
  const up = policyOf(plan, "0.mlp.up_proj.weight");
  const caught = (f: () => unknown): PccxError => {
    try {
      f();
    } catch (e) {
      if (e instanceof PccxError) return e;
      throw e;
    }
    throw new Error("no error");
  };

  it("bounds a transposed tile by the transposed matrix", () => {
    // [in, out] view of up_proj is [96, 160]: column 150 exists, row 100 does not.
    const ok = transposedTiles(plan, segs, up, [{ r: 0, n: 96, c: 120, k: 40 }]);
    expect(finalizeLayout(plan, [...segs, ...ok]).segments.length).toBe(segs.length + 1);
    for (const t of [
      { r: 0, n: 97, c: 0, k: 32 },
      { r: 0, n: 32, c: 150, k: 11 },
    ]) {
      const e = caught(() => finalizeLayout(plan, [...segs, ...transposedTiles(plan, segs, up, [t])]));
      expect([e.code, e.exitCode, e.message.includes("leave the [96, 160] matrix")]).toEqual([
        "layout/segment",
        ExitCode.INTERNAL,
        true,
      ]);
    }
  });

  it("still requires the transpose on [in, out] storage, and rejects it on stacked experts", () => {
    const g2 = gpt2Graph({ hidden: 64, layers: 1, vocab: 50, positions: 20 });
    const p2 = planLayout(g2, target);
    const s2 = simpleTiling(p2, { rows: 48, cols: 40 }).map((s) =>
      s.transforms.some((t) => t.kind === "transpose") ? { ...s, transforms: [] } : s,
    );
    expect(caught(() => finalizeLayout(p2, s2)).message).toContain("a transpose transform is missing");

    const moe = moeGraph({ hidden: 64, inter: 32, experts: 4, topK: 2, vocab: 50 });
    const p3 = planLayout(moe, target);
    const s3 = simpleTiling(p3, { rows: 32, cols: 32 });
    const stacked = p3.tensors.find(
      (p) => p.placement === "stream" && p.experts !== undefined && !p.transposed,
    );
    if (stacked) {
      const bad = s3.map((s) =>
        s.tensor === stacked.tensor
          ? {
              ...s,
              transforms: [...s.transforms, { kind: "transpose" as const }],
              rows: s.cols,
              cols: s.rows,
            }
          : s,
      );
      expect(caught(() => finalizeLayout(p3, bad)).message).toContain("needs a 2-D tensor");
    } else {
      console.warn("transpose.test: the MoE fixture has no untransposed stacked tensor; case skipped");
    }
  });
});
