import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ExitCode } from "../../../src/diag/index.js";
import {
  parseConfigObject,
  parseConfigText,
  parseGenerationConfigText,
  requireSupportedQuantization,
} from "../../../src/parser/config/index.js";
import { thrown } from "../../helpers/errors.js";

type Obj = Record<string, unknown>;
const examples = fileURLToPath(new URL("../../../examples/configs", import.meta.url));
const text = (name: string) => readFileSync(`${examples}/${name}/config.json`, "utf8");
const obj = (name: string): Obj => JSON.parse(text(name));

describe("wrong types and missing keys name the JSON path", () => {
  it("a string where a count is expected, inside text_config", () => {
    const c = obj("google__gemma-3-4b-it");
    (c.text_config as Obj).num_attention_heads = "8";
    const e = thrown(() => parseConfigObject(c, "config.json"));
    expect(e.code).toBe("config/invalid");
    expect(e.exitCode).toBe(ExitCode.INVALID_INPUT);
    expect(e.message).toBe(
      'config.json at $.text_config.num_attention_heads: expected a positive integer, got "8"',
    );
    expect(e.at?.jsonPath).toBe("$.text_config.num_attention_heads");
  });

  it("points at the line of the bad key when parsing text", () => {
    const t = text("meta-llama__Llama-3.2-1B").replace('"hidden_size": 2048', '"hidden_size": 2048.5');
    const e = thrown(() => parseConfigText(t, "config.json"));
    expect(e.message).toBe("config.json at $.hidden_size: expected a positive integer, got 2048.5");
    expect(e.at?.line).toBe(t.split("\n").findIndex((l) => l.includes('"hidden_size"')) + 1);
  });

  it("an element of a list", () => {
    const c = obj("google__gemma-3n-E2B-it");
    ((c.text_config as Obj).intermediate_size as unknown[])[3] = -1;
    const e = thrown(() => parseConfigObject(c, "config.json"));
    expect(e.message).toBe(
      "config.json at $.text_config.intermediate_size[3]: expected a positive integer, got -1",
    );
  });

  it("a missing required key of a top-level config", () => {
    const c = obj("Qwen__Qwen3-0.6B");
    delete c.num_attention_heads;
    const e = thrown(() => parseConfigObject(c, "config.json"));
    expect(e.message).toBe(
      'config.json at $.num_attention_heads: missing required key "num_attention_heads"',
    );
    expect(e.fix).toMatch(/truncated/);
  });

  it("a bad value inside rope_scaling", () => {
    const c = obj("meta-llama__Llama-3.2-1B");
    (c.rope_scaling as Obj).factor = "32";
    const e = thrown(() => parseConfigObject(c, "config.json"));
    expect(e.message).toBe('config.json at $.rope_scaling.factor: expected a positive number, got "32"');
  });

  it("an incomplete llama3 rope", () => {
    const c = obj("meta-llama__Llama-3.2-1B");
    delete (c.rope_scaling as Obj).low_freq_factor;
    const e = thrown(() => parseConfigObject(c, "config.json"));
    expect(e.message).toBe(
      'config.json at $.rope_scaling: rope type "llama3" needs "low_freq_factor", which is missing',
    );
  });
});

describe("model_type", () => {
  it("unknown → exit 3 with the supported list and the nearest match", () => {
    const c = { ...obj("meta-llama__Llama-3.2-1B"), model_type: "lama" };
    const e = thrown(() => parseConfigObject(c, "config.json"));
    expect(e.code).toBe("config/unsupported-model-type");
    expect(e.exitCode).toBe(ExitCode.UNSUPPORTED);
    expect(e.message).toContain('model_type "lama" is not supported (nearest: "llama")');
    expect(e.message).toContain("supported: deepseek_v2, deepseek_v3, gemma2, gemma3");
  });

  it("missing → config/invalid listing the supported types", () => {
    const e = thrown(() => parseConfigObject({ hidden_size: 8 }, "config.json"));
    expect(e.code).toBe("config/invalid");
    expect(e.message).toBe("config.json at $.model_type: missing model_type");
    expect(e.fix).toContain("gpt_oss");
  });

  it("a text_config of the wrong type inside a wrapper", () => {
    const c = obj("google__gemma-3-4b-it");
    (c.text_config as Obj).model_type = "gemma2";
    expect(thrown(() => parseConfigObject(c, "config.json")).message).toBe(
      'config.json at $.text_config.model_type: expected "gemma3_text" inside a gemma3 config, got "gemma2"',
    );
  });
});

