/**
 * Golden sanity of every plugin on a hand-shrunk real config: seeded weights through the golden
 * reference; greedy decoding with the KV cache must equal recomputing the whole prefix without one
 * (the prompt is longer than the 3-token sliding windows, so windows, shared caches and MLA latents
 * all matter), the logits must be finite and not flat, and the family's features must be in the
 * graph that was run.
 */
import { describe, expect, it } from "vitest";
import type { ModelGraph } from "../../../src/resolver/graph/index.js";
import { isQuantCompanion } from "../../../src/resolver/plugins/index-b.js";
import { cacheConsistency, graphOf } from "./kit.js";
import { TINY } from "./tiny-configs.js";

const PROMPT = [3, 17, 5, 29, 11, 2, 40];
const STEPS = 5;

const kinds = (g: ModelGraph) => new Set(g.ops.map((o) => o.kind));
const attn = (g: ModelGraph) => g.ops.filter((o) => o.kind === "attention");
const has = (g: ModelGraph, name: string) => g.weights.some((w) => w.name === name);

/** The features each tiny config must still exercise. */
const FEATURES: Record<string, (g: ModelGraph) => boolean[]> = {
  gemma2: (g) => [
    attn(g).every((a) => a.kind === "attention" && a.softcap === 1.5),
    attn(g).some((a) => a.kind === "attention" && a.mask.kind === "sliding"),
    kinds(g).has("softcap"),
  ],
  gemma3: (g) => [
    has(g, "language_model.model.layers.0.self_attn.q_norm.weight"),
    g.ops.some((o) => o.kind === "rope" && o.rope.type === "linear"),
    attn(g).some((a) => a.kind === "attention" && a.mask.kind === "sliding"),
  ],
  gemma3n: (g) => [
    ["altup_predict", "altup_correct", "gaussian_topk", "magnitude_match", "mean"].every((k) =>
      kinds(g).has(k as never),
    ),
    attn(g).filter((a) => a.kind === "attention" && a.kv.source === "shared").length === 2,
    g.ops.some((o) => o.kind === "altup_correct" && o.coefClip === 0.2),
  ],
  gemma4: (g) => [
    attn(g).filter((a) => a.kind === "attention" && a.kv.source === "shared").length === 2,
    g.ops.some((o) => o.kind === "rope" && o.rope.type === "proportional" && o.rotaryDim === 16),
    g.weights.some((w) => w.role === "per_layer_embedding"),
    g.weights.find((w) => w.name === "model.language_model.layers.3.mlp.gate_proj.weight")?.shape[0] === 48,
  ],
  gemma4_moe: (g) => [
    g.ops.some((o) => o.kind === "moe_route" && o.perExpertScale !== undefined),
    !has(g, "model.language_model.layers.1.self_attn.v_proj.weight"),
    has(g, "model.language_model.layers.0.self_attn.v_proj.weight"),
    attn(g).some((a) => a.kind === "attention" && a.kvHeads === 1 && a.headDim === 16),
  ],
  deepseek_v2: (g) => [
    kinds(g).has("mla_attention"),
    has(g, "model.layers.0.self_attn.q_proj.weight"),
    g.ops.some((o) => o.kind === "moe_route" && o.groups?.score === "max" && o.routedScale === 1.5),
  ],
  deepseek_v3: (g) => [
    has(g, "model.layers.0.self_attn.q_a_proj.weight"),
    g.ops.some(
      (o) =>
        o.kind === "moe_route" &&
        o.scoring === "sigmoid" &&
        o.correctionBias &&
        o.groups?.score === "top2_sum",
    ),
    g.weights.some((w) => w.layer === 3 && w.unused !== undefined),
    g.weights.some((w) => w.dtype === "F8_E4M3") && g.weights.some(isQuantCompanion),
  ],
  gpt_oss: (g) => [
    attn(g).every((a) => a.kind === "attention" && a.sinks !== undefined),
    g.ops.some((o) => o.kind === "moe_experts" && o.act.fn === "clamped_swiglu" && o.act.limit === 0.6),
    g.weights.filter(isQuantCompanion).length === 2 * 2 * 2,
    attn(g).some((a) => a.kind === "attention" && a.mask.kind === "sliding"),
  ],
};

describe.each(Object.keys(TINY))("golden KV-cache consistency: tiny %s", (family) => {
  it("decodes with the cache exactly as recomputing every prefix", async () => {
    const { graph } = graphOf(TINY[family]!(), `${family}-tiny/config.json`);
    expect(FEATURES[family]!(graph).every(Boolean)).toBe(true);
    const r = await cacheConsistency(graph, 7, PROMPT, STEPS);
    expect(r.finite).toBe(true);
    expect(r.worst).toBeLessThan(1e-9);
    expect(r.spread).toBeGreaterThan(1e-3);
    expect(r.tokens).toHaveLength(STEPS);
  });
});
