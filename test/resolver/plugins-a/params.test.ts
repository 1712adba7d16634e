/**
 * Parameter counts computed from the resolved graphs against published totals. Exact published
 * figures (the Hub's safetensors parameter total, docs/resolver.md lists where each was found);
 * every stored tensor counts once (a tied head adds nothing).
 */
import { describe, expect, it } from "vitest";
import { countParams } from "../../../src/resolver/index.js";
import { configPath, EXAMPLE_CONFIGS, graphOf, HAVE_SHARED, SHARED_CONFIGS, warnSkipped } from "./tiny.js";

/** [folder, published total]. The first seven are the project's required checks. */
const PUBLISHED: readonly (readonly [string, number])[] = [
  ["openai-community__gpt2", 124_439_808],
  ["meta-llama__Llama-3.2-1B", 1_235_814_400],
  ["meta-llama__Llama-3.1-8B", 8_030_261_248],
  ["Qwen__Qwen3-0.6B", 596_049_920],
  ["mistralai__Mistral-7B-v0.1", 7_241_732_096],
  ["mistralai__Mixtral-8x7B-v0.1", 46_702_792_704],
  ["TinyLlama__TinyLlama-1.1B-Chat-v1.0", 1_100_048_384],
  ["meta-llama__Llama-3.2-3B", 3_212_749_824],
  ["Qwen__Qwen3-8B", 8_190_735_360],
  ["Qwen__Qwen3-30B-A3B", 30_532_122_624],
  ["Qwen__Qwen2.5-7B", 7_615_616_512],
  ["mistralai__Mistral-7B-v0.3", 7_248_023_552],
  ["microsoft__Phi-3-mini-4k-instruct", 3_821_079_552],
  ["microsoft__phi-4", 14_659_507_200],
  ["HuggingFaceTB__SmolLM2-135M-Instruct", 134_515_008],
];

warnSkipped("parameter counts from ../shared/configs");

describe.skipIf(!HAVE_SHARED)("parameter counts from the shared configs", () => {
  for (const [model, total] of PUBLISHED) {
    it(`${model}: ${total.toLocaleString("en-US")}`, () => {
      const p = configPath(SHARED_CONFIGS, model);
      expect(p, `${model} missing from ${SHARED_CONFIGS}`).toBeDefined();
      expect(countParams(graphOf(p!)).total).toBe(total);
    });
  }
});

describe("parameter counts from the shipped examples", () => {
  const shipped = PUBLISHED.filter(([m]) => configPath(EXAMPLE_CONFIGS, m) !== undefined);
  it("covers the required models that ship in examples/configs", () => {
    // gpt2, Llama-3.2-1B, Qwen3-0.6B, Mistral-7B-v0.1 and Mixtral ship; the rest are shared-only.
    expect(shipped.map(([m]) => m)).toEqual(
      expect.arrayContaining([
        "openai-community__gpt2",
        "meta-llama__Llama-3.2-1B",
        "Qwen__Qwen3-0.6B",
        "mistralai__Mistral-7B-v0.1",
        "mistralai__Mixtral-8x7B-v0.1",
      ]),
    );
  });
  for (const [model, total] of shipped) {
    it(`${model}: ${total.toLocaleString("en-US")}`, () => {
      expect(countParams(graphOf(configPath(EXAMPLE_CONFIGS, model)!)).total).toBe(total);
    });
  }
});

describe("parameters by role", () => {
  it("counts a tied head once and an untied head separately", () => {
    const tied = countParams(graphOf(configPath(EXAMPLE_CONFIGS, "meta-llama__Llama-3.2-1B")!));
    expect(tied.byRole.lm_head).toBeUndefined();
    expect(tied.byRole.embedding).toBe(128256 * 2048);
    const untied = countParams(graphOf(configPath(EXAMPLE_CONFIGS, "mistralai__Mistral-7B-v0.1")!));
    expect(untied.byRole.lm_head).toBe(32000 * 4096);
    expect(untied.byRole.embedding).toBe(32000 * 4096);
  });
  it("puts Mixtral's experts under expert roles: 32 layers × 8 experts × 3 × 4096 × 14336", () => {
    const c = countParams(graphOf(configPath(EXAMPLE_CONFIGS, "mistralai__Mixtral-8x7B-v0.1")!));
    const experts = (c.byRole.expert_gate ?? 0) + (c.byRole.expert_up ?? 0) + (c.byRole.expert_down ?? 0);
    expect(experts).toBe(32 * 8 * 3 * 4096 * 14336);
    expect(c.byRole.router).toBe(32 * 8 * 4096);
  });
});