describe("Python NaN / Infinity in the JSON text", () => {
  it("at a semantic key: line, column and JSON path", () => {
    const t = text("meta-llama__Llama-3.2-1B").replace('"rms_norm_eps": 1e-05', '"rms_norm_eps": NaN');
    const e = thrown(() => parseConfigText(t, "config.json"));
    const line = t.split("\n").findIndex((l) => l.includes("NaN")) + 1;
    expect(e.code).toBe("config/non-finite-number");
    expect(e.exitCode).toBe(ExitCode.INVALID_INPUT);
    expect(e.message).toMatch(
      new RegExp(`^config\\.json:${line}:19 at \\$\\.rms_norm_eps: NaN is not a JSON number`),
    );
    expect(e.at).toMatchObject({ line, column: 19, jsonPath: "$.rms_norm_eps" });
  });

  it("inside rope_scaling: -Infinity", () => {
    const t = text("meta-llama__Llama-3.2-1B").replace('"factor": 32.0', '"factor": -Infinity');
    expect(thrown(() => parseConfigText(t, "config.json")).at?.jsonPath).toBe("$.rope_scaling.factor");
  });

  it("at a non-semantic key it is accepted (the value is never used)", () => {
    const t = text("meta-llama__Llama-3.2-1B").replace(
      '"initializer_range": 0.02',
      '"initializer_range": Infinity',
    );
    const p = parseConfigText(t, "config.json");
    expect(p.raw.initializer_range).toBe(Number.POSITIVE_INFINITY);
    expect(p.nonSemanticKeys).toContain("$.initializer_range");
  });

  it("a syntax error: line and column", () => {
    const e = thrown(() =>
      parseConfigText('{\n  "model_type": "llama",\n  "hidden_size": 12,,\n}', "config.json"),
    );
    expect(e.code).toBe("config/invalid-json");
    expect(e.message).toBe("config.json:3:21: invalid JSON: expected a string key in object");
    expect(e.at).toMatchObject({ line: 3, column: 21 });
  });
});

describe("semantic checks", () => {
  it("num_attention_heads % num_key_value_heads", () => {
    const c = { ...obj("meta-llama__Llama-3.2-1B"), num_key_value_heads: 5 };
    expect(thrown(() => parseConfigObject(c, "config.json")).message).toBe(
      "config.json at $.num_key_value_heads: num_attention_heads (32) must be a multiple of the KV heads (5) of layer 0",
    );
  });

  it("hidden_size divisible by heads when head_dim is derived", () => {
    const c = { ...obj("mistralai__Mistral-7B-v0.1"), hidden_size: 4100 };
    expect(thrown(() => parseConfigObject(c, "config.json")).message).toMatch(
      /^config\.json at \$\.hidden_size: hidden_size \(4100\) must be divisible by num_attention_heads \(32\)/,
    );
  });

  it("layer_types length must equal num_hidden_layers", () => {
    const c = { ...obj("openai__gpt-oss-20b") };
    c.layer_types = (c.layer_types as string[]).slice(1);
    expect(thrown(() => parseConfigObject(c, "config.json")).message).toBe(
      "config.json at $.layer_types: expected 24 entries (num_hidden_layers), got 23",
    );
  });

  it("an unsupported layer type is exit 3", () => {
    const c = { ...obj("openai__gpt-oss-20b") };
    c.layer_types = ["chunked_attention", ...(c.layer_types as string[]).slice(1)];
    const e = thrown(() => parseConfigObject(c, "config.json"));
    expect(e.exitCode).toBe(ExitCode.UNSUPPORTED);
    expect(e.at?.jsonPath).toBe("$.layer_types[0]");
  });

  it("sliding layers need a window", () => {
    const c = { ...obj("openai__gpt-oss-20b"), sliding_window: null };
    expect(thrown(() => parseConfigObject(c, "config.json")).message).toMatch(
      /^config\.json at \$\.sliding_window: layer 0 is sliding_attention but no sliding_window is set/,
    );
  });

  it("experts per token cannot exceed experts", () => {
    const c = { ...obj("mistralai__Mixtral-8x7B-v0.1"), num_experts_per_tok: 9 };
    expect(thrown(() => parseConfigObject(c, "config.json")).message).toMatch(
      /experts per token \(9\) exceed/,
    );
  });

  it("both rope_scaling and rope_parameters is ambiguous", () => {
    const c = {
      ...obj("meta-llama__Llama-3.2-1B"),
      rope_parameters: { rope_type: "default", rope_theta: 1 },
    };
    expect(thrown(() => parseConfigObject(c, "config.json")).at?.jsonPath).toBe("$.rope_scaling");
  });
});

describe("unknown keys are kept and reported, never fatal", () => {
  it("at top level and inside text_config and rope dicts", () => {
    const c = obj("google__gemma-3-4b-it");
    c.my_flag = 1;
    (c.text_config as Obj).foo = [1];
    ((c.text_config as Obj).rope_scaling as Obj).bar = true;
    const p = parseConfigObject(c, "config.json");
    expect(p.unknownKeys).toEqual(["$.my_flag", "$.text_config.foo", "$.text_config.rope_scaling.bar"]);
    expect(p.raw.my_flag).toBe(1);
  });
});

