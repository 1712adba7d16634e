import { describe, expect, it } from "vitest";
import { ExitCode, PccxError } from "../../../src/diag/index.js";
import { foldableNorms } from "../../../src/layout/plan/fold.js";
import { parseLayoutOverride } from "../../../src/layout/plan/overrides.js";
import { planLayout } from "../../../src/layout/plan/plan.js";
import type { LayoutPlan, TensorPolicy } from "../../../src/layout/types.js";
import { loadTarget } from "../../../src/target/index.js";
import { gemmaNGraph, gptOssGraph, mlaGraph } from "../../resolver/graph/fixtures.js";
import { gpt2Graph, LLAMA_32_1B, llamaGraph, moeGraph } from "./graphs.js";

const target = loadTarget("kv260-v002");
const byName = (p: LayoutPlan, name: string, role?: string): TensorPolicy => {
  const hit = p.tensors.find((t) => t.tensor === name && (role === undefined || t.role === role));
  if (!hit) throw new Error(`no policy for ${name}`);
  return hit;
};
const summary = (p: TensorPolicy) => `${p.format}/${p.placement}/${p.group}`;

function caught(fn: () => unknown): PccxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PccxError) return e;
    throw e;
  }
  throw new Error("expected a PccxError");
}

describe("role policy on a Llama-3.2-1B graph", () => {
  const g = llamaGraph(LLAMA_32_1B);
  const plan = planLayout(g, target);

  it("streams every projection as INT4 with the target's per-row scales", () => {
    for (const role of [
      "attn_q",
      "attn_k",
      "attn_v",
      "attn_o",
      "mlp_gate",
      "mlp_up",
      "mlp_down",
      "lm_head",
    ]) {
      const ps = plan.tensors.filter((t) => t.role === role);
      expect(ps.length, role).toBe(role === "lm_head" ? 1 : 16);
      for (const p of ps) expect(`${summary(p)}/${p.scaleDtype}`, p.tensor).toBe("int4/stream/0/bf16");
    }
    const down = byName(plan, "model.layers.3.mlp.down_proj.weight");
    expect([down.rows, down.cols, down.perToken]).toEqual([2048, 8192, 1]);
  });

  it("keeps norms BF16 in L2 and the large embedding table INT4 in DDR", () => {
    const norms = plan.tensors.filter((t) => t.role === "norm");
    expect(norms.length).toBe(33);
    for (const n of norms) expect(summary(n)).toBe("bf16/l2/0");
    expect(summary(byName(plan, "model.embed_tokens.weight", "embedding"))).toBe("int4/ddr/0");
    expect(plan.l2).toEqual({ words: 33 * 256, budgetWords: 57344 });
  });

  it("gives a tied LM head its own stream policy next to the embedding table", () => {
    const both = plan.tensors.filter((t) => t.tensor === "model.embed_tokens.weight");
    expect(both.map((t) => [t.id, t.role, t.placement])).toEqual([
      ["model.embed_tokens.weight", "embedding", "ddr"],
      ["model.embed_tokens.weight@lm_head", "lm_head", "stream"],
    ]);
    for (const t of plan.tensors) expect(t.reason.length, t.tensor).toBeGreaterThan(10);
  });

  it("keeps a small embedding table BF16 and takes the group size from the options or the target", () => {
    const small = planLayout(
      llamaGraph({ ...LLAMA_32_1B, layers: 1, vocab: 256, hidden: 64, inter: 128, heads: 2, kvHeads: 1 }),
      target,
    );
    expect(summary(byName(small, "model.embed_tokens.weight", "embedding"))).toBe("bf16/ddr/0");
    const g64 = planLayout(
      g,
      loadTarget("kv260-v002", ["numeric.weights.scale_granularity=group", "numeric.weights.group_size=64"]),
    );
    expect(summary(byName(g64, "model.layers.0.mlp.up_proj.weight"))).toBe("int4/stream/64");
    expect(g64.options.groupSize).toBe(64);
    const g32 = planLayout(
      g,
      loadTarget("kv260-v002", ["numeric.weights.scale_granularity=group", "numeric.weights.group_size=64"]),
      { groupSize: 32 },
    );
    expect(summary(byName(g32, "model.layers.0.mlp.up_proj.weight"))).toBe("int4/stream/32");
    expect(summary(byName(g32, "model.norm.weight"))).toBe("bf16/l2/0");
    const bad = caught(() => planLayout(g, target, { groupSize: 48 as never }));
    expect([bad.code, bad.exitCode]).toEqual(["layout/group-size", ExitCode.USAGE]);
  });
});

