/**
 * transformers 4.x and 5.x write the same model differently (rope_parameters instead of
 * rope_theta/rope_scaling, dtype instead of torch_dtype, layer_types instead of pattern keys,
 * Gemma 4's per_layer_config in >= 5.15). Both must give the same TextConfig. The 5.x variants
 * below are written by hand from the 4.x files, following transformers 5's standardize_rope_params
 * and the config classes' __post_init__.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseConfigObject } from "../../../src/parser/config/index.js";

type Obj = Record<string, unknown>;
const examples = fileURLToPath(new URL("../../../examples/configs", import.meta.url));
const shared = fileURLToPath(new URL("../../../../shared/configs", import.meta.url));
if (!existsSync(shared))
  console.warn(`skipped: Gemma 4 31B per_layer_config equivalence (${shared} not found)`);
const read = (root: string, name: string): Obj =>
  JSON.parse(readFileSync(`${root}/${name}/config.json`, "utf8"));
const without = (o: Obj, ...keys: string[]): Obj =>
  Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const gemmaTypes = (n: number, period: number) =>
  Array.from({ length: n }, (_, i) => ((i + 1) % period === 0 ? "full_attention" : "sliding_attention"));

function expectSameText(v4: Obj, v5: Obj) {
  const a = parseConfigObject(v4, "config.json");
  const b = parseConfigObject(v5, "config.json");
  expect(a.serialization).toBe("transformers-4");
  expect(b.serialization).toBe("transformers-5");
  expect(b.text).toEqual(a.text);
  expect(b.unknownKeys).toEqual(a.unknownKeys);
  return { a, b };
}

const V5 = { transformers_version: "5.0.0", dtype: "bfloat16" };

describe("4.x and 5.x serialisations give the same TextConfig", () => {
  it("Llama 3.2 1B (llama3 rope scaling)", () => {
    const v4 = read(examples, "meta-llama__Llama-3.2-1B");
    const v5 = {
      ...without(v4, "rope_theta", "rope_scaling", "torch_dtype", "transformers_version"),
      ...V5,
      rope_parameters: {
        factor: 32.0,
        high_freq_factor: 4.0,
        low_freq_factor: 1.0,
        original_max_position_embeddings: 8192,
        rope_theta: 500000.0,
        rope_type: "llama3",
      },
    };
    const { b } = expectSameText(v4, v5);
    expect(b.fieldSources.rope).toContain("$.rope_parameters");
  });

  it("Gemma 3 4B wrapper (sparse text_config, local/global rope with linear scaling)", () => {
    const v4 = read(examples, "google__gemma-3-4b-it");
    const tc = v4.text_config as Obj;
    const v5 = {
      ...without(v4, "torch_dtype", "transformers_version"),
      ...V5,
      text_config: {
        ...without(tc, "rope_scaling"),
        layer_types: gemmaTypes(34, 6),
        rope_parameters: {
          full_attention: { factor: 8.0, rope_theta: 1000000.0, rope_type: "linear" },
          sliding_attention: { rope_theta: 10000.0, rope_type: "default" },
        },
      },
    };
    expectSameText(v4, v5);
  });

  it("Gemma 3 1B (sliding_window_pattern and rope_local_base_freq → layer_types and nested rope_parameters)", () => {
    const v4 = read(examples, "google__gemma-3-1b-it");
    const v5 = {
      ...without(
        v4,
        "rope_theta",
        "rope_local_base_freq",
        "rope_scaling",
        "sliding_window_pattern",
        "torch_dtype",
      ),
      ...V5,
      layer_types: gemmaTypes(26, 6),
      rope_parameters: {
        full_attention: { rope_theta: 1000000, rope_type: "default" },
        sliding_attention: { rope_theta: 10000, rope_type: "default" },
      },
      use_bidirectional_attention: false,
    };
    expectSameText(v4, v5);
  });

  it("Qwen3 0.6B (sliding_window nulled when use_sliding_window is false, layer_types written)", () => {
    const v4 = read(examples, "Qwen__Qwen3-0.6B");
    const v5 = {
      ...without(v4, "rope_theta", "rope_scaling", "torch_dtype", "transformers_version"),
      ...V5,
      sliding_window: null,
      layer_types: Array(28).fill("full_attention"),
      rope_parameters: { rope_theta: 1000000, rope_type: "default" },
    };
    expectSameText(v4, v5);
  });

  it("Qwen2.5 7B (sliding_window 131072 with use_sliding_window false)", () => {
    const v4 = read(examples, "Qwen__Qwen2.5-7B");
    const v5 = {
      ...without(v4, "rope_theta", "torch_dtype", "transformers_version"),
      ...V5,
      sliding_window: null,
      layer_types: Array(28).fill("full_attention"),
      rope_parameters: { rope_theta: 1000000.0, rope_type: "default" },
    };
    expectSameText(v4, v5);
  });

  it("Mistral 7B v0.1 (sliding window on every layer)", () => {
    const v4 = read(examples, "mistralai__Mistral-7B-v0.1");
    const v5 = {
      ...without(v4, "rope_theta", "torch_dtype", "transformers_version"),
      ...V5,
      rope_parameters: { rope_theta: 10000.0, rope_type: "default" },
    };
    const { a } = expectSameText(v4, v5);
    expect(a.text.layer_types.every((t) => t === "sliding_attention")).toBe(true);
  });

  it("DeepSeek-V3 (rope_scaling.type yarn → rope_parameters with rope_type; derived head_dim/qk_head_dim written)", () => {
    const v4 = read(examples, "deepseek-ai__DeepSeek-V3");
    const v5 = {
      ...without(v4, "rope_theta", "rope_scaling", "torch_dtype", "transformers_version"),
      ...V5,
      head_dim: 64,
      qk_head_dim: 192,
      rope_interleave: true,
      rope_parameters: {
        beta_fast: 32.0,
        beta_slow: 1.0,
        factor: 40.0,
        mscale: 1.0,
        mscale_all_dim: 1.0,
        original_max_position_embeddings: 4096,
        rope_theta: 10000,
        rope_type: "yarn",
        type: "yarn",
      },
    };
    expectSameText(v4, v5);
  });

  it("gpt-oss 20B (yarn with truncate)", () => {
    const v4 = read(examples, "openai__gpt-oss-20b");
    const v5 = {
      ...without(v4, "rope_theta", "rope_scaling", "transformers_version"),
      ...V5,
      rope_parameters: { ...(v4.rope_scaling as Obj), rope_theta: 150000 },
    };
    expectSameText(v4, v5);
  });

  it("Gemma 4 E2B: flat global_head_dim (5.5) and per_layer_config (>= 5.15) agree", () => {
    const flat = read(examples, "google__gemma-4-E2B-it");
    const tc = flat.text_config as Obj;
    const plc = Object.fromEntries(
      (tc.layer_types as string[]).flatMap((t, i) =>
        t === "full_attention" ? [[String(i), { head_dim: 512 }]] : [],
      ),
    );
    const v515 = {
      ...flat,
      transformers_version: "5.15.0",
      text_config: { ...without(tc, "global_head_dim", "num_global_key_value_heads"), per_layer_config: plc },
    };
    const a = parseConfigObject(flat, "config.json");
    const b = parseConfigObject(v515, "config.json");
    expect(b.text).toEqual(a.text);
    expect(b.unknownKeys).toEqual([]);
  });

  it.skipIf(!existsSync(shared))("Gemma 4 31B: k_eq_v global KV heads via per_layer_config", () => {
    const flat = read(shared, "google__gemma-4-31B-it");
    const tc = flat.text_config as Obj;
    const plc = Object.fromEntries(
      (tc.layer_types as string[]).flatMap((t, i) =>
        t === "full_attention" ? [[String(i), { head_dim: 512, num_key_value_heads: 4 }]] : [],
      ),
    );
    const v515 = {
      ...flat,
      text_config: { ...without(tc, "global_head_dim", "num_global_key_value_heads"), per_layer_config: plc },
    };
    const b = parseConfigObject(v515, "config.json");
    expect(b.text).toEqual(parseConfigObject(flat, "config.json").text);
    expect(b.text.gemma4?.num_global_key_value_heads).toBe(4);
  });
});