describe("quantization_config", () => {
  const withQ = (q: unknown) => ({ ...obj("meta-llama__Llama-3.2-1B"), quantization_config: q });

  it("block FP8 and MXFP4 are supported", () => {
    expect(parseConfigObject(obj("deepseek-ai__DeepSeek-V3"), "c").quantization?.supported).toBe(true);
    expect(parseConfigObject(obj("openai__gpt-oss-20b"), "c").quantization?.supported).toBe(true);
  });

  it("GPTQ, AWQ, bitsandbytes, compressed-tensors are decoded and marked unsupported", () => {
    const gptq = parseConfigObject(
      withQ({ quant_method: "gptq", bits: 4, group_size: 128, desc_act: true }),
      "c",
    );
    expect(gptq.quantization).toMatchObject({
      method: "gptq",
      bits: 4,
      group_size: 128,
      desc_act: true,
      supported: false,
    });
    const awq = parseConfigObject(
      withQ({ quant_method: "awq", bits: 4, group_size: 64, version: "gemm" }),
      "c",
    );
    expect(awq.quantization).toMatchObject({ method: "awq", group_size: 64, supported: false });
    const bnb = parseConfigObject(
      withQ({ quant_method: "bitsandbytes", load_in_4bit: true, bnb_4bit_quant_type: "nf4" }),
      "c",
    );
    expect(bnb.quantization).toMatchObject({
      method: "bitsandbytes",
      bits: 4,
      bnb_4bit_quant_type: "nf4",
      supported: false,
    });
    const ct = parseConfigObject(
      withQ({ quant_method: "compressed-tensors", format: "pack-quantized" }),
      "c",
    );
    expect(ct.quantization).toMatchObject({
      method: "compressed-tensors",
      format: "pack-quantized",
      supported: false,
    });
  });

  it("rejection: requireSupportedQuantization, or the parse option", () => {
    const c = withQ({ quant_method: "gptq", bits: 4 });
    const p = parseConfigObject(c, "config.json");
    const e = thrown(() => requireSupportedQuantization(p));
    expect(e.code).toBe("config/unsupported-quantization");
    expect(e.exitCode).toBe(ExitCode.UNSUPPORTED);
    expect(e.message).toMatch(/^config\.json at \$\.quantization_config: GPTQ checkpoints are not supported/);
    expect(e.fix).toMatch(/unquantized/);
    expect(() =>
      requireSupportedQuantization(parseConfigObject(obj("deepseek-ai__DeepSeek-V3"), "c")),
    ).not.toThrow();
    expect(thrown(() => parseConfigObject(c, "c", { rejectUnsupportedQuantization: true })).code).toBe(
      "config/unsupported-quantization",
    );
  });

  it("a malformed quantization_config is invalid input", () => {
    const e = thrown(() =>
      parseConfigObject(withQ({ quant_method: "fp8", weight_block_size: [128] }), "config.json"),
    );
    expect(e.message).toBe(
      "config.json at $.quantization_config.weight_block_size: expected a list of two positive integers or null, got [128]",
    );
    expect(thrown(() => parseConfigObject(withQ({ bits: 4 }), "c")).at?.jsonPath).toBe(
      "$.quantization_config.quant_method",
    );
  });

  it("per-tensor FP8 is recognised but unsupported", () => {
    const p = parseConfigObject(withQ({ quant_method: "fp8", weight_block_size: null }), "c");
    expect(p.quantization).toMatchObject({ method: "fp8", supported: false });
  });
});

describe("generation_config.json", () => {
  it("reads ids and sampling settings, filling GenerationConfig defaults", () => {
    const g = parseGenerationConfigText(
      '{"bos_token_id": 128000, "eos_token_id": [128001, 128009], "do_sample": true, "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.45.0", "foo": 1}',
      "generation_config.json",
    );
    expect(g).toMatchObject({
      bos_token_id: 128000,
      eos_token_id: [128001, 128009],
      do_sample: true,
      temperature: 0.6,
    });
    expect(g.top_k).toBe(50);
    expect(g.max_length).toBe(20);
    expect(g.defaultsApplied["$.top_k"]).toBe(50);
    expect(g.unknownKeys).toEqual(["$.foo"]);
  });

  it("rejects bad values with the path", () => {
    const e = thrown(() => parseGenerationConfigText('{"top_k": "50"}', "generation_config.json"));
    expect(e.message).toBe('generation_config.json at $.top_k: expected a non-negative integer, got "50"');
  });
});
