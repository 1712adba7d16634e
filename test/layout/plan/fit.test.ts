import { describe, expect, it } from "vitest";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import { finalizeLayout } from "../../../src/layout/plan/finalize.js";
import { throwIfNotFit } from "../../../src/layout/plan/fit.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import { simpleTiling } from "../../../src/layout/plan/tiling.js";
import type { LayoutOptions, WeightPlan } from "../../../src/layout/types.js";
import type { ModelGraph } from "../../../src/resolver/graph/index.js";
import { loadTarget, type Target } from "../../../src/target/index.js";
import { LLAMA_31_8B, LLAMA_32_1B, type LlamaDims, llamaGraph } from "./graphs.js";

const target = loadTarget("kv260-v002");
const pad = (n: number, a: number) => Math.ceil(n / a) * a;

function finalize(g: ModelGraph, o: LayoutOptions = {}, t: Target = target): WeightPlan {
  const plan = planLayout(g, t, o);
  return finalizeLayout(plan, simpleTiling(plan, { rows: 512, cols: 2048, ports: ["hp2", "hp3"] }));
}

function caught(fn: () => unknown): PccxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PccxError) return e;
    throw e;
  }
  throw new Error("expected a PccxError");
}

/** The DDR map of a dense Llama, computed from the formats by hand (per-row BF16 scales, INT8 KV). */
function expectedDdrBytes(d: LlamaDims, context: number): { total: number; mlp: number; kv: number } {
  const tiles = { hp2: 0, hp3: 0 } as Record<string, number>;
  let next = 0;
  let mlp = 0;
  const matrix = (rows: number, cols: number, isMlp = false) => {
    for (let r = 0; r < rows; r += 512) {
      for (let c = 0; c < cols; c += 2048) {
        const n = Math.min(512, rows - r);
        const bytes = n * (Math.min(2048, cols - c) / 2) + pad(n * 2, 16);
        tiles[next++ % 2 === 0 ? "hp2" : "hp3"]! += bytes;
        if (isMlp) mlp += bytes;
      }
    }
  };
  for (let l = 0; l < d.layers; l++) {
    matrix(d.heads * d.headDim, d.hidden);
    matrix(d.kvHeads * d.headDim, d.hidden);
    matrix(d.kvHeads * d.headDim, d.hidden);
    matrix(d.hidden, d.heads * d.headDim);
    matrix(d.inter, d.hidden, true);
    matrix(d.inter, d.hidden, true);
    matrix(d.hidden, d.inter, true);
  }
  matrix(d.vocab, d.hidden);
  const embedding = d.vocab * pad(d.hidden / 2 + 2, 16);
  const vectors = (2 * d.layers + 1) * d.hidden * 2;
  const kvLayer = 2 * d.kvHeads * context * (d.headDim + 2);
  const kv = d.layers * pad(kvLayer, 4096);
  const total =
    pad(tiles["hp2"]!, 4096) + pad(tiles["hp3"]!, 4096) + pad(embedding, 4096) + pad(vectors, 4096) + kv;
  return { total, mlp, kv };
}

