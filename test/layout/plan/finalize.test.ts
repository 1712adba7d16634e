import { describe, expect, it } from "vitest";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import { finalizeLayout } from "../../../src/layout/plan/finalize.js";
import { foldableNorms } from "../../../src/layout/plan/fold.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import { tileBytes } from "../../../src/layout/plan/sizes.js";
import { simpleTiling } from "../../../src/layout/plan/tiling.js";
import type { StreamSegment } from "../../../src/layout/types.js";
import { loadTarget } from "../../../src/target/index.js";
import { gemmaNGraph } from "../../resolver/graph/fixtures.js";
import { gpt2Graph, llamaGraph, moeGraph } from "./graphs.js";

const target = loadTarget("kv260-v002");
const dims = { hidden: 256, inter: 512, layers: 2, heads: 4, kvHeads: 2, headDim: 64, vocab: 4096 };

function caught(fn: () => unknown): PccxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PccxError) return e;
    throw e;
  }
  throw new Error("expected a PccxError");
}

describe("finalizeLayout: the DDR map", () => {
  const g = llamaGraph(dims);
  const plan = planLayout(g, target, { int4EmbeddingMinElements: 1000 });
  const segments = simpleTiling(plan, { rows: 128, cols: 128 });
  const program = [
    { name: "host.residual", kind: "buffer" as const, bytes: 1000 },
    { name: "logits", kind: "logits" as const, bytes: 4096 * 4 },
  ];
  const wp = finalizeLayout(plan, segments, program);

  it("puts the weight regions first, at the same offsets as in weights.bin, then KV, then the program's", () => {
    expect(wp.regions.map((r) => `${r.name}:${r.kind}`)).toEqual([
      "weights.hp2:weights",
      "weights.hp3:weights",
      "embedding:embedding",
      "vectors:weights",
      "kv.L0:kv",
      "kv.L1:kv",
      "host.residual:buffer",
      "logits:logits",
    ]);
    let at = 0;
    for (const r of wp.regions) {
      expect(r.offset, r.name).toBe(at);
      expect(r.offset % 4096).toBe(0);
      expect(r.bytes % 4096).toBe(0);
      expect(r.bytes - r.used).toBeLessThan(4096);
      expect(r.fileOffset).toBe(["weights", "embedding"].includes(r.kind) ? r.offset : undefined);
      at += r.bytes;
    }
    expect(wp.usage.ddrBytes).toBe(at);
    const vectors = wp.regions.find((r) => r.name === "vectors")!;
    expect(wp.image).toEqual({
      bytes: vectors.offset + vectors.bytes,
      ddrBytes: vectors.offset + vectors.bytes,
    });
    expect(wp.regions.find((r) => r.name === "weights.hp2")!.port).toBe("hp2");
    expect(wp.regions.find((r) => r.name === "kv.L1")!.used).toBe(plan.kv.capacity[1]!.bytes);
  });

  it("takes a ring's size from codegen when it sends one, and keeps the advice consistent", () => {
    const bf16Rows = (l: number) => 2 * plan.kv.capacity[l]!.slots * 2 * 64 * 2; // codegen's host rows
    const w = finalizeLayout(plan, segments, [
      { name: "kv.L0", kind: "kv", bytes: bf16Rows(0) },
      { name: "kv.L1", kind: "kv", bytes: bf16Rows(1) },
      ...program,
    ]);
    expect(w.regions.filter((r) => r.kind === "kv").map((r) => [r.name, r.used])).toEqual([
      ["kv.L0", bf16Rows(0)],
      ["kv.L1", bf16Rows(1)],
    ]);
    expect(w.usage.kvBytes).toBe(2 * Math.ceil(bf16Rows(0) / 4096) * 4096);
    expect(w.usage.ddrBytes).toBe(wp.usage.ddrBytes + w.usage.kvBytes - wp.usage.kvBytes);
  });

  it("sizes each port's stream from its tiles and places tables and vectors", () => {
    const hp2 = segments.filter((s) => s.port === "hp2");
    const last = hp2[hp2.length - 1]!;
    expect(wp.regions.find((r) => r.name === "weights.hp2")!.used).toBe(last.offset + last.bytes);
    expect(wp.usage.streamBytes).toBe(segments.reduce((s, x) => s + x.bytes, 0));
    const emb = wp.tensors.find((t) => t.role === "embedding")!;
    expect([emb.region, emb.offset, emb.layout, emb.rowStride, emb.bytes]).toEqual([
      "embedding",
      0,
      "table",
      144,
      4096 * 144,
    ]);
    const norms = wp.tensors.filter((t) => t.placement === "l2");
    expect(norms.map((t) => t.offset)).toEqual(norms.map((_, i) => i * 512));
    expect(wp.usage.l2Words).toBe(5 * 32);
    expect(wp.usage.onChipBytes).toBe(5 * 512);
  });

  it("puts off-DDR tables after the DDR part of weights.bin only", () => {
    const gn = planLayout(gemmaNGraph(), target);
    const w = finalizeLayout(gn, simpleTiling(gn));
    const ple = w.tensors.find((t) => t.role === "per_layer_embedding")!;
    expect([ple.placement, ple.region, ple.layout]).toEqual(["off-ddr", "offddr", "table"]);
    expect(w.regions.some((r) => r.name === "offddr")).toBe(false);
    expect(w.image.offDdr).toEqual({ fileOffset: w.image.ddrBytes, bytes: ple.bytes });
    expect(w.image.bytes).toBe(w.image.ddrBytes + Math.ceil(ple.bytes / 4096) * 4096);
    expect(w.usage.offDdrBytes).toBe(ple.bytes);
    expect(w.summary).toMatch(
      /^On-chip [\d.]+ KiB, streamed from DDR [\d.]+ KiB\/token, off-DDR [\d.]+ (B|KiB)$/,
    );
  });
});

