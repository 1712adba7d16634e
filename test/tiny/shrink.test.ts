import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ParsedConfig, parseConfigText } from "../../src/parser/config/index.js";
import { resolve } from "../../src/resolver/index.js";
import { minimumLayers, resample, shrinkConfig, tokenMapping } from "../../src/tiny/index.js";
import { catchPccx, configDirs, EXAMPLES, exampleJson, parsedFrom, SHARED } from "../features/helpers.js";

/** Test sequences: a 6-token prompt plus 6 decoded tokens. */
const SEQUENCE = 12;

function shrinkAndCheck(source: ParsedConfig) {
  const { config, plan } = shrinkConfig(source);
  const text = `${JSON.stringify(config, null, 2)}\n`;
  const tiny = parseConfigText(text, "config.json");
  const { graph } = resolve(tiny);
  const s = source.text;
  const t = tiny.text;
  expect(t.family).toBe(s.family);
  expect(tiny.modelType).toBe(source.modelType);
  expect(t.num_hidden_layers).toBe(plan.layers);
  expect(t.hidden_size).toBe(64);
  expect(t.vocab_size).toBe(256);
  // Kind of attention kept: MHA stays MHA, MQA stays MQA, GQA stays grouped.
  const kind = (heads: number, kv: number) => (kv === heads ? "mha" : kv === 1 ? "mqa" : "gqa");
  expect(kind(t.num_attention_heads, t.num_key_value_heads)).toBe(
    kind(s.num_attention_heads, s.num_key_value_heads),
  );
  // Layer pattern kept: a global layer exists when the source mixes types; windows matter in tests.
  if (s.layer_types.includes("sliding_attention")) {
    expect(t.layer_types).toContain("sliding_attention");
    if (s.layer_types.includes("full_attention")) expect(t.layer_types).toContain("full_attention");
    expect(t.sliding_window!).toBeLessThan(SEQUENCE);
  }
  expect(t.layer_types).toEqual(s.layer_types.slice(0, plan.layers));
  // KV sharing kept, for both layer types when the source shares both.
  const sharedSrc = s.layer_kv_shared_from.filter((x) => x !== null).length;
  const sharedTiny = t.layer_kv_shared_from.filter((x) => x !== null);
  expect(sharedTiny.length > 0).toBe(sharedSrc > 0);
  if (sharedSrc > 0) expect(new Set(sharedTiny.map((l) => t.layer_types[l!])).size).toBe(2);
  // MoE: fewer experts, top-k below them, group limits still limiting.
  if (s.moe) {
    const m = t.moe!;
    expect(m.num_experts).toBeLessThanOrEqual(8);
    expect(m.num_experts_per_tok).toBeLessThan(m.num_experts);
    if (s.moe.n_group && s.moe.n_group > 1) expect(m.topk_group!).toBeLessThan(m.n_group!);
    expect(t.layer_mlp.some((x) => x !== "dense")).toBe(true);
    if (s.layer_mlp[0] === "dense" && s.layer_mlp.includes("moe")) expect(t.layer_mlp[0]).toBe("dense");
  }
  if (s.mla) {
    expect(t.mla!.kv_lora_rank).toBe(32);
    expect(t.mla!.q_lora_rank).toBe(s.mla.q_lora_rank === null ? null : 32);
  }
  if (s.gemma3n) {
    expect(t.gemma3n!.altup_num_inputs).toBe(s.gemma3n.altup_num_inputs);
    expect(t.gemma3n!.activation_sparsity_pattern.some((p) => p > 0)).toBe(true);
    expect(t.gemma3n!.activation_sparsity_pattern.some((p) => p === 0)).toBe(true);
  }
  if (s.gemma4) {
    expect(t.gemma4!.attention_k_eq_v).toBe(s.gemma4.attention_k_eq_v);
    expect(t.gemma4!.enable_moe_block).toBe(s.gemma4.enable_moe_block);
    expect(t.layer_types.at(-1)).toBe("full_attention");
  }
  // Special tokens inside the vocabulary; no quantization.
  for (const id of [...tiny.specialTokens.eos_token_id, tiny.specialTokens.bos_token_id ?? 0])
    expect(id).toBeLessThan(256);
  expect(tiny.quantization).toBeUndefined();
  expect(graph.weights.every((w) => w.dtype === "BF16" || w.dtype === "F32")).toBe(true);
  return { tiny, plan, graph };
}

