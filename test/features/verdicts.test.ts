import { describe, expect, it } from "vitest";
import {
  ACTIVATION_GRID,
  EXACT_FUNCTIONS,
  type LedgerEntry,
  measureMaxAbsError,
  requireNoRejections,
  runFeatures,
} from "../../src/features/index.js";
import type { Op } from "../../src/resolver/graph/index.js";
import { normalIcdf } from "../../src/resolver/graph/index.js";
import { targetFromJson } from "../../src/target/index.js";
import { roundBf16 } from "../../src/util/float.js";
import { builtinJson } from "../target/helpers.js";
import { BASE, catchPccx, EXT, example, exampleJson, featuresOf, parsedFrom } from "./helpers.js";

const entriesOf = (es: readonly LedgerEntry[], feature: string) => es.filter((e) => e.feature === feature);
const opKinds = (graph: { ops: readonly Op[] }, ids: readonly string[]) => {
  const byId = new Map(graph.ops.map((o) => [o.id, o.kind]));
  return [...new Set(ids.map((i) => byId.get(i)))];
};

describe("activation functions follow the target's CVO codes", () => {
  const llama = example("meta-llama__Llama-3.2-1B");

  it("SiLU is a host fallback on kv260-v002 and the SILU extension on kv260-v002-ext", () => {
    const base = featuresOf(llama, BASE);
    const silu = entriesOf(base.ledger.entries, "activation").find((e) => e.key === "hidden_act")!;
    expect(silu.verdict.kind).toBe("host");
    expect(silu.cvo).toEqual(["SILU"]);
    expect((silu.verdict as { reason: string }).reason).toContain("kv260-v002 declares no CVO code");
    expect(opKinds(base.graph, silu.ops)).toEqual(["glu"]);
    expect(silu.ops).toHaveLength(16);

    const ext = featuresOf(llama, EXT);
    const silu2 = entriesOf(ext.ledger.entries, "activation").find((e) => e.key === "hidden_act")!;
    expect(silu2.verdict).toEqual({ kind: "lowered", how: "CVO SILU (x*sigmoid(x)) computes silu exactly" });
    expect(silu2.cvo).toEqual(["SILU"]);
    const product = entriesOf(ext.ledger.entries, "activation").find((e) =>
      e.detail.startsWith("gate × up"),
    )!;
    expect(product.verdict.kind).toBe("lowered");
    expect(product.cvo).toEqual(["MUL"]);
  });

  it("GELU-tanh is approximated by the SFU's x·σ(1.702x) with a measured bound", () => {
    const r = featuresOf(example("google__gemma-2-2b-it"), BASE);
    const gelu = entriesOf(r.ledger.entries, "activation").find((e) => e.key === "hidden_activation")!;
    expect(gelu.value).toBe("gelu_pytorch_tanh");
    const v = gelu.verdict;
    if (v.kind !== "approximated") throw new Error(`expected approximated, got ${v.kind}`);
    expect(v.method).toBe("CVO GELU: x*sigmoid(1.702*x)");
    expect(v.reference).toBe("gelu_tanh");
    expect(v.grid).toEqual(ACTIVATION_GRID);
    // Recompute independently at the reported worst point and on a coarse grid: the bound holds and is attained.
    const hw = (x: number) => x / (1 + Math.exp(-1.702 * x));
    const gt = (x: number) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)));
    expect(Math.abs(hw(v.worstAt!) - gt(v.worstAt!))).toBeCloseTo(v.maxAbsError, 4);
    for (let x = -10; x <= 10; x += 0.01)
      expect(Math.abs(hw(x) - gt(x))).toBeLessThanOrEqual(v.maxAbsError + 1e-12);
    expect(v.maxAbsError).toBeGreaterThan(0.02);
    expect(v.maxAbsError).toBeLessThan(0.021);
  });

  it("the bound comes from the target's formula: an exact GELU-tanh formula makes it lowered", () => {
    const json = builtinJson("kv260-v002");
    const gelu = json.isa.cvo_functions.find((f: { name: string }) => f.name === "GELU");
    gelu.formula = "0.5*x*(1+tanh(0.7978845608028654*(x+0.044715*x^3)))";
    const exactTarget = targetFromJson(json, "exact-gelu.json");
    const r = featuresOf(example("google__gemma-2-2b-it"), exactTarget);
    const e = entriesOf(r.ledger.entries, "activation").find((x) => x.key === "hidden_activation")!;
    expect(e.verdict.kind).toBe("lowered");
  });

  it("quick_gelu-style identities are exact; an unevaluable formula falls back to the host", () => {
    const quick = measureMaxAbsError((x) => x / (1 + Math.exp(-1.702 * x)), EXACT_FUNCTIONS.quick_gelu!);
    expect(quick.maxAbsError).toBeLessThan(1e-12);
    const json = builtinJson("kv260-v002");
    json.isa.cvo_functions.find((f: { name: string }) => f.name === "GELU").formula = "gelu_lut(x)";
    const r = featuresOf(example("google__gemma-2-2b-it"), targetFromJson(json, "lut.json"));
    const e = entriesOf(r.ledger.entries, "activation").find((x) => x.key === "hidden_activation")!;
    expect(e.verdict.kind).toBe("host");
  });

  it("gpt-oss's clamped SwiGLU uses GELU exactly (α = 1.702) but its clamps need MAX", () => {
    const base = featuresOf(example("openai__gpt-oss-20b"), BASE);
    const e = entriesOf(base.ledger.entries, "clamped-swiglu")[0]!;
    expect(e.verdict.kind).toBe("host");
    expect(e.cvo).toEqual(["MAX", "ADD", "MUL"]);
    expect(e.value).toEqual({ alpha: 1.702, limit: 7 });
    const ext = featuresOf(example("openai__gpt-oss-20b"), EXT);
    const e2 = entriesOf(ext.ledger.entries, "clamped-swiglu")[0]!;
    expect(e2.verdict.kind).toBe("lowered");
    expect(e2.cvo).toContain("GELU");
    expect(opKinds(ext.graph, e2.ops)).toEqual(["moe_experts"]);
  });
});

