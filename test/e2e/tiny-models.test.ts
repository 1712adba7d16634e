/**
 * Every tiny model of examples/tiny compiles offline, its functional simulation (exact mode) picks
 * the same tokens as the golden reference run on the same dequantized weights, and — when gcc is
 * installed — the generated C driver, co-simulated against the simulator on golden.json's prompt,
 * replays the program exactly as the simulator does and (its exact build) generates the golden tokens.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasTool, runCli, TINY_DIR, TINY_FAMILIES, tempDir } from "./helpers.js";

const gcc = hasTool("gcc");
if (!gcc)
  console.warn(
    "test/e2e/tiny-models: gcc is not installed; co-simulation of the tiny models is skipped (apt-get install gcc)",
  );

/** Families whose end-to-end validation is a known open bug (tracked in the project's issues). */
const KNOWN_OPEN: Readonly<Record<string, string>> = {};
for (const [f, why] of Object.entries(KNOWN_OPEN)) console.warn(`test/e2e/tiny-models: ${f} skipped: ${why}`);

describe("tiny models compile, validate and co-simulate", () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    t = await tempDir("pccxc-e2e-tiny-");
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it("has a tiny model per family", () => {
    expect(TINY_FAMILIES.length).toBeGreaterThanOrEqual(10);
  });

  for (const [f, why] of Object.entries(KNOWN_OPEN)) it.skip(`${f}: open bug — ${why}`, () => {});

  for (const family of TINY_FAMILIES.filter((f) => !(f in KNOWN_OPEN))) {
    it(`${family}: compile, functional exact tokens = golden${gcc ? ", cosim" : ""}`, async () => {
      const out = join(t.dir, family);
      const r = await runCli([
        "compile",
        join(TINY_DIR, family),
        "-o",
        out,
        "--validate",
        "on",
        "--tokens",
        "8",
        "--json",
        "-q",
        "--offline",
      ]);
      // warnings may appear (e.g. checkpoint tensors the graph does not read); errors may not
      expect(r.stderr).not.toContain("error[");
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s.validation.verdict).toBe("passed");
      expect(s.performance.decodeTokensPerSecond).toBeGreaterThan(0);
      const golden = JSON.parse(await readFile(join(out, "golden.json"), "utf8")) as {
        prompt: number[];
        tokens: number[];
      };
      expect(golden.tokens).toHaveLength(8);
      const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
      expect(report.validation.verdict).toBe("pass");
      expect(report.validation.golden.tokensEqual).toBe(true);
      // measured and reported: the hardware numeric mode and the quantization-only error
      for (const e of [report.validation.hardware, report.validation.quantization]) {
        expect(e.steps).toBe(8);
        expect(e.minCosine).toBeGreaterThan(0);
        expect(e.minCosine).toBeLessThanOrEqual(e.meanCosine);
        expect(e.meanCosine).toBeLessThanOrEqual(1 + 1e-12);
      }
      expect(report.validation.notes).toEqual([]);
      // weights.json's per-tensor quantization error, lowest SNR first, in the report too
      const wj = JSON.parse(await readFile(join(out, "weights.json"), "utf8"));
      expect(report.quantization.tensors).toBe(wj.quantization.length);
      expect(report.quantization.tensors).toBeGreaterThan(0);
      const snr = report.quantization.entries.map((e: { snrDb: number | null }) => e.snrDb ?? Infinity);
      expect(snr).toEqual([...snr].sort((a: number, b: number) => a - b));
      expect(report.quantization.minSnrDb).toBe(snr[0]);
      if (!gcc) return;
      // The C driver on golden.json's prompt (docs/driver.md §5): as shipped, it replays the program
      // exactly as the simulator's hardware mode does (tokens, every MMIO write and DataMover
      // command); its PCCX_EXACT build, against the exact mode, generates the golden tokens.
      const c = await runCli([
        "cosim",
        out,
        "--prompt",
        golden.prompt.join(","),
        "--tokens",
        "8",
        "--json",
        "-q",
      ]);
      expect(c.stderr).not.toContain("error[");
      expect(c.code).toBe(0);
      const cosim = JSON.parse(c.stdout);
      expect(cosim.golden).toEqual(golden.tokens);
      expect(cosim.goldenEqual).toBe(true);
      expect(
        cosim.passes.map((p: { numeric: string; failures: string[] }) => [p.numeric, p.failures]),
      ).toEqual([
        ["hardware", []],
        ["exact", []],
      ]);
      expect(cosim.passes[1].driverTokens).toEqual([golden.tokens]);
    });
  }
});