describe("finalizeLayout: per-token bytes", () => {
  it("weights routed experts by top-k / experts and skips prefill-only tiles", () => {
    const g = moeGraph({ hidden: 64, inter: 96, experts: 8, topK: 2, vocab: 64 });
    const plan = planLayout(g, target);
    const decode = simpleTiling(plan, { rows: 32, cols: 64 });
    const prefill = simpleTiling(plan, { rows: 32, cols: 64, ports: ["hp0", "hp1"], segment: "prefill" }).map(
      (s) => ({
        ...s,
        id: `p:${s.id}`,
      }),
    );
    const wp = finalizeLayout(plan, [...decode, ...prefill]);
    const experts = decode.filter((s) => s.expert !== undefined).reduce((a, s) => a + s.bytes, 0);
    const rest = decode.filter((s) => s.expert === undefined).reduce((a, s) => a + s.bytes, 0);
    expect(wp.usage.streamedPerToken).toBe(rest + experts * (2 / 8));
    expect(wp.usage.streamBytes).toBe(2 * (rest + experts));
    expect(wp.regions.map((r) => r.name).slice(0, 4)).toEqual([
      "weights.hp0",
      "weights.hp1",
      "weights.hp2",
      "weights.hp3",
    ]);
  });

  it("warns about streamed tensors no segment carries", () => {
    const plan = planLayout(llamaGraph(dims), target);
    const segs = simpleTiling(plan, { rows: 128, cols: 128 }).filter(
      (s) => !s.tensor.includes("1.mlp.up_proj"),
    );
    const wp = finalizeLayout(plan, segs);
    expect(wp.warnings?.map((w) => w.code)).toEqual(["layout/unstreamed"]);
    expect(wp.warnings?.[0]?.message).toContain("1 streamed tensor(s) have no segment");
    expect(finalizeLayout(plan, simpleTiling(plan)).warnings).toBeUndefined();
  });

  it("stores a tile consumed twice (same port, offset and content) once and keeps both ids", () => {
    const plan = planLayout(llamaGraph(dims), target);
    const segs = simpleTiling(plan, { rows: 128, cols: 128 });
    const again = { ...segs[0]!, id: "again", consumer: { segment: "decode", step: 999 } };
    const wp = finalizeLayout(plan, [...segs, again]);
    expect(wp.segments.length).toBe(segs.length + 1);
    expect(wp.usage.streamBytes).toBe(segs.reduce((s, x) => s + x.bytes, 0));
  });
});

describe("finalizeLayout: segment checks (codegen bugs, exit 70)", () => {
  const g = llamaGraph(dims);
  const folded = new Set(foldableNorms(g).map((c) => c.norm));
  const plan = planLayout(g, target, { folded });
  const segs = simpleTiling(plan, { rows: 128, cols: 128 });
  const first = segs[0]!;
  const bad = (change: (s: StreamSegment[]) => StreamSegment[]) =>
    caught(() => finalizeLayout(plan, change([...segs])));

  it("rejects tiles that do not match the plan", () => {
    const cases: [string, (s: StreamSegment[]) => StreamSegment[], string][] = [
      [
        "unknown tensor",
        (s) => [{ ...first, tensor: "model.layers.9.mlp.up_proj.weight" }, ...s.slice(1)],
        "does not stream",
      ],
      ["wrong size", (s) => [{ ...first, bytes: first.bytes + 16 }, ...s.slice(1)], "the tile format takes"],
      [
        "overlap",
        (s) => [
          ...s,
          {
            ...first,
            id: "x",
            rows: { start: 0, count: 64 },
            bytes: tileBytes({ rows: 64, cols: 128, order: 0, group: 0, scaleDtype: "bf16" }),
          },
        ],
        "overlaps",
      ],
      ["outside", (s) => [{ ...first, rows: { start: 200, count: 128 } }, ...s.slice(1)], "leave the"],
      ["port", (s) => [{ ...first, port: "acp_fmap" }, ...s.slice(1)], "carries no weights"],
      ["group", (s) => [{ ...first, group: 32 }, ...s.slice(1)], "differs from the plan"],
      ["fold missing", (s) => [{ ...first, transforms: [] }, ...s.slice(1)], "no scale_cols"],
      ["id reused", (s) => [...s, { ...s[1]!, id: first.id }], "same id"],
    ];
    for (const [what, change, msg] of cases) {
      const e = bad(change);
      expect([e.code, e.exitCode], what).toEqual(["layout/segment", ExitCode.INTERNAL]);
      expect(e.message, what).toContain(msg);
    }
  });

  it("requires the transpose of [in, out] weights and an expert index on stacked tensors", () => {
    const g2 = planLayout(gpt2Graph({ hidden: 64, layers: 1, vocab: 50, positions: 20 }), target);
    const s2 = simpleTiling(g2, { rows: 64, cols: 64 });
    const i = s2.findIndex((s) => s.transforms.length > 0);
    s2[i] = { ...s2[i]!, transforms: [] };
    expect(caught(() => finalizeLayout(g2, s2)).message).toContain("a transpose transform is missing");
    const m = planLayout(moeGraph({ hidden: 64, inter: 96, experts: 4, topK: 2, vocab: 64 }), target);
    const sm = simpleTiling(m, { rows: 32, cols: 64 });
    const j = sm.findIndex((s) => s.expert !== undefined);
    const { expert: _e, ...noExpert } = sm[j]!;
    sm[j] = noExpert;
    expect(caught(() => finalizeLayout(m, sm)).message).toContain("needs an expert index");
  });
});