describe("attention features", () => {
  it("Mistral's window: every attention op, lowered, ring of 4096 slots", () => {
    const r = featuresOf(example("mistralai__Mistral-7B-v0.1"));
    const [e, ...rest] = entriesOf(r.ledger.entries, "sliding-window");
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ key: "sliding_window", value: 4096, paths: ["$.sliding_window"] });
    expect(e!.ops).toHaveLength(32);
    expect(opKinds(r.graph, e!.ops)).toEqual(["attention"]);
    expect((e!.verdict as { how: string }).how).toContain("KV ring has 4096 slots");
    expect(r.graph).toBe(r.input); // nothing rewritten
  });

  it("a window covering the whole context is rewritten to a causal mask (exact), idempotently", () => {
    const raw = exampleJson("mistralai__Mistral-7B-v0.1");
    raw.sliding_window = raw.max_position_embeddings;
    const parsed = parsedFrom(raw);
    const r = featuresOf(parsed);
    const att = r.graph.ops.filter((o) => o.kind === "attention");
    expect(att.every((o) => o.kind === "attention" && o.mask.kind === "causal")).toBe(true);
    expect(r.input.ops.filter((o) => o.kind === "attention" && o.mask.kind === "sliding")).toHaveLength(32);
    const e = entriesOf(r.ledger.entries, "sliding-window")[0]!;
    expect(e.detail).toContain("≥ max_position_embeddings");
    const again = runFeatures(r.graph, parsed, BASE);
    expect(again.graph.ops).toEqual(r.graph.ops);
  });

  it("Qwen2.5's window is set but unused: ignored with the reason", () => {
    const e = entriesOf(featuresOf(example("Qwen__Qwen2.5-7B")).ledger.entries, "sliding-window")[0]!;
    expect(e.verdict).toEqual({ kind: "ignored", reason: "use_sliding_window is false" });
  });

  it("a graph that disagrees with layer_types is a resolver bug (exit 70)", () => {
    const parsed = example("google__gemma-2-2b-it");
    const { input } = featuresOf(parsed);
    const broken = {
      ...input,
      ops: input.ops.map((o) => (o.kind === "attention" ? { ...o, mask: { kind: "causal" as const } } : o)),
    };
    const err = catchPccx(() => runFeatures(broken, parsed, BASE));
    expect(err.code).toBe("features/graph-mismatch");
    expect(err.exitCode).toBe(70);
  });

  it("softcaps: host without TANH, SCALE/TANH/SCALE with it", () => {
    const base = entriesOf(featuresOf(example("google__gemma-2-2b-it"), BASE).ledger.entries, "softcap");
    expect(base.map((e) => [e.key, e.value, e.verdict.kind])).toEqual([
      ["attn_logit_softcapping", 50, "host"],
      ["final_logit_softcapping", 30, "host"],
    ]);
    const ext = featuresOf(example("google__gemma-2-2b-it"), EXT);
    const caps = entriesOf(ext.ledger.entries, "softcap");
    expect(caps.map((e) => e.verdict.kind)).toEqual(["lowered", "lowered"]);
    expect(opKinds(ext.graph, caps[1]!.ops)).toEqual(["softcap"]);
    expect(opKinds(ext.graph, caps[0]!.ops)).toEqual(["attention"]);
  });

  it("GQA ratio, sinks, KV sharing, k = v, MLA", () => {
    const gqa = entriesOf(featuresOf(example("meta-llama__Llama-3.2-1B")).ledger.entries, "gqa")[0]!;
    expect(gqa.detail).toMatch(/^GQA 4:1 \(32 query heads, 8 KV heads\)/);
    const oss = featuresOf(example("openai__gpt-oss-20b"));
    expect(entriesOf(oss.ledger.entries, "attention-sinks")[0]!.ops).toHaveLength(24);
    const g3n = featuresOf(example("google__gemma-3n-E2B-it"));
    const kv = entriesOf(g3n.ledger.entries, "kv-sharing")[0]!;
    expect(kv.ops).toHaveLength(10);
    expect(kv.detail).toBe("layers 20-29 read the KV caches of layers 18, 19");
    const ds = featuresOf(example("deepseek-ai__DeepSeek-V2-Lite"));
    const mla = entriesOf(ds.ledger.entries, "mla")[0]!;
    expect(mla.detail).toContain("kv rank 512");
    expect(opKinds(ds.graph, mla.ops)).toEqual(["mla_attention"]);
  });

  it("use_bidirectional_attention: 'vision' ignored, 'all' rejected with exit 3", () => {
    const g4 = exampleJson("google__gemma-4-E2B-it");
    g4.text_config.use_bidirectional_attention = "vision";
    const parsed = parsedFrom(g4);
    const ok = featuresOf(parsed);
    expect(entriesOf(ok.ledger.entries, "bidirectional-attention")[0]!.verdict.kind).toBe("ignored");
    // The gemma plugins already refuse "all"; the feature verdict is the second line of defence.
    const all = { ...parsed, text: { ...parsed.text, use_bidirectional_attention: "all" as const } };
    const r = runFeatures(ok.input, all, BASE);
    const e = entriesOf(r.ledger.entries, "bidirectional-attention")[0]!;
    expect(e.verdict.kind).toBe("rejected");
    expect(catchPccx(() => requireNoRejections(r.ledger)).exitCode).toBe(3);
  });
});