function load(dir: string, name: string): ParsedConfig {
  const file = join(dir, name, "config.json");
  return parseConfigText(readFileSync(file, "utf8"), file);
}

describe("shrinking the shipped example configs", () => {
  it.each(configDirs(EXAMPLES))("%s", (name) => void shrinkAndCheck(load(EXAMPLES, name)));
});

const shared = configDirs(SHARED);
if (shared.length === 0) console.warn(`skipped: shrinking the shared configs (${SHARED} not found)`);
describe.skipIf(shared.length === 0)("shrinking every shared real config", () => {
  it.each(shared)("%s", (name) => void shrinkAndCheck(load(SHARED, name)));
});

describe("shrinking rules", () => {
  it("keeps the layer pattern: Gemma 3 needs 6 layers, Gemma 3n 10 (pattern + a shared range)", () => {
    expect(minimumLayers(parsedFrom(exampleJson("google__gemma-3-4b-it")).text).min).toBe(6);
    expect(minimumLayers(parsedFrom(exampleJson("google__gemma-3n-E2B-it")).text).min).toBe(10);
    expect(minimumLayers(parsedFrom(exampleJson("meta-llama__Llama-3.2-1B")).text).min).toBe(2);
    const { tiny } = shrinkAndCheck(parsedFrom(exampleJson("google__gemma-3n-E2B-it")));
    expect(tiny.text.layer_kv_shared_from).toEqual([null, null, null, null, null, 3, 3, 3, 3, 4]);
    expect(tiny.text.gemma3n!.activation_sparsity_pattern).toEqual([
      0.95, 0.95, 0.95, 0.95, 0, 0, 0, 0, 0, 0,
    ]);
  });

  it("refuses too few layers with the reason (exit 1)", () => {
    const err = catchPccx(() =>
      shrinkConfig(parsedFrom(exampleJson("google__gemma-3-4b-it")), { layers: 3 }),
    );
    expect(err.code).toBe("tiny/too-few-layers");
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain("use at least 6");
    expect(
      catchPccx(() => shrinkConfig(parsedFrom(exampleJson("openai-community__gpt2")), { hidden: 60 })).code,
    ).toBe("tiny/bad-option");
  });

  it("writes dimension keys a sparse sub-config leaves to class defaults", () => {
    const { config } = shrinkConfig(parsedFrom(exampleJson("google__gemma-3-4b-it")));
    const tc = config.text_config as Record<string, unknown>;
    expect(tc).toMatchObject({
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 16,
      query_pre_attn_scalar: 16,
    });
    expect(config.vision_config).toEqual(exampleJson("google__gemma-3-4b-it").vision_config);
  });

  it("keeps GPT-2's key names and shrinks its learned position table", () => {
    const { config } = shrinkConfig(parsedFrom(exampleJson("openai-community__gpt2")));
    expect(config).toMatchObject({
      n_embd: 64,
      n_layer: 2,
      n_head: 4,
      n_positions: 128,
      n_ctx: 128,
      vocab_size: 256,
    });
    expect(config.hidden_size).toBeUndefined();
  });

  it("DeepSeek-V3: MLA ranks, 8 experts in 4 groups keeping 2, one dense layer, FP8 removed", () => {
    const { tiny } = shrinkAndCheck(parsedFrom(exampleJson("deepseek-ai__DeepSeek-V3")));
    expect(tiny.text.moe).toMatchObject({
      num_experts: 8,
      num_experts_per_tok: 2,
      n_group: 4,
      topk_group: 2,
    });
    expect(tiny.text.layer_mlp).toEqual(["dense", "moe"]);
    expect(tiny.text.mla).toEqual({
      q_lora_rank: 32,
      kv_lora_rank: 32,
      qk_nope_head_dim: 16,
      qk_rope_head_dim: 8,
      v_head_dim: 16,
      qk_head_dim: 24,
    });
  });

  it("special token ids move to the top of the vocabulary, distinct ones stay distinct", () => {
    const m = tokenMapping([1, 106, 262144], 256);
    expect([...m.entries()]).toEqual([
      [1, 255],
      [106, 254],
      [262144, 253],
    ]);
    expect(resample([1, 2, 3, 4, 5, 6], 3)).toEqual([1, 3, 5]);
  });
});
