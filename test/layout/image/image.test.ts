import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WeightManifest } from "../../../src/layout/image/manifest.js";
import { buildPieces } from "../../../src/layout/image/pieces.js";
import { writeWeightImage } from "../../../src/layout/image/writer.js";
import { finalizeLayout } from "../../../src/layout/plan/finalize.js";
import { foldableNorms } from "../../../src/layout/plan/fold.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import { tileBytes } from "../../../src/layout/plan/sizes.js";
import { simpleTiling } from "../../../src/layout/plan/tiling.js";
import { dequantizeInt4, quantizeF32Rows } from "../../../src/layout/quant/index.js";
import type { LayoutOptions, StreamSegment, WeightPlan } from "../../../src/layout/types.js";
import type { ModelGraph } from "../../../src/resolver/graph/index.js";
import { loadTarget } from "../../../src/target/index.js";
import { f32ToBf16 } from "../../../src/util/float.js";
import { sha256Hex } from "../../../src/util/hash.js";
import { gemmaNGraph, gptOssGraph } from "../../resolver/graph/fixtures.js";
import { gpt2Graph, llamaGraph } from "../plan/graphs.js";
import { type Checkpoint, tempDir, writeCheckpoint } from "./checkpoint.js";
import {
  decodeTile0,
  expectedTable,
  expectedTile,
  type FloatRows,
  schemeOf,
  segmentValues,
} from "./expected.js";

const target = loadTarget("kv260-v002");
const graph = llamaGraph({
  hidden: 96,
  inter: 160,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 24,
  vocab: 300,
  tied: true,
});

/** Some down_proj tiles become K-block-major (order 1) with group-32 scales. */
function withOrder1(segments: StreamSegment[]): StreamSegment[] {
  const used = new Map<string, number>();
  return segments.map((s) => {
    const order = s.tensor.endsWith("1.mlp.down_proj.weight") ? 1 : 0;
    const bytes = tileBytes({
      rows: s.rows.count,
      cols: s.cols.count,
      order,
      group: s.group,
      scaleDtype: s.scaleDtype,
    });
    const offset = used.get(s.port) ?? 0;
    used.set(s.port, offset + bytes);
    return { ...s, order, bytes, offset };
  });
}

