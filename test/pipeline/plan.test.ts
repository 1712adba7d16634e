import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode } from "../../src/diag/index.js";
import { plan } from "../../src/pipeline/plan.js";
import { loadTarget } from "../../src/target/index.js";
import { REPO_ROOT, runCli, TINY_DIR, tempDir } from "./helpers.js";

const LLAMA = join(TINY_DIR, "llama");
/** The KV dtype the built-in target defaults to (the note and the plan must say it). */
const KV_DEFAULT = loadTarget("kv260-v002").file.numeric.kv_cache.default;

describe("plan", () => {
  it("plans from the config alone: ledger, fit, program statistics and a rate per context", async () => {
    const t = await tempDir();
    try {
      // no safetensors at all: plan never needs weights
      await copyFile(join(LLAMA, "config.json"), join(t.dir, "config.json"));
      const r = await plan(join(t.dir, "config.json"), { contexts: [32, 128], context: 128, cwd: REPO_ROOT });
      expect(r.architecture).toMatchObject({
        modelType: "llama",
        plugin: "llama",
        layers: 2,
        hidden: 64,
        vocab: 256,
      });
      expect(r.contexts).toEqual([32, 128]);
      const [k] = r.targets;
      expect(k!.target.name).toBe("kv260-v002");
      expect(k!.verdict).toBe("fits");
      expect(k!.ledger?.rejected).toBe(0);
      expect(k!.layout).toMatchObject({ context: 128, groupSize: 0, kvDtype: KV_DEFAULT });
      expect(k!.layout!.fit.estimate).toBe(false); // exact: codegen ran and the DDR map was finalized
      expect(k!.program!["NPU instructions/token"]).toBeGreaterThan(0);
      const perf = k!.performance!;
      expect(perf.map((p) => p.context)).toEqual([32, 128]);
      // a longer context streams more KV rows per token: never faster
      expect(perf[1]!.decodeTokensPerSecond).toBeLessThanOrEqual(perf[0]!.decodeTokensPerSecond);
      expect(perf.every((p) => p.decodeTokensPerSecond > 0 && (p.prefillTokensPerSecond ?? 0) > 0)).toBe(
        true,
      );
      expect(k!.figures.decodeTokS).toBe(perf[1]!.decodeTokensPerSecond);
    } finally {
      await t.cleanup();
    }
  });

  it("compares targets side by side, and the extension target lowers what the base one runs on the host", async () => {
    const r = await runCli([
      "plan",
      LLAMA,
      "--context",
      "64",
      "--contexts",
      "64",
      "-t",
      "kv260-v002",
      "-t",
      "kv260-v002-ext",
    ]);
    expect(r.code).toBe(0);
    const table = r.stdout.split("\n").filter((l) => l.startsWith("|"));
    expect(table[0]).toMatch(/^\|\s+\|\s+kv260-v002 \|\s+kv260-v002-ext \|$/);
    expect(table.find((l) => l.startsWith("| verdict"))).toMatch(/fits \|\s+fits \|$/);
    expect(r.stdout).toContain("## kv260-v002@");
    expect(r.stdout).toContain("## kv260-v002-ext@");
    const j = await runCli([
      "plan",
      LLAMA,
      "--context",
      "64",
      "--contexts",
      "64",
      "-t",
      "kv260-v002",
      "-t",
      "kv260-v002-ext",
      "--json",
    ]);
    const out = JSON.parse(j.stdout);
    const [base, ext] = out.targets;
    expect(base.ledger.host).toBeGreaterThan(ext.ledger.host);
    expect(ext.program["host steps/token"]).toBeLessThan(base.program["host steps/token"]);
  });

  it("a model that does not fit is a verdict (exit 0) unless --strict (exit 3 with the computed advice)", async () => {
    const base = ["plan", LLAMA, "--context", "128", "--contexts", "128"];
    const fits = JSON.parse((await runCli([...base, "--json"])).stdout).targets[0];
    expect(fits.verdict).toBe("fits");
    // what if the DDR left one page less than the model needs
    const reserve = 1 << 30;
    const args = [
      ...base,
      "--set",
      `ddr.bytes=${reserve + fits.layout.fit.ddrBytes - 4096}`,
      "--set",
      `ddr.reserved_os_bytes=${reserve}`,
    ];
    const r = await runCli([...args, "--json"]);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout).targets[0];
    expect(t.verdict).toBe("does-not-fit");
    expect(t.layout.fit.ok).toBe(false);
    expect(t.layout.fit.overBy).toBe(4096);
    expect(
      t.layout.fit.advice.some((a: { kind: string; fits: boolean }) => a.kind === "context" && a.fits),
    ).toBe(true);
    // the what-if still has its rates
    expect(t.performance[0].decodeTokensPerSecond).toBeGreaterThan(0);
    const strict = await runCli([...args, "--strict"]);
    expect(strict.code).toBe(ExitCode.UNSUPPORTED);
    expect(strict.stderr).toContain("error[layout/ddr-overflow]");
    expect(strict.stderr).toMatch(/--context \d+ fits/);
  });

  it("reports a rejected feature as a verdict with its key and fix", async () => {
    const t = await tempDir();
    try {
      await mkdir(join(t.dir, "m"));
      const cfg = JSON.parse(await readFile(join(LLAMA, "config.json"), "utf8"));
      cfg.quantization_config = {
        quant_method: "gptq",
        bits: 4,
        group_size: 128,
        desc_act: false,
        sym: true,
      };
      await writeFile(join(t.dir, "m", "config.json"), JSON.stringify(cfg));
      const r = await plan(join(t.dir, "m"), { contexts: [64], context: 64 });
      const k = r.targets[0]!;
      expect(k.verdict).toBe("rejected");
      expect(k.rejected[0]).toMatchObject({ key: "quantization_config" });
      expect(k.rejected[0]!.fix.length).toBeGreaterThan(0);
      expect(k.program).toBeNull();
    } finally {
      await t.cleanup();
    }
  });
});
