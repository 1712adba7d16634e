import { describe, expect, it } from "vitest";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import { ringBytes } from "../../../src/layout/plan/kv.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import { loadTarget } from "../../../src/target/index.js";
import { gemmaNGraph, mlaGraph } from "../../resolver/graph/fixtures.js";
import { LLAMA_31_8B, llamaGraph } from "./graphs.js";

const target = loadTarget("kv260-v002");
const small = { ...LLAMA_31_8B, layers: 4, vocab: 1024 };

function caught(fn: () => unknown): PccxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PccxError) return e;
    throw e;
  }
  throw new Error("expected a PccxError");
}

describe("KV plan", () => {
  it("takes INT4 as the target's default KV dtype (the GEMV streams it like a weight tile)", () => {
    expect(planLayout(llamaGraph(small), target).kv.dtype).toBe("int4");
  });

  it("sizes an INT8 ring per layer (8 heads × 128, 8,192 slots from the target, per-head scales)", () => {
    const plan = planLayout(llamaGraph(small), target, { kvDtype: "int8" });
    expect(plan.kv.dtype).toBe("int8");
    expect(plan.context).toBe(8192);
    // K and V: 8 heads × 8,192 slots × (128 values + a 2-byte BF16 scale).
    const perLayer = 2 * 8 * 8192 * (128 + 2);
    expect(plan.kv.capacity.map((c) => [c.layer, c.slots, c.bytes, c.kind])).toEqual(
      [0, 1, 2, 3].map((l) => [l, 8192, perLayer, "full"]),
    );
    expect(plan.kv.totalBytes).toBe(4 * perLayer);
  });

  it("uses the KV tile format for INT4: K rows with a scale beat per slot, V K-block-major per GEMV port", () => {
    const plan = planLayout(llamaGraph(small), target, { kvDtype: "int4", context: 4096 });
    const c = plan.kv.capacity[0]!;
    expect(plan.kv.ports).toBe(2); // hp2 and hp3 feed the GEMV
    // K per head: 4,096 rows of 64 bytes + 4,096 scale beats.
    const k = 4096 * (64 + 16);
    // V per head: 64 features on each port, 128 blocks of 32 slots: 64 beats + 64 scales × 2 bytes.
    const v = 2 * 128 * (64 * 16 + 64 * 2);
    expect([c.kBytes, c.vBytes, c.bytes]).toEqual([8 * k, 8 * v, 8 * (k + v)]);
    expect(
      ringBytes({ layer: 0, kind: "full", kvHeads: 1, headDim: 128, vHeadDim: 128 }, 33, "int4", "bf16"),
    ).toEqual({
      k: 33 * (64 + 16),
      v: 2 * (128 * 16 + 256), // two 32-slot blocks, the second one partial
    });
    // 40 features over 3 ports: 14, 14, 12 rows, each block's scales padded to a beat.
    expect(
      ringBytes({ layer: 0, kind: "full", kvHeads: 1, headDim: 64, vHeadDim: 40 }, 32, "int4", "bf16", 3).v,
    ).toBe(2 * (14 * 16 + 32) + (12 * 16 + 32));
  });

  it("gives sliding layers min(window, context) slots and shared layers none", () => {
    const g = llamaGraph({ ...small, layers: 6, window: 512, shareFrom: 4 });
    const plan = planLayout(g, target, { context: 2048, kvDtype: "int8" });
    expect(plan.kv.capacity.map((c) => [c.layer, c.kind, c.slots])).toEqual([
      [0, "sliding", 512],
      [1, "full", 2048],
      [2, "sliding", 512],
      [3, "full", 2048],
    ]);
    expect(plan.kv.shared).toEqual([
      { layer: 4, source: 0 },
      { layer: 5, source: 1 },
    ]);
    const short = planLayout(g, target, { context: 300 });
    expect(short.kv.capacity.map((c) => c.slots)).toEqual([300, 300, 300, 300]);
  });

  it("handles Gemma 3n KV sharing and MLA latent caches", () => {
    const gn = planLayout(gemmaNGraph(), target, { context: 64 });
    expect(gn.kv.shared?.length).toBeGreaterThan(0);
    const owners = new Set(gn.kv.capacity.map((c) => c.layer));
    for (const s of gn.kv.shared ?? []) {
      expect(owners.has(s.layer)).toBe(false);
      expect(owners.has(s.source)).toBe(true);
    }
    const mla = planLayout(mlaGraph(), target, { context: 64, kvDtype: "int8" });
    const c = mla.kv.capacity[0]!;
    expect([c.kind, c.kvHeads, c.headDim, c.vHeadDim]).toEqual(["mla", 1, 6 + 4, 6]);
    expect(c.bytes).toBe(64 * (10 + 2) + 64 * (6 + 2));
  });

  it("rejects a KV dtype the target does not list (exit 3) and a bad context (exit 1)", () => {
    const g = llamaGraph(small);
    const e = caught(() => planLayout(g, target, { kvDtype: "bf16" }));
    expect([e.code, e.exitCode]).toEqual(["layout/kv-dtype", ExitCode.UNSUPPORTED]);
    expect(e.fix).toContain("int4 or int8");
    const withBf16 = loadTarget("kv260-v002", ['numeric.kv_cache.dtypes=["int4","int8","bf16"]']);
    expect(planLayout(g, withBf16, { kvDtype: "bf16", context: 100 }).kv.capacity[0]!.bytes).toBe(
      2 * 8 * 100 * 128 * 2,
    );
    const c = caught(() => planLayout(g, target, { context: 0 }));
    expect([c.code, c.exitCode]).toEqual(["layout/context", ExitCode.USAGE]);
  });
});