describe("writeWeightImage on a small generated checkpoint", () => {
  let ck: Checkpoint;
  let out: ReturnType<typeof tempDir>;
  let wp: WeightPlan;
  let segments: StreamSegment[];
  let manifest: WeightManifest;
  let image: Uint8Array;
  const floats = new Map<string, { data: Float32Array; rows: number; k: number }>();
  const read: FloatRows = async (name) => {
    let t = floats.get(name);
    if (!t) {
      const g = ck.index.rows(name);
      t = { data: await ck.index.readRows(name, 0, g.rows), rows: g.rows, k: g.cols };
      floats.set(name, t);
    }
    return t;
  };

  beforeAll(async () => {
    ck = await writeCheckpoint(graph, { seed: 11 });
    out = tempDir();
    const folded = new Set(
      foldableNorms(graph)
        .map((c) => c.norm)
        .filter((n) => !n.includes("layers.1.input")),
    );
    const plan = planLayout(graph, target, {
      folded,
      int4EmbeddingMinElements: 1000,
      overrides: [{ match: "model.layers.1.mlp.down_proj.weight", group: 32 }],
    });
    segments = withOrder1(simpleTiling(plan, { rows: 64, cols: 48 }));
    wp = finalizeLayout(plan, segments);
    const r = await writeWeightImage(wp, segments, ck.index, out.dir, {
      threads: 0,
      jobElements: 1000,
      bandBytes: 4096,
    });
    manifest = r.manifest;
    image = new Uint8Array(readFileSync(join(out.dir, "weights.bin")));
  });
  afterAll(async () => {
    await ck.cleanup();
    out.cleanup();
  });

  it("lays weights.bin out as the plan says", () => {
    expect(image.length).toBe(wp.image.bytes);
    expect(manifest.segments.length).toBe(segments.length);
    expect(segments.some((s) => s.order === 1)).toBe(true);
    expect(segments.some((s) => s.cols.count % 32 !== 0)).toBe(true);
    expect(segments.some((s) => s.transforms.some((t) => t.kind === "scale_cols"))).toBe(true);
    const json = JSON.parse(readFileSync(join(out.dir, "weights.json"), "utf8"));
    expect(json.format).toBe("pccxc-weights");
    expect(json.digest).toBe(manifest.digest);
  });

  it("holds exactly the quant core's tiles (order 0 and 1, folded norms, beat padding)", async () => {
    for (const s of manifest.segments) {
      const p = wp.layout.tensors.find((x) => x.tensor === s.tensor && x.placement === "stream")!;
      const values = await segmentValues(s, { rows: p.rows!, cols: p.cols! }, read);
      const got = image.subarray(s.fileOffset, s.fileOffset + s.bytes);
      expect(Buffer.from(got).equals(Buffer.from(expectedTile(s, values))), s.id).toBe(true);
    }
  });

  it("dequantizes to the quant core's dequantization", async () => {
    const s = manifest.segments.find((x) => x.order === 0 && x.cols.count === 48)!;
    const p = wp.layout.tensors.find((x) => x.tensor === s.tensor && x.placement === "stream")!;
    const values = await segmentValues(s, { rows: p.rows!, cols: p.cols! }, read);
    const q = quantizeF32Rows(values, s.cols.count, schemeOf(s.group, s.scaleDtype));
    const want = dequantizeInt4(
      q.packed,
      q.scales,
      s.rows.count,
      s.cols.count,
      q.scales.length === s.rows.count ? "row" : 32,
    );
    const got = decodeTile0(image.subarray(s.fileOffset, s.fileOffset + s.bytes), s);
    expect([...got]).toEqual([...want]);
  });

  it("writes the INT4 embedding table and the BF16 vectors", async () => {
    const emb = manifest.tensors.find((t) => t.role === "embedding")!;
    expect(emb.format).toBe("int4");
    const v = await read(emb.tensor);
    const got = image.subarray(emb.fileOffset, emb.fileOffset + emb.bytes);
    expect(Buffer.from(got).equals(Buffer.from(expectedTable(emb, v.data)))).toBe(true);
    const norm = manifest.tensors.find((t) => t.tensor === "model.layers.1.input_layernorm.weight")!;
    expect(norm.placement).toBe("l2");
    const raw = await ck.index.readBytes(norm.tensor);
    expect(
      Buffer.from(image.subarray(norm.fileOffset, norm.fileOffset + raw.length)).equals(Buffer.from(raw)),
    ).toBe(true);
    expect(
      [...image.subarray(norm.fileOffset + raw.length, norm.fileOffset + norm.bytes)].every((b) => b === 0),
    ).toBe(true);
  });

  it("records a matching sha256 for every segment and tensor", () => {
    for (const s of manifest.segments) {
      expect(sha256Hex(image.subarray(s.fileOffset, s.fileOffset + s.bytes)), s.id).toBe(s.sha256);
    }
    for (const t of manifest.tensors) {
      expect(sha256Hex(image.subarray(t.fileOffset, t.fileOffset + t.bytes)), t.id).toBe(t.sha256);
    }
  });

  it("reports error statistics per INT4 tensor from QuantStats", async () => {
    const q = manifest.quantization.find((x) => x.tensor === "model.layers.0.self_attn.o_proj.weight")!;
    expect(q.source).toBe("BF16");
    expect(q.error["count"]).toBe(96 * 96);
    expect(q.error["cosine"]).toBeGreaterThan(0.98);
    expect(q.error["snrDb"]).toBeGreaterThan(15);
    // The same figure from the quant core on the tensor's tiles.
    const tiles = manifest.segments.filter((s) => s.tensor === q.tensor);
    let errSq = 0;
    for (const s of tiles) {
      const values = await segmentValues(s, { rows: 96, cols: 96 }, read);
      const z = quantizeF32Rows(values, s.cols.count, schemeOf(s.group, s.scaleDtype));
      errSq += z.stats.sumErrSq.value();
    }
    expect(q.error["rmse"]).toBeCloseTo(Math.sqrt(errSq / (96 * 96)), 12);
    const tied = manifest.quantization.filter((x) => x.tensor === "model.embed_tokens.weight");
    expect(tied.map((x) => x.role).sort()).toEqual(["embedding", "lm_head"]);
  });

  it("reads the checkpoint in bounded pieces, never a whole large tensor", async () => {
    const reads: { name: string; length: number }[] = [];
    const source = {
      get: (n: string) => ck.index.get(n),
      names: () => ck.index.names(),
      readBytes: (n: string, start?: number, length?: number) => {
        reads.push({ name: n, length: length ?? ck.index.get(n)!.byteLength - (start ?? 0) });
        return ck.index.readBytes(n, start, length);
      },
    };
    const o = tempDir();
    try {
      const r = await writeWeightImage(wp, segments, source, o.dir, {
        threads: 0,
        jobElements: 1000,
        bandBytes: 4096,
      });
      expect(r.digest).toBe(manifest.digest);
    } finally {
      o.cleanup();
    }
    const big = reads.filter((x) => ck.index.get(x.name)!.byteLength > 8192);
    expect(big.length).toBeGreaterThan(100);
    expect(Math.max(...big.map((x) => x.length))).toBeLessThanOrEqual(4096);
  });

  it("is byte-identical across runs and thread counts", async () => {
    for (const threads of [1, 2]) {
      const o = tempDir();
      try {
        const r = await writeWeightImage(wp, segments, ck.index, o.dir, { threads });
        expect(r.digest).toBe(manifest.digest);
        expect(Buffer.from(readFileSync(join(o.dir, "weights.bin"))).equals(Buffer.from(image))).toBe(true);
        expect(readFileSync(join(o.dir, "weights.json"), "utf8")).toBe(
          readFileSync(join(out.dir, "weights.json"), "utf8"),
        );
      } finally {
        o.cleanup();
      }
    }
  });
});