// pccx-v002.md §6's ≈4.5 GB counts an INT8 KV cache; the target's default is INT4 (tested below).
describe("Llama-3.1-8B at W4 does not fit the KV260", () => {
  const g = llamaGraph(LLAMA_31_8B);
  const wp = finalize(g, { label: "meta-llama/Llama-3.1-8B", kvDtype: "int8" });
  const want = expectedDdrBytes(LLAMA_31_8B, 8192);

  it("computes the DDR need exactly and compares it with 4 GiB minus the 1 GiB OS reserve", () => {
    expect(wp.fit.ok).toBe(false);
    expect(wp.fit.ddrBytes).toBe(want.total);
    expect(wp.fit.ddrCapacity).toBe(3 * 2 ** 30);
    expect(wp.fit.overBy).toBe(want.total - 3 * 2 ** 30);
    expect(want.total / 1e9).toBeGreaterThan(4.5); // pccx-v002.md §6: ≈4.5 GB with scales
    expect(wp.fit.estimate).toBe(false);
  });

  it("throws layout/ddr-overflow (exit 3) with the numbers, the largest consumers and computed advice", () => {
    const e = caught(() => throwIfNotFit(wp));
    expect([e.code, e.exitCode]).toEqual(["layout/ddr-overflow", ExitCode.UNSUPPORTED]);
    const fmt = (n: number) => n.toLocaleString("en-US");
    expect(e.message).toBe(
      `meta-llama/Llama-3.1-8B does not fit: needs 4.26 GiB of DDR, 3.00 GiB available (4.00 GiB minus the ` +
        `1.00 GiB OS reserve): over by 1.26 GiB (${fmt(want.total)} bytes needed, 3,221,225,472 available, ` +
        `${fmt(want.total - 3 * 2 ** 30)} over)`,
    );
    const top = wp.fit.consumers;
    expect(top.map((c) => c.name)).toEqual([
      "MLP projections",
      "attention projections",
      "KV cache",
      "embedding table",
      "LM head",
    ]);
    expect(top[0]!.bytes).toBe(want.mlp);
    expect(top[0]!.share).toBeCloseTo(want.mlp / want.total, 12);
    expect(top[2]!.bytes).toBe(want.kv);
    expect(e.notes[0]).toMatch(
      /^largest consumers: MLP projections 2\.\d\d GiB \(6\d %\), attention projections/,
    );
    const text = e.notes.join("\n");
    expect(text).toContain(
      "shorter context: no context fits — without its KV cache (520 MiB at 8,192 tokens)",
    );
    expect(text).toContain("KV dtype: --kv-dtype int4 saves 216 MiB (KV 520 MiB → 304 MiB)");
    expect(text).toContain("group size: scales are already one per row");
    expect(text).toMatch(
      /vocabulary trim: the embedding table and LM head take 503 MiB for 128,256 tokens; even removing all of it leaves \d+ MiB over/,
    );
    expect(e.fix).toMatch(
      /^even with no KV cache, no vocabulary and per-row scales the rest of the model needs 3\.\d\d GiB/,
    );
    const kvAdvice = wp.fit.advice.find((a) => a.kind === "kv-dtype")!;
    // INT4 per head: K 8,192 × (64 bytes + a scale beat); V on 2 ports, 256 blocks × (64 beats + 64 scales × 2).
    const int4Layer = 8 * (8192 * (64 + 16) + 2 * 256 * (64 * 16 + 64 * 2));
    expect(kvAdvice.saves).toBe(want.kv - 32 * int4Layer);
  });

  it("gives the same verdict from the config alone (pccxc plan)", () => {
    const est = planLayout(g, target, { kvDtype: "int8" }).estimate!;
    expect([est.ok, est.estimate]).toEqual([false, true]);
    expect(Math.abs(est.ddrBytes - want.total) / want.total).toBeLessThan(0.001);
  });

  it("does not fit even without the OS reserve (the DataMover reaches 4 GiB at most)", () => {
    const all = finalize(g, { kvDtype: "int8" }, loadTarget("kv260-v002", ["ddr.reserved_os_bytes=0"]));
    expect([all.fit.ok, all.fit.ddrCapacity, all.fit.overBy]).toEqual([false, 2 ** 32, want.total - 2 ** 32]);
  });

  it("does not fit with the target's default INT4 KV cache either, and no longer advises --kv-dtype int4", () => {
    const d = finalize(g);
    expect(d.layout.kv.dtype).toBe("int4");
    expect(d.fit.ok).toBe(false);
    expect(want.total - d.fit.ddrBytes).toBe(wp.fit.advice.find((a) => a.kind === "kv-dtype")!.saves);
    expect(d.fit.advice.some((a) => a.kind === "kv-dtype" && a.text.includes("int4"))).toBe(false);
  });

  it("fits when only a few layers are kept, and says so in one line", () => {
    const few = finalize(llamaGraph({ ...LLAMA_31_8B, layers: 20 }));
    expect(few.fit.ok).toBe(true);
    expect(() => throwIfNotFit(few)).not.toThrow();
    expect(few.fit.text).toMatch(
      /^llama \(20 layers\) fits: 2\.\d\d GiB of 3\.00 GiB DDR \(\d\d %\); L2 pinned 20,992 of 57,344 words$/,
    );
  });
});

