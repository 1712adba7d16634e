/**
 * The Gemma / DeepSeek / gpt-oss plugins through the public resolve(): the registry picks them,
 * the checkpoint format (wrapper model_type, quantization_config) reaches them, and the graphs
 * equal those built directly (byte-identical JSON, deterministic).
 */
import { describe, expect, it } from "vitest";
import { parseConfigObject } from "../../../src/parser/config/index.js";
import { graphToJson, resolve } from "../../../src/resolver/index.js";
import { logicalParamCount } from "../../../src/resolver/plugins/index-b.js";
import { canonicalJson } from "../../../src/util/json.js";
import { buildGraph, EXAMPLE_CONFIGS, readConfig } from "./kit.js";

const CASES = [
  ["google__gemma-2-2b-it", "gemma2", 2_614_341_888],
  ["google__gemma-3-1b-it", "gemma3", 999_885_952],
  ["google__gemma-3-4b-it", "gemma3", 3_880_263_168],
  ["google__gemma-3n-E2B-it", "gemma3n", 4_456_156_768],
  ["google__gemma-4-E2B-it", "gemma4", 4_647_449_891],
  ["deepseek-ai__DeepSeek-V2-Lite", "deepseek_v2", 15_706_484_224],
  ["openai__gpt-oss-20b", "gpt_oss", 20_914_757_184],
] as const;

describe.each(CASES)("resolve(%s)", (model, plugin, params) => {
  it(`uses the ${plugin} plugin and gives the same graph as a direct build`, () => {
    const parsed = parseConfigObject(readConfig(EXAMPLE_CONFIGS, model), `${model}/config.json`);
    const r = resolve(parsed);
    expect(r.plugin).toBe(plugin);
    expect(logicalParamCount(r.graph)).toBe(params);
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const direct = canonicalJson(graphToJson(buildGraph(parsed)));
    expect(canonicalJson(graphToJson(r.graph))).toBe(direct);
    expect(canonicalJson(graphToJson(resolve(parsed).graph))).toBe(direct);
  });
});

describe("resolve() passes the checkpoint format", () => {
  it("gives the multimodal Gemma 3 its language_model.model prefix and V3 its FP8 scales", () => {
    const g3 = resolve(
      parseConfigObject(readConfig(EXAMPLE_CONFIGS, "google__gemma-3-4b-it"), "c.json"),
    ).graph;
    expect(g3.weights[0]?.name).toBe("language_model.model.embed_tokens.weight");
    const v3 = resolve(
      parseConfigObject(readConfig(EXAMPLE_CONFIGS, "deepseek-ai__DeepSeek-V3"), "c.json"),
    ).graph;
    expect(v3.weights.filter((w) => w.name.endsWith("weight_scale_inv")).length).toBeGreaterThan(40_000);
  });
});
