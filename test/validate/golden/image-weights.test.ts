/**
 * The golden reference's weights read back from a weight image (`imageWeightReader`): every streamed
 * sub-tile must land at its place in the stored tensor, including tiles read through a `transpose`
 * transform of a tensor stored [out, in] — DeepSeek MLA's absorbed W_UKᵀ reads of kv_b_proj.
 * Regression for issues #7/#9: those tiles were placed as if untransposed, so the golden reference
 * ran on a scrambled kv_b_proj and the (correct) exact-mode simulation of both DeepSeek tiny models
 * differed from it at the first token.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ManifestSegment, WeightManifest } from "../../../src/layout/image/manifest.js";
import type { WeightTransform } from "../../../src/layout/types.js";
import type { ModelGraph, WeightDecl } from "../../../src/resolver/graph/index.js";
import { loadTarget } from "../../../src/target/index.js";
import { imageWeightReader, packTile, untie } from "../../../src/validate/sim/index.js";
import { withCheckpointReader } from "../../helpers/checkpoint.js";
import { compileTiny } from "../sim/e2e-chain.js";

interface HandSegment {
  readonly rows: { start: number; count: number };
  readonly cols: { start: number; count: number };
  readonly rowStep?: number;
  readonly transpose?: boolean;
  /** Tile element (r, c), an INT4 code (the scale is 1). */
  readonly at: (r: number, c: number) => number;
}

/** A weight image of one tensor made of hand-written per-row tiles (BF16 scales of 1.0). */
function handImage(decl: WeightDecl, segs: readonly HandSegment[]) {
  const fmt = { order: 0, group: 0, scales: true, scaleDtype: "bf16" } as const;
  const parts: Uint8Array[] = [];
  const segments: ManifestSegment[] = [];
  let fileOffset = 0;
  segs.forEach((s, i) => {
    const { count: rows } = s.rows;
    const { count: k } = s.cols;
    const codes = Int8Array.from({ length: rows * k }, (_, e) => s.at(Math.floor(e / k), e % k));
    const bytes = packTile(codes, new Float32Array(rows).fill(1), rows, k, fmt);
    const transforms: WeightTransform[] = s.transpose ? [{ kind: "transpose" }] : [];
    segments.push({
      id: `w${i}`,
      port: "hp2",
      offset: fileOffset,
      bytes: bytes.length,
      tensor: decl.name,
      rows: s.rows,
      cols: s.cols,
      ...(s.rowStep !== undefined ? { rowStep: s.rowStep } : {}),
      order: 0,
      group: 0,
      scaleDtype: "bf16",
      transforms,
      consumer: { segment: "decode", step: i },
      region: "weights.hp2",
      fileOffset,
      sha256: "",
    });
    parts.push(bytes);
    fileOffset += bytes.length;
  });
  const bin = new Uint8Array(fileOffset);
  let o = 0;
  for (const p of parts) {
    bin.set(p, o);
    o += p.length;
  }
  // imageWeightReader reads only the segments, tables and folds of the manifest and the graph's
  // declarations: the rest of both documents is irrelevant here.
  const manifest = { segments, tensors: [], folded: [] } as unknown as WeightManifest;
  const graph = { weights: [decl] } as unknown as ModelGraph;
  return imageWeightReader(bin, manifest, graph);
}

const decl = (name: string, shape: number[], transposed = false): WeightDecl => ({
  id: name,
  name,
  shape,
  dtype: "BF16",
  role: "attn_kv_b",
  keys: [],
  ...(transposed ? { transposed: true } : {}),
});