describe("role policy on other families", () => {
  it("Gemma 3n style: per-layer embeddings off DDR (group 128), AltUp/LAuReL matrices streamed, coefficients in L2", () => {
    const plan = planLayout(gemmaNGraph(), target);
    const ple = byName(plan, "model.embed_tokens_per_layer.weight");
    expect(summary(ple)).toBe("int4/off-ddr/128");
    expect(ple.reason).toContain("host reads one row per token from weights.bin");
    expect(summary(byName(plan, "model.altup_projections.0.weight"))).toBe("int4/stream/0");
    expect(summary(byName(plan, "model.per_layer_model_projection.weight"))).toBe("int4/stream/0");
    expect(summary(byName(plan, "model.layers.0.altup.prediction_coefs.weight"))).toBe("bf16/l2/0");
    expect(summary(byName(plan, "model.layers.0.altup.modality_router.weight"))).toBe("int4/stream/0");
    const laurel = plan.tensors.filter((t) => t.role === "laurel" && t.shape!.length === 2);
    expect(laurel.length).toBeGreaterThan(0);
    for (const l of laurel) expect(l.placement).toBe("stream");
  });

  it("GPT-2 style: Conv1D weights are streamed with their logical [out, in] shape, positions stay BF16 rows", () => {
    const plan = planLayout(gpt2Graph({ hidden: 64, layers: 1, vocab: 50257, positions: 1024 }), target);
    const ca = byName(plan, "transformer.h.0.attn.c_attn.weight");
    expect([ca.transposed, ca.rows, ca.cols, ca.placement]).toEqual([true, 192, 64, "stream"]);
    expect(summary(byName(plan, "transformer.wpe.weight"))).toBe("bf16/ddr/0");
    expect(summary(byName(plan, "transformer.wte.weight", "embedding"))).toBe("int4/ddr/0");
    expect(summary(byName(plan, "transformer.h.0.attn.c_attn.bias"))).toBe("bf16/l2/0");
    expect(summary(byName(plan, "transformer.h.0.ln_1.weight"))).toBe("bf16/l2/0");
  });

  it("MoE: stacked experts carry their count and the share streamed per token; the router is streamed", () => {
    const plan = planLayout(moeGraph({ hidden: 64, inter: 96, experts: 8, topK: 2, vocab: 64 }), target);
    const gate = byName(plan, "model.layers.0.mlp.experts.gate_proj");
    expect([gate.experts, gate.rows, gate.cols, gate.perToken]).toEqual([8, 96, 64, 0.25]);
    expect(summary(byName(plan, "model.layers.0.mlp.router.weight"))).toBe("int4/stream/0");
    const oss = planLayout(gptOssGraph(), target);
    const gu = oss.tensors.find((t) => t.role === "expert_gate_up")!;
    expect(gu.transposed).toBe(true);
    expect(gu.experts).toBeGreaterThan(1);
    expect(summary(oss.tensors.find((t) => t.role === "sinks")!)).toBe("bf16/l2/0");
  });

  it("MLA: the low-rank projections and kv_b are streamed", () => {
    const plan = planLayout(mlaGraph(), target);
    for (const role of ["attn_q_a", "attn_q_b", "attn_kv_a", "attn_kv_b"]) {
      for (const p of plan.tensors.filter((t) => t.role === role)) expect(summary(p)).toBe("int4/stream/0");
    }
  });
});

