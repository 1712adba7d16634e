/**
 * `pccxc batch --shared` in config-only mode over the published configs of ../shared/configs: each
 * model either passes (plan, program and rates on kv260-v002) or fails with its documented reason.
 * The 7-8B dense models, the MoE models and the 20B+ models do not fit the KV260's 3 GiB of usable
 * DDR at W4 (`layout/ddr-overflow`, exit 3); the NVFP4 checkpoint's quantization is rejected
 * (`features/rejected`, exit 3).
 */
import { describe, expect, it } from "vitest";
import { ExitCode } from "../../src/diag/index.js";
import { batch } from "../../src/pipeline/batch.js";
import { expandInputs } from "../../src/pipeline/batch-inputs.js";
import { REPO_ROOT, SHARED_CONFIGS, sharedAvailable } from "./helpers.js";

if (!sharedAvailable)
  console.warn(
    `test/e2e/shared-configs: ${SHARED_CONFIGS} does not exist; the batch over the shared configs is skipped`,
  );

const DOES_NOT_FIT = [
  "Qwen__Qwen2.5-7B",
  "Qwen__Qwen3-30B-A3B",
  "Qwen__Qwen3-8B",
  "deepseek-ai__DeepSeek-V2-Lite",
  "deepseek-ai__DeepSeek-V3",
  "google__gemma-4-26B-A4B",
  "google__gemma-4-31B-it",
  "meta-llama__Llama-3.1-8B",
  "microsoft__phi-4",
  "mistralai__Mistral-7B-v0.1",
  "mistralai__Mistral-7B-v0.3",
  "mistralai__Mixtral-8x7B-v0.1",
  "openai__gpt-oss-20b",
];
const EXPECTED_FAILURES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(DOES_NOT_FIT.map((m) => [m, "layout/ddr-overflow"])),
  "nvidia__Gemma-4-31B-IT-NVFP4": "features/rejected",
};

describe.skipIf(!sharedAvailable)("batch over ../shared/configs (config only)", () => {
  it("passes or fails each model with its documented reason", { timeout: 600_000 }, async () => {
    const inputs = await expandInputs([], { shared: SHARED_CONFIGS, cwd: REPO_ROOT });
    const r = await batch(inputs, { cwd: REPO_ROOT, offline: true });
    expect(r.mode).toBe("plan");
    const got = Object.fromEntries(r.models.map((m) => [m.model, m.status === "passed" ? "passed" : m.code]));
    const want = Object.fromEntries(r.models.map((m) => [m.model, EXPECTED_FAILURES[m.model] ?? "passed"]));
    expect(got).toEqual(want);
    for (const m of r.models) {
      if (m.status === "passed") {
        expect(m.figures.decodeTokS, m.model).toBeGreaterThan(0);
        expect(m.figures.ddrBytes, m.model).toBeLessThanOrEqual(3 * 2 ** 30);
      } else {
        expect(m.exitCode, m.model).toBe(ExitCode.UNSUPPORTED);
        expect(m.details.length, m.model).toBeGreaterThan(0);
      }
    }
    const llama = r.models.find((m) => m.model === "meta-llama__Llama-3.1-8B");
    if (llama) expect(llama.reason).toMatch(/does not fit: needs 4\.\d+ GiB of DDR, 3\.00 GiB available/);
    expect(r.exitCode).toBe(ExitCode.UNSUPPORTED);
  });
});