describe("Llama-3.2-1B fits, and the advice for models that almost fit is exact", () => {
  it("fits and prints the one-line summary", () => {
    const wp = finalize(llamaGraph(LLAMA_32_1B));
    expect(wp.fit.ok).toBe(true);
    expect(wp.usage.onChipBytes).toBe(33 * 2048 * 2);
    expect(wp.summary).toBe("On-chip 132 KiB, streamed from DDR 590 MiB/token, off-DDR 0 B");
    expect(wp.usage.streamedPerToken).toBe(wp.usage.streamBytes);
  });

  it("names the longest context that fits", () => {
    const g = llamaGraph(LLAMA_32_1B);
    const wp = finalize(g, { context: 1 << 20 });
    expect(wp.fit.ok).toBe(false);
    const a = wp.fit.advice.find((x) => x.kind === "context")!;
    expect(a.fits).toBe(true);
    const c = a.value as number;
    expect(c % 32).toBe(0);
    expect(a.text).toContain(`--context ${c} fits`);
    expect(finalize(g, { context: c }).fit.ok).toBe(true);
    expect(finalize(g, { context: c + 32 }).fit.ok).toBe(false);
    expect(caught(() => throwIfNotFit(wp)).fix).toContain(`--context ${c} fits`);
  });

  it("keeps the context advice exact when codegen sizes the rings itself (BF16 host rows)", () => {
    const g = llamaGraph(LLAMA_32_1B);
    const withRings = (context: number) => {
      const plan = planLayout(g, target, { context });
      const rings = plan.kv.capacity.map((c) => ({
        name: `kv.L${c.layer}`,
        kind: "kv" as const,
        bytes: 2 * c.slots * 8 * 64 * 2,
      }));
      return finalizeLayout(
        plan,
        simpleTiling(plan, { rows: 512, cols: 2048, ports: ["hp2", "hp3"] }),
        rings,
      );
    };
    const wp = withRings(1 << 18);
    expect(wp.fit.ok).toBe(false);
    const a = wp.fit.advice.find((x) => x.kind === "context")!;
    const c = a.value as number;
    expect(withRings(c).fit.ok).toBe(true);
    expect(withRings(c + 32).fit.ok).toBe(false);
  });

  it("names the largest vocabulary that fits", () => {
    const d = { ...LLAMA_32_1B, vocab: 1_600_000 };
    const wp = finalize(llamaGraph(d));
    expect(wp.fit.ok).toBe(false);
    const a = wp.fit.advice.find((x) => x.kind === "vocab-trim")!;
    expect(a.fits).toBe(true);
    const v = a.value as number;
    expect(v).toBeLessThan(d.vocab);
    expect(finalize(llamaGraph({ ...d, vocab: v })).fit.ok).toBe(true);
  });

  it("computes what per-row scales save against groups of 32", () => {
    const g = llamaGraph({ ...LLAMA_32_1B, vocab: 1_200_000 });
    const g32 = finalize(g, { groupSize: 32 });
    const g0 = finalize(g, { groupSize: 0 });
    const a = g32.fit.advice.find((x) => x.kind === "group-size")!;
    const actual = g32.fit.ddrBytes - g0.fit.ddrBytes;
    expect(a.saves / actual).toBeGreaterThan(0.99);
    expect(a.saves / actual).toBeLessThan(1.01);
    expect([g32.fit.ok, g0.fit.ok, a.fits]).toEqual([false, true, true]);
  });

  it("flags pinned vectors above the L2 budget when overrides force them there", () => {
    const wp = finalize(llamaGraph({ ...LLAMA_32_1B, layers: 2 }), {
      l2BudgetWords: 500,
      overrides: [{ role: "norm", placement: "l2" }],
    });
    expect([wp.fit.ok, wp.fit.ddrOk, wp.fit.l2Ok, wp.fit.l2Words]).toEqual([false, true, false, 5 * 256]);
    const e = caught(() => throwIfNotFit(wp));
    expect([e.code, e.exitCode]).toEqual(["layout/l2-overflow", ExitCode.UNSUPPORTED]);
    expect(e.message).toBe("L2-pinned vectors need 1,280 words but the budget is 500 words (over by 780)");
  });
});