describe("RoPE", () => {
  it("llama3 scaling per layer type; rotation host on the base, ROPE_ROTATE on ext", () => {
    const base = entriesOf(featuresOf(example("meta-llama__Llama-3.2-1B"), BASE).ledger.entries, "rope");
    expect(base).toHaveLength(1);
    expect(base[0]!.value).toMatchObject({ type: "llama3", factor: 32 });
    expect(base[0]!.verdict.kind).toBe("host");
    const ext = entriesOf(featuresOf(example("meta-llama__Llama-3.2-1B"), EXT).ledger.entries, "rope");
    expect(ext[0]!.verdict.kind).toBe("lowered");
    expect(ext[0]!.cvo).toEqual(["ROPE_ROTATE"]);
  });

  it("Gemma 3: one entry per layer type (local base vs global linear scaling)", () => {
    const r = entriesOf(featuresOf(example("google__gemma-3-4b-it")).ledger.entries, "rope");
    expect(r.map((e) => (e.value as { type: string }).type)).toEqual(["default", "linear"]);
    expect(r[0]!.detail).toMatch(/^sliding_attention: default θ=10000/);
  });

  it("DeepSeek's interleaved pairs stay on the host even with ROPE_ROTATE", () => {
    const e = entriesOf(featuresOf(example("deepseek-ai__DeepSeek-V2-Lite"), EXT).ledger.entries, "rope")[0]!;
    expect(e.verdict.kind).toBe("host");
    expect((e.verdict as { reason: string }).reason).toContain("rope_interleave");
  });

  it("Gemma 4 proportional rope is a partial rotary", () => {
    const e = entriesOf(featuresOf(example("google__gemma-4-E2B-it")).ledger.entries, "partial-rotary")[0]!;
    expect(e.value).toBe(0.25);
    expect(e.detail).toMatch(/^64 of 256 pairs per head rotate/);
  });
});