describe("writeWeightImage on GPT-2 style Conv1D weights ([in, out] storage, F32)", () => {
  it("transposes while tiling and rounds the unquantized tables to BF16", async () => {
    const g = gpt2Graph({ hidden: 64, layers: 1, vocab: 50, positions: 20 });
    const ck = await writeCheckpoint(g, { dtype: "F32", seed: 5 });
    const out = tempDir();
    try {
      const plan = planLayout(g, target);
      const segments = simpleTiling(plan, { rows: 48, cols: 40 });
      expect(segments.filter((s) => s.transforms.some((t) => t.kind === "transpose")).length).toBeGreaterThan(
        0,
      );
      const wp = finalizeLayout(plan, segments);
      const { manifest } = await writeWeightImage(wp, segments, ck.index, out.dir, {
        threads: 2,
        jobElements: 500,
      });
      const image = readFileSync(join(out.dir, "weights.bin"));
      const read: FloatRows = async (name) => {
        const r = ck.index.rows(name);
        return { data: await ck.index.readRows(name, 0, r.rows), rows: r.rows, k: r.cols };
      };
      for (const s of manifest.segments) {
        const p = plan.tensors.find((x) => x.tensor === s.tensor && x.placement === "stream")!;
        const values = await segmentValues(s, { rows: p.rows!, cols: p.cols! }, read);
        expect(
          image.subarray(s.fileOffset, s.fileOffset + s.bytes).equals(Buffer.from(expectedTile(s, values))),
          s.id,
        ).toBe(true);
      }
      const wpe = manifest.tensors.find((t) => t.role === "position_embedding")!;
      expect([wpe.format, wpe.placement]).toEqual(["bf16", "ddr"]);
      const v = await read(wpe.tensor);
      const bits = new Uint16Array(
        image.buffer.slice(
          image.byteOffset + wpe.fileOffset,
          image.byteOffset + wpe.fileOffset + v.data.length * 2,
        ),
      );
      expect([...bits]).toEqual([...v.data].map((x) => f32ToBf16(x)));
    } finally {
      await ck.cleanup();
      out.cleanup();
    }
  });
});