describe("imageWeightReader places every sub-tile in the stored layout", () => {
  // W stored [out = 4, in = 3], row-major: W[o][i] = STORED[o·3 + i].
  const STORED = [1, 2, 3, 4, 5, 6, 7, -1, -2, -3, -4, -5];
  const W = (o: number, i: number) => STORED[o * 3 + i]!;

  it("a transposed read of a tensor stored [out, in] (MLA's W_UKᵀ) beside a plain one", async () => {
    // As mla.ts reads kv_b_proj: out rows 0-1 through the transpose (tile [in = 3, out = 2],
    // tile(r, c) = W[c][r]), out rows 2-3 plainly (tile(r, c) = W[2 + r][c]).
    const reader = handImage(decl("kv_b", [4, 3]), [
      { rows: { start: 0, count: 3 }, cols: { start: 0, count: 2 }, transpose: true, at: (r, c) => W(c, r) },
      { rows: { start: 2, count: 2 }, cols: { start: 0, count: 3 }, at: (r, c) => W(2 + r, c) },
    ]);
    const got = await reader.get("kv_b");
    expect(got.shape).toEqual([4, 3]);
    expect(Array.from(got.data)).toEqual(STORED);
  });

  it("a transposed read split over rows and columns (two ports, two heads)", async () => {
    // Tile rows = stored columns 0-1 and 2; tile cols = stored rows {0, 1} and {2, 3}.
    const segs: HandSegment[] = [];
    for (const [rs, rc] of [
      [0, 2],
      [2, 1],
    ] as const)
      for (const cs of [0, 2])
        segs.push({
          rows: { start: rs, count: rc },
          cols: { start: cs, count: 2 },
          transpose: true,
          at: (r, c) => W(cs + c, rs + r),
        });
    expect(Array.from((await handImage(decl("kv_b", [4, 3]), segs).get("kv_b")).data)).toEqual(STORED);
  });

  it("a tensor stored [in, out] (Conv1D) read through its transpose, as before", async () => {
    // Stored [in = 3, out = 4]: S[i][o] = STORED[i·4 + o]; the tile indexes the logical [out, in]
    // matrix, tile(r, c) = S[c][r].
    const S = (i: number, o: number) => STORED[i * 4 + o]!;
    const reader = handImage(decl("c_attn", [3, 4], true), [
      { rows: { start: 0, count: 2 }, cols: { start: 0, count: 3 }, transpose: true, at: (r, c) => S(c, r) },
      {
        rows: { start: 2, count: 2 },
        cols: { start: 0, count: 3 },
        transpose: true,
        at: (r, c) => S(c, 2 + r),
      },
    ]);
    expect(Array.from((await reader.get("c_attn")).data)).toEqual(STORED);
  });

  it("strided row views (rowStep) land on every step-th row", async () => {
    const reader = handImage(decl("gate_up", [4, 3]), [
      { rows: { start: 0, count: 2 }, rowStep: 2, cols: { start: 0, count: 3 }, at: (r, c) => W(2 * r, c) },
      {
        rows: { start: 1, count: 2 },
        rowStep: 2,
        cols: { start: 0, count: 3 },
        at: (r, c) => W(1 + 2 * r, c),
      },
    ]);
    expect(Array.from((await reader.get("gate_up")).data)).toEqual(STORED);
  });
});

const TINY = fileURLToPath(new URL("../../../examples/tiny/", import.meta.url));
const target = loadTarget("kv260-v002");

/** Cosine of two equal-length vectors. */
function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / Math.sqrt(na * nb);
}

describe("the image's kv_b_proj of the DeepSeek tiny models is the checkpoint's, quantized", () => {
  for (const model of ["deepseek_v2", "deepseek_v3"]) {
    it(`${model}: each head's k_nope (transposed tiles) and v (plain tiles) rows`, async () => {
      const c = await compileTiny(`${TINY}${model}`, target);
      const g = untie(c.graph);
      const kvb = g.weights.filter((w) => w.name.endsWith("self_attn.kv_b_proj.weight") && !w.unused);
      expect(kvb.length).toBe(2);
      // The absorbed MLA reads the k_nope rows through a transpose: the case the fix is about.
      expect(
        c.manifest.segments.some(
          (s) => s.tensor === kvb[0]!.name && s.transforms.some((t) => t.kind === "transpose"),
        ),
      ).toBe(true);
      const image = imageWeightReader(c.bin, c.manifest, g);
      const cfg = { heads: 4, nope: 16, v: 16, rank: 32 }; // examples/tiny/deepseek_v*/config.json
      await withCheckpointReader(`${TINY}${model}/model.safetensors`, async (ckpt) => {
        for (const w of kvb) {
          const q = (await image.get(w.name)).data;
          const f = (await ckpt.get(w.name)).data;
          const per = cfg.nope + cfg.v;
          for (let h = 0; h < cfg.heads; h++) {
            for (const [part, from, n] of [
              ["k_nope", 0, cfg.nope],
              ["v", cfg.nope, cfg.v],
            ] as const) {
              const lo = (h * per + from) * cfg.rank;
              const hi = lo + n * cfg.rank;
              // INT4 with per-row BF16 scales keeps a random matrix's cosine near 0.995; misplaced
              // tiles (the bug) leave it near 0.
              const cos = cosine(q.subarray(lo, hi), f.subarray(lo, hi));
              expect(cos, `${w.name} head ${h} ${part}`).toBeGreaterThan(0.98);
            }
          }
        }
      });
    });
  }
});