describe("MoE, norms, biases, Gemma 3n blocks", () => {
  it("routing is a host step; DeepSeek-V3 group limits get their own entry", () => {
    const r = featuresOf(example("deepseek-ai__DeepSeek-V3"));
    const route = entriesOf(r.ledger.entries, "moe-routing");
    expect(route.map((e) => e.key)).toEqual(["n_group", "num_experts_per_tok"]);
    expect(route.every((e) => e.verdict.kind === "host")).toBe(true);
    expect(route[0]!.value).toEqual({ count: 8, topk: 4, score: "top2_sum" });
    expect(route[1]!.detail).toMatch(/^sigmoid top-8 of 256 experts, renormalised, × 2.5, selection bias/);
    const experts = entriesOf(r.ledger.entries, "moe-experts");
    expect(experts.map((e) => e.key)).toEqual(["moe_intermediate_size", "n_shared_experts"]);
  });

  it("the norm flavour: (1+w) for Gemma 2, LayerNorm for GPT-2, per-head q/k norms for Qwen3", () => {
    const g2 = entriesOf(featuresOf(example("google__gemma-2-2b-it")).ledger.entries, "norm");
    expect(g2.map((e) => e.detail)).toEqual(["RMSNorm x̂·(1+w), eps 1e-6"]);
    const gpt2 = entriesOf(featuresOf(example("openai-community__gpt2")).ledger.entries, "norm");
    expect(gpt2[0]!.detail).toBe("LayerNorm with bias, eps 1e-5");
    const q3 = featuresOf(example("Qwen__Qwen3-0.6B"), EXT);
    const qk = entriesOf(q3.ledger.entries, "qk-norm")[0]!;
    expect(qk.ops).toHaveLength(56);
    expect(qk.verdict.kind).toBe("lowered");
    expect(qk.cvo).toEqual(["SQUARE", "REDUCE_SUM", "SCALE", "SQRT", "RECIP", "MUL"]);
  });

  it("Qwen2's implicit q/k/v biases are found in the graph", () => {
    const e = entriesOf(featuresOf(example("Qwen__Qwen2.5-7B")).ledger.entries, "biases")[0]!;
    expect(e.detail).toBe("biases on attn_q, attn_k, attn_v");
    expect(e.verdict.kind).toBe("lowered");
  });

  it("Gemma 3n: Gaussian top-k is approximated on ext with the measured BF16 constant error", () => {
    const ext = entriesOf(
      featuresOf(example("google__gemma-3n-E2B-it"), EXT).ledger.entries,
      "activation-sparsity",
    )[0]!;
    const v = ext.verdict;
    if (v.kind !== "approximated") throw new Error(v.kind);
    expect(v.maxAbsError).toBe(Math.abs(roundBf16(normalIcdf(0.95)) - normalIcdf(0.95)));
    expect(v.maxAbsError).toBeCloseTo(0.003584, 6);
    expect(ext.ops).toHaveLength(10);
    const base = entriesOf(
      featuresOf(example("google__gemma-3n-E2B-it"), BASE).ledger.entries,
      "activation-sparsity",
    )[0]!;
    expect(base.verdict.kind).toBe("host");
  });

  it("AltUp, LAuReL and per-layer embeddings point at their ops", () => {
    const r = featuresOf(example("google__gemma-3n-E2B-it"));
    const altup = entriesOf(r.ledger.entries, "altup");
    const mix = altup.find((e) => e.key === "altup_num_inputs")!;
    expect(opKinds(r.graph, mix.ops).sort()).toEqual(["altup_correct", "altup_predict"]);
    expect(mix.verdict.kind).toBe("lowered");
    const mm = altup.find((e) => e.key === "altup_correct_scale")!;
    expect(opKinds(r.graph, mm.ops)).toEqual(["magnitude_match"]);
    expect(opKinds(r.graph, entriesOf(r.ledger.entries, "laurel")[0]!.ops)).toEqual(["linear"]);
    const ple = entriesOf(r.ledger.entries, "per-layer-embeddings");
    const lookup = ple.find((e) => e.key === "hidden_size_per_layer_input")!;
    expect(opKinds(r.graph, lookup.ops).sort()).toEqual(["embedding", "linear"]);
    const gate = ple.find((e) => e.key === "")!;
    expect(opKinds(r.graph, gate.ops)).toEqual(["mul"]);
    expect(gate.ops).toHaveLength(30);
    expect(gate.verdict.kind).toBe("host");
  });
});