describe("overrides", () => {
  const g = llamaGraph({ ...LLAMA_32_1B, layers: 2 });

  it("apply by glob and by role, in order, and record why", () => {
    const plan = planLayout(g, target, {
      overrides: [
        parseLayoutOverride("model.layers.*.mlp.down_proj.weight=group:32"),
        parseLayoutOverride("role:lm_head=group:128,scale:f32"),
        { match: "model.layers.1.*layernorm.weight", placement: "ddr" },
        parseLayoutOverride("model.layers.1.mlp.down_proj.weight=group:row"),
      ],
    });
    expect(byName(plan, "model.layers.0.mlp.down_proj.weight").group).toBe(32);
    expect(byName(plan, "model.layers.1.mlp.down_proj.weight").group).toBe(0);
    expect(byName(plan, "model.layers.0.mlp.down_proj.weight").reason).toContain("override");
    const head = byName(plan, "model.embed_tokens.weight", "lm_head");
    expect([head.group, head.scaleDtype]).toEqual([128, "f32"]);
    expect(byName(plan, "model.embed_tokens.weight", "embedding").group).toBe(0);
    expect(byName(plan, "model.layers.1.input_layernorm.weight").placement).toBe("ddr");
    expect(byName(plan, "model.layers.0.input_layernorm.weight").placement).toBe("l2");
  });

  it("warn when they match nothing", () => {
    const plan = planLayout(g, target, { overrides: [parseLayoutOverride("model.vision.*=format:bf16")] });
    expect(plan.warnings?.map((w) => w.code)).toEqual(["layout/override-unused"]);
  });

  it("reject what the engines cannot consume (exit 1)", () => {
    const cases: [string, string][] = [
      ["model.layers.0.mlp.up_proj.weight=format:bf16", "streamed weights must be int4"],
      ["model.layers.0.mlp.up_proj.weight=placement:ddr", "must be streamed"],
      ["model.norm.weight=format:int4", "cannot be pinned"],
      ["model.norm.weight=placement:off-ddr", "only row tables"],
      ["model.norm.weight=placement:stream,format:int4", "only matrices"],
    ];
    for (const [text, why] of cases) {
      const e = caught(() => planLayout(g, target, { overrides: [parseLayoutOverride(text)] }));
      expect([e.code, e.exitCode], text).toEqual(["layout/override", ExitCode.USAGE]);
      expect(e.message, text).toContain(why);
    }
    for (const bad of ["nothing", "x=", "x=group", "x=group:48", "x=colour:red", "x=format:int8"]) {
      expect(caught(() => parseLayoutOverride(bad)).code, bad).toBe("layout/override");
    }
  });
});

describe("folding and the L2 budget", () => {
  const g = llamaGraph({ ...LLAMA_32_1B, layers: 2, tied: false, normOffset: 1 });

  it("foldableNorms lists every RMSNorm read only by projections, with the Gemma offset", () => {
    const c = foldableNorms(g);
    expect(c.map((x) => [x.norm, x.into.length, x.offset])).toEqual([
      ["model.layers.0.input_layernorm.weight", 3, 1],
      ["model.layers.0.post_attention_layernorm.weight", 2, 1],
      ["model.layers.1.input_layernorm.weight", 3, 1],
      ["model.layers.1.post_attention_layernorm.weight", 2, 1],
      ["model.norm.weight", 1, 1],
    ]);
    expect(c[4]!.into).toEqual(["lm_head.weight"]);
    // A q/k norm (per head, feeding rope) or a Gemma post-norm (feeding an add) is not a candidate.
    expect(foldableNorms(gemmaNGraph()).some((x) => x.norm.includes("q_norm"))).toBe(false);
  });

  it("marks the folded norms and stores nothing for them", () => {
    const folded = new Set(["model.layers.0.input_layernorm.weight", "model.norm.weight"]);
    const plan = planLayout(g, target, { folded });
    const n = byName(plan, "model.layers.0.input_layernorm.weight");
    expect([n.placement, n.foldOffset, n.bytes]).toEqual(["folded", 1, 0]);
    expect(n.foldedInto).toEqual([
      "model.layers.0.self_attn.k_proj.weight",
      "model.layers.0.self_attn.q_proj.weight",
      "model.layers.0.self_attn.v_proj.weight",
    ]);
    expect(plan.l2!.words).toBe(3 * 256);
    const e = caught(() => planLayout(g, target, { folded: new Set(["model.layers.0.mlp.up_proj.weight"]) }));
    expect([e.code, e.exitCode]).toEqual(["layout/fold", ExitCode.INTERNAL]);
  });

  it("moves the largest vectors to DDR when the pinned ones exceed the L2 budget", () => {
    const plan = planLayout(g, target, { l2BudgetWords: 1000 });
    const pinned = plan.tensors.filter((t) => t.placement === "l2");
    expect(pinned.length).toBe(3);
    expect(plan.l2).toEqual({ words: 768, budgetWords: 1000 });
    expect(plan.warnings?.[0]?.code).toBe("layout/l2-spill");
    expect(plan.tensors.filter((t) => t.role === "norm" && t.placement === "ddr").length).toBe(2);
  });
});
