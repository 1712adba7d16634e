import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type ParsedConfig, parseConfigText } from "../../../src/parser/config/index.js";

const dir = fileURLToPath(new URL("../../../../shared/configs", import.meta.url));
const present = existsSync(dir);
if (!present) console.warn(`skipped: real config tests (${dir} not found)`);

const load = (name: string): ParsedConfig =>
  parseConfigText(readFileSync(`${dir}/${name}/config.json`, "utf8"), "config.json");

/** Per model: a few normalised values checked against the published hyperparameters. */
const EXPECT: Record<string, (p: ParsedConfig) => void> = {
  "meta-llama__Llama-3.2-1B": (p) => {
    expect(p.text.head_dim).toBe(64);
    expect(p.text.num_key_value_heads).toBe(8);
    expect(p.text.rope.full_attention).toMatchObject({ rope_type: "llama3", factor: 32, rope_theta: 500000 });
    expect(p.text.tie_word_embeddings).toBe(true);
  },
  "meta-llama__Llama-3.1-8B": (p) => {
    expect(p.text.head_dim).toBe(128); // 4096 / 32, no head_dim key
    expect(p.text.rope.full_attention).toMatchObject({ factor: 8, original_max_position_embeddings: 8192 });
    expect(p.text.tie_word_embeddings).toBe(false);
  },
  "meta-llama__Llama-3.2-3B": (p) => {
    expect(p.text.num_attention_heads).toBe(24);
    expect(p.text.intermediate_size).toEqual(Array(28).fill(8192));
  },
  "TinyLlama__TinyLlama-1.1B-Chat-v1.0": (p) => {
    expect(p.text.num_key_value_heads).toBe(4);
    expect(p.text.mlp_bias).toBe(false);
    expect(p.defaultsApplied["$.mlp_bias"]).toBe(false);
    expect(p.text.rope.full_attention?.rope_type).toBe("default");
  },
  "HuggingFaceTB__SmolLM2-135M-Instruct": (p) => {
    expect(p.text.num_key_value_heads).toBe(3);
    expect(p.unknownKeys).toEqual(["$.is_llama_config", "$.rope_interleaved"]);
    expect(p.nonSemanticKeys).toContain('$["transformers.js_config"]');
  },
  "Qwen__Qwen2.5-7B": (p) => {
    expect(p.text.attention_qkv_bias).toBe(true);
    expect(p.text.attention_out_bias).toBe(false);
    expect(p.text.sliding_window).toBeNull(); // use_sliding_window false
    expect(p.text.layer_types.every((t) => t === "full_attention")).toBe(true);
    expect(p.unknownKeys).toEqual(["$.use_mrope"]);
  },
  "Qwen__Qwen3-0.6B": (p) => {
    expect(p.text.head_dim).toBe(128);
    expect(p.text.tie_word_embeddings).toBe(true);
  },
  "Qwen__Qwen3-8B": (p) => expect(p.text.num_hidden_layers).toBe(36),
  "Qwen__Qwen3-30B-A3B": (p) => {
    expect(p.text.moe).toMatchObject({
      num_experts: 128,
      num_experts_per_tok: 8,
      moe_intermediate_size: 768,
    });
    expect(p.text.moe?.norm_topk_prob).toBe(true);
    expect(p.text.layer_mlp.every((m) => m === "moe")).toBe(true);
  },
  "mistralai__Mistral-7B-v0.1": (p) => {
    expect(p.text.sliding_window).toBe(4096);
    expect(new Set(p.text.layer_types)).toEqual(new Set(["sliding_attention"]));
  },
  "mistralai__Mistral-7B-v0.3": (p) => {
    expect(p.text.sliding_window).toBeNull();
    expect(p.text.vocab_size).toBe(32768);
  },
  "mistralai__Mixtral-8x7B-v0.1": (p) => {
    expect(p.text.moe).toMatchObject({
      num_experts: 8,
      num_experts_per_tok: 2,
      moe_intermediate_size: 14336,
    });
    expect(p.text.norm_eps).toBe(1e-5);
  },
  "microsoft__Phi-3-mini-4k-instruct": (p) => {
    expect(p.text.sliding_window).toBe(2047);
    expect(p.text.head_dim).toBe(96);
    expect(p.nonSemanticKeys).toContain("$.auto_map");
  },
  "microsoft__phi-4": (p) => {
    expect(p.text.num_key_value_heads).toBe(10);
    expect(p.text.rope.sliding_attention?.rope_theta).toBe(250000);
  },
  "google__gemma-2-2b-it": (p) => {
    expect(p.text.layer_types.slice(0, 4)).toEqual([
      "sliding_attention",
      "full_attention",
      "sliding_attention",
      "full_attention",
    ]);
    expect(p.text.attn_logit_softcapping).toBe(50);
    expect(p.text.final_logit_softcapping).toBe(30);
    expect(p.text.query_pre_attn_scalar).toBe(256);
    expect(p.text.hidden_act).toBe("gelu_tanh");
  },
  "google__gemma-3-1b-it": (p) => {
    const pattern = [...Array(5).fill("sliding_attention"), "full_attention"];
    expect(p.text.layer_types.slice(0, 12)).toEqual([...pattern, ...pattern]);
    expect(p.text.layer_types.filter((t) => t === "full_attention")).toHaveLength(4);
    expect(p.text.rope.sliding_attention?.rope_theta).toBe(10000);
    expect(p.text.rope.full_attention?.rope_theta).toBe(1000000);
  },
  "google__gemma-3-4b-it": (p) => {
    expect(p.modelType).toBe("gemma3");
    expect(p.text.model_type).toBe("gemma3_text");
    // sparse sub-config: Gemma3TextConfig defaults fill the rest
    expect(p.text.num_attention_heads).toBe(8);
    expect(p.text.num_key_value_heads).toBe(4);
    expect(p.text.vocab_size).toBe(262208);
    expect(p.defaultsApplied["$.text_config.num_attention_heads"]).toBe(8);
    expect(p.text.rope.full_attention).toMatchObject({ rope_type: "linear", factor: 8, rope_theta: 1e6 });
    expect(p.text.rope.sliding_attention).toMatchObject({ rope_type: "default", rope_theta: 1e4 });
    expect(p.multimodal?.visionConfig).toEqual({
      present: true,
      path: "$.vision_config",
      model_type: "siglip_vision_model",
    });
  },
  "google__gemma-3n-E4B-it": (p) => {
    expect(p.text.intermediate_size).toHaveLength(35);
    expect(p.text.gemma3n?.altup_num_inputs).toBe(4);
    expect(p.text.gemma3n?.num_kv_shared_layers).toBe(15);
    expect(p.text.layer_kv_shared_from.slice(20)).toEqual([
      18, 18, 18, 18, 19, 18, 18, 18, 18, 19, 18, 18, 18, 18, 19,
    ]);
    expect(p.multimodal?.audioConfig?.model_type).toBe("gemma3n_audio");
  },
  "google__gemma-3n-E2B-it": (p) => {
    expect(p.text.intermediate_size).toEqual(Array(30).fill(8192));
    expect(p.text.gemma3n?.num_kv_shared_layers).toBe(10);
  },
  "google__gemma-4-E2B-it": (p) => {
    expect(p.text.head_dim).toBe(256);
    expect(p.text.gemma4?.global_head_dim).toBe(512);
    expect(p.text.layer_head_dim[4]).toBe(512);
    expect(p.text.layer_head_dim[3]).toBe(256);
    expect(p.text.intermediate_size[14]).toBe(6144);
    expect(p.text.intermediate_size[15]).toBe(12288); // double-wide MLP on KV-shared layers
    expect(p.text.rope.full_attention).toMatchObject({
      rope_type: "proportional",
      partial_rotary_factor: 0.25,
      rotary_dim: 128,
    });
    expect(p.serialization).toBe("transformers-5");
    expect(p.multimodal?.audioConfig?.model_type).toBe("gemma4_audio");
  },
  "google__gemma-4-E4B-it": (p) => {
    expect(p.text.num_key_value_heads).toBe(2);
    expect(p.text.gemma4?.num_kv_shared_layers).toBe(18);
  },
  "google__gemma-4-31B-it": (p) => {
    expect(p.text.gemma4?.num_global_key_value_heads).toBe(4);
    expect(p.text.layer_num_key_value_heads[5]).toBe(4);
    expect(p.text.layer_num_key_value_heads[4]).toBe(16);
    expect(p.multimodal?.audioConfig).toBeUndefined();
  },
  "google__gemma-4-26B-A4B": (p) => {
    expect(p.text.moe).toMatchObject({
      num_experts: 128,
      num_experts_per_tok: 8,
      moe_intermediate_size: 704,
    });
    expect(p.text.layer_mlp[0]).toBe("dense+moe");
  },
  "nvidia__Gemma-4-31B-IT-NVFP4": (p) => {
    expect(p.quantization).toMatchObject({
      method: "modelopt",
      quant_algo: "NVFP4",
      supported: false,
      producer: "modelopt",
    });
    expect(p.unknownKeys).toEqual([]);
  },
  "openai-community__gpt2": (p) => {
    expect(p.text.key_naming).toBe("gpt2");
    expect(p.text.hidden_size).toBe(768);
    expect(p.text.num_hidden_layers).toBe(12);
    expect(p.text.intermediate_size[0]).toBe(3072); // n_inner null → 4 × n_embd
    expect(p.text.norm_type).toBe("layernorm");
    expect(p.text.position_embedding).toBe("learned");
    expect(p.fieldSources.hidden_size).toEqual(["$.n_embd"]);
    expect(p.defaultsApplied["$.n_inner"]).toBeNull();
  },
  "deepseek-ai__DeepSeek-V2-Lite": (p) => {
    expect(p.text.mla).toMatchObject({ q_lora_rank: null, kv_lora_rank: 512, qk_rope_head_dim: 64 });
    expect(p.text.layer_mlp[0]).toBe("dense");
    expect(p.text.layer_mlp[1]).toBe("moe");
    expect(p.text.moe).toMatchObject({ scoring_func: "softmax", n_shared_experts: 2, norm_topk_prob: false });
  },
  "deepseek-ai__DeepSeek-V3": (p) => {
    expect(p.text.mla).toEqual({
      q_lora_rank: 1536,
      kv_lora_rank: 512,
      qk_nope_head_dim: 128,
      qk_rope_head_dim: 64,
      v_head_dim: 128,
      qk_head_dim: 192,
    });
    expect(p.text.moe).toMatchObject({
      scoring_func: "sigmoid",
      topk_method: "noaux_tc",
      n_group: 8,
      topk_group: 4,
    });
    expect(p.text.layer_mlp.indexOf("moe")).toBe(3);
    expect(p.text.rope.full_attention).toMatchObject({
      rope_type: "yarn",
      factor: 40,
      mscale: 1,
      rotary_dim: 64,
    });
    expect(p.quantization).toMatchObject({
      method: "fp8",
      fmt: "e4m3",
      weight_block_size: [128, 128],
      supported: true,
    });
  },
  "openai__gpt-oss-20b": (p) => {
    expect(p.quantization).toMatchObject({ method: "mxfp4", supported: true });
    expect(p.quantization?.modules_to_not_convert).toContain("lm_head");
    expect(p.text.gpt_oss).toMatchObject({ attention_sinks: true, swiglu_limit: 7 });
    expect(p.text.moe).toMatchObject({ num_experts: 32, num_experts_per_tok: 4, router_bias: true });
    expect(p.text.sliding_window).toBe(128);
  },
};

describe.skipIf(!present)("real published configs (../shared/configs)", () => {
  const names = present ? readdirSync(dir).filter((d) => existsSync(`${dir}/${d}/config.json`)) : [];

  it("holds the 28 configs listed in SOURCES.md, each with expectations here", () => {
    expect(names).toHaveLength(28);
    expect(names.filter((n) => !(n in EXPECT))).toEqual([]);
  });

  for (const name of Object.keys(EXPECT)) {
    it(`parses ${name}`, () => {
      const p = load(name);
      (EXPECT[name] as (p: ParsedConfig) => void)(p);
      // every key of the file is accounted for exactly once
      const all = [...p.consumedKeys, ...p.unknownKeys, ...p.nonSemanticKeys];
      expect(new Set(all).size).toBe(all.length);
      for (const k of Object.keys(p.raw)) expect(all).toContain(k.includes(".") ? `$["${k}"]` : `$.${k}`);
      // per-layer arrays always have one entry per layer
      const n = p.text.num_hidden_layers;
      for (const a of [p.text.layer_types, p.text.intermediate_size, p.text.layer_head_dim, p.text.layer_mlp])
        expect(a).toHaveLength(n);
    });
  }
});