describe("writeWeightImage on other layouts", () => {
  async function build(g: ModelGraph, tile: { rows: number; cols: number }, o: LayoutOptions = {}) {
    const ck = await writeCheckpoint(g, { seed: 3 });
    const out = tempDir();
    const plan = planLayout(g, target, o);
    const segments = simpleTiling(plan, tile);
    const wp = finalizeLayout(plan, segments);
    const { manifest } = await writeWeightImage(wp, segments, ck.index, out.dir, {
      threads: 2,
      jobElements: 300,
    });
    const image = readFileSync(join(out.dir, "weights.bin"));
    const read: FloatRows = async (name) => {
      const r = ck.index.rows(name);
      return { data: await ck.index.readRows(name, 0, r.rows), rows: r.rows, k: r.cols };
    };
    const done = async () => {
      await ck.cleanup();
      out.cleanup();
    };
    return { plan, wp, manifest, image, read, done };
  }

  it("stacked [E, in, out] experts (gpt-oss style): expert offsets and the transpose", async () => {
    const r = await build(gptOssGraph(), { rows: 24, cols: 8 });
    try {
      const tiles = r.manifest.segments.filter((s) => s.expert !== undefined);
      expect(new Set(tiles.map((s) => s.expert)).size).toBeGreaterThan(1);
      for (const s of r.manifest.segments) {
        const p = r.plan.tensors.find((x) => x.tensor === s.tensor && x.placement === "stream")!;
        const values = await segmentValues(s, { rows: p.rows!, cols: p.cols! }, r.read);
        expect(
          r.image.subarray(s.fileOffset, s.fileOffset + s.bytes).equals(Buffer.from(expectedTile(s, values))),
          s.id,
        ).toBe(true);
      }
    } finally {
      await r.done();
    }
  });

  it("Gemma 3n style: the per-layer embedding table sits after the DDR part of weights.bin", async () => {
    const r = await build(gemmaNGraph(), { rows: 16, cols: 16 });
    try {
      const ple = r.manifest.tensors.find((t) => t.role === "per_layer_embedding")!;
      expect(ple.placement).toBe("off-ddr");
      expect(ple.fileOffset).toBe(r.wp.image.offDdr!.fileOffset + ple.offset);
      expect(ple.fileOffset).toBeGreaterThanOrEqual(r.wp.image.ddrBytes);
      const v = await r.read(ple.tensor);
      expect(
        r.image
          .subarray(ple.fileOffset, ple.fileOffset + ple.bytes)
          .equals(Buffer.from(expectedTable(ple, v.data))),
      ).toBe(true);
      expect(r.image.length).toBe(r.wp.image.bytes);
      expect(r.manifest.image.offDdr).toEqual(r.wp.image.offDdr);
    } finally {
      await r.done();
    }
  });

  it("fills a tied embedding table from the LM head tiles when they hold the same rows", async () => {
    const g = llamaGraph({
      hidden: 64,
      inter: 96,
      layers: 1,
      heads: 2,
      kvHeads: 1,
      headDim: 32,
      vocab: 200,
      tied: true,
    });
    const r = await build(g, { rows: 48, cols: 4096 }, { int4EmbeddingMinElements: 100 });
    try {
      const table = buildPieces(r.wp).find((p) => p.format.layout === "table")!;
      expect(table.mirrorOf?.length).toBe(5);
      const emb = r.manifest.tensors.find((t) => t.role === "embedding")!;
      const v = await r.read(emb.tensor);
      expect(
        r.image
          .subarray(emb.fileOffset, emb.fileOffset + emb.bytes)
          .equals(Buffer.from(expectedTable(emb, v.data))),
      ).toBe(true);
      const stats = r.manifest.quantization.filter((q) => q.tensor === emb.tensor);
      expect(stats.map((q) => q.error["count"])).toEqual([200 * 64, 200 * 64]);
      expect(stats[0]!.error).toEqual(stats[1]!.error);
    } finally {
      await r.done();
    }
  });
});