describe("quantization and rejections", () => {
  it("FP8 is read and requantized; an unsupported method is rejected (exit 3 from requireNoRejections)", () => {
    const fp8 = entriesOf(featuresOf(example("deepseek-ai__DeepSeek-V3")).ledger.entries, "quantization")[0]!;
    expect(fp8.verdict.kind).toBe("lowered");
    const raw = exampleJson("meta-llama__Llama-3.2-1B");
    raw.quantization_config = { quant_method: "gptq", bits: 4, group_size: 128 };
    const r = featuresOf(parsedFrom(raw, "gptq.json"));
    const q = entriesOf(r.ledger.entries, "quantization")[0]!;
    expect(q.verdict.kind).toBe("rejected");
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.code)).toEqual([
      "features/rejected",
    ]);
    const err = catchPccx(() => requireNoRejections(r.ledger));
    expect(err.exitCode).toBe(3);
    expect(err.code).toBe("features/rejected");
    expect(err.at).toEqual({ file: "gptq.json", jsonPath: "$.quantization_config" });
    expect(err.fix).toBeTruthy();
  });

  it("inert keys written by real repos are recognised with their reason", () => {
    const r = featuresOf(example("openai__gpt-oss-20b"));
    const e = entriesOf(r.ledger.entries, "inert-keys")[0]!;
    expect(e).toMatchObject({ key: "initial_context_length", value: 4096, verdict: { kind: "ignored" } });
  });
});

describe("every entry", () => {
  it.each([
    "meta-llama__Llama-3.2-1B",
    "google__gemma-3n-E2B-it",
    "deepseek-ai__DeepSeek-V2-Lite",
    "openai__gpt-oss-20b",
    "openai-community__gpt2",
  ])("%s: points at existing ops, lists paths present in the file, has a verdict", (name) => {
    for (const target of [BASE, EXT]) {
      const parsed = example(name);
      const r = featuresOf(parsed, target);
      const ids = new Set(r.graph.ops.map((o) => o.id));
      const paths = new Set(r.ledger.keys.map((k) => k.path));
      for (const e of r.ledger.entries) {
        for (const o of e.ops) expect(ids.has(o), `${e.feature} ${o}`).toBe(true);
        for (const p of e.paths) expect(paths.has(p), `${e.feature} ${p}`).toBe(true);
        if (e.verdict.kind === "approximated") expect(e.verdict.maxAbsError).toBeGreaterThan(0);
      }
      expect(r.ledger.target).toBe(target.fingerprint);
    }
  });
});
