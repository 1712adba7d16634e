import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode } from "../../src/diag/index.js";
import { batch } from "../../src/pipeline/batch.js";
import { REPO_ROOT, runCli, TINY_DIR, tempDir } from "./helpers.js";

describe("batch", () => {
  it("continues past failures, gates on budgets, and writes JUnit and a baseline", async () => {
    const t = await tempDir();
    try {
      const broken = join(t.dir, "broken");
      await mkdir(broken);
      await writeFile(join(broken, "config.json"), '{"model_type": "llama", ');
      await writeFile(
        join(t.dir, "models.txt"),
        `# three models\n${join(TINY_DIR, "llama")}\n${join(TINY_DIR, "qwen3")}\nbroken\n`,
      );
      const budget = join(t.dir, "budget.json");
      await writeFile(
        budget,
        JSON.stringify({
          format: "pccxc-budget/1",
          models: { llama: { minDecodeTokS: 1e9 }, "qwen*": { maxDdrBytes: 1e9 } },
        }),
      );
      const junit = join(t.dir, "out", "junit.xml");
      const baseline = join(t.dir, "baseline.json");
      const r = await runCli(
        [
          "batch",
          "@models.txt",
          "--context",
          "64",
          "--budget",
          "budget.json",
          "--junit",
          junit,
          "--write-baseline",
          baseline,
        ],
        {},
        t.dir,
      );
      // llama breaches its budget (3), broken is invalid input (2): the largest code wins
      expect(r.code).toBe(ExitCode.UNSUPPORTED);
      const rows = r.stdout
        .split("\n")
        .filter((l) => l.startsWith("| ") && !l.startsWith("| model") && !l.startsWith("| -"));
      expect(rows).toHaveLength(3);
      expect(rows[0]).toMatch(
        /^\| llama\s+\| failed \| fits .*batch\/budget: budget breached: decode tok\/s [\d.]+ \\< 1000000000/,
      );
      expect(rows[1]).toMatch(/^\| qwen3\s+\| passed \| fits /);
      expect(rows[2]).toMatch(/^\| broken\s+\| failed \| error .*config\//);
      expect(r.stdout).toContain("1 passed, 2 failed (plan, kv260-v002@");
      expect(r.stderr).toContain("error[batch/failed]: 2 of 3 models failed");
      const xml = await readFile(junit, "utf8");
      expect(xml.match(/<testcase /g)).toHaveLength(3);
      expect(xml).toContain('tests="3" failures="2" errors="0"');
      expect(xml).toContain('<failure type="batch/budget"');
      const base = JSON.parse(await readFile(baseline, "utf8"));
      expect(base.format).toBe("pccxc-baseline/1");
      expect(Object.keys(base.models)).toEqual(["llama", "qwen3"]);
      expect(base.models.qwen3.decodeTokS).toBeGreaterThan(0);

      // the same figures against that baseline: no regression at 0 %; a faster baseline is a regression
      await writeFile(budget, JSON.stringify({ models: { "*": { maxRegressionPct: 0 } } }));
      const again = await runCli(
        [
          "batch",
          join(TINY_DIR, "qwen3"),
          "--context",
          "64",
          "--budget",
          "budget.json",
          "--baseline",
          baseline,
        ],
        {},
        t.dir,
      );
      expect(again.code).toBe(0);
      base.models.qwen3.decodeTokS *= 1.5;
      await writeFile(baseline, JSON.stringify(base));
      const slower = await runCli(
        [
          "batch",
          join(TINY_DIR, "qwen3"),
          "--context",
          "64",
          "--budget",
          "budget.json",
          "--baseline",
          baseline,
        ],
        {},
        t.dir,
      );
      expect(slower.code).toBe(ExitCode.UNSUPPORTED);
      expect(slower.stdout).toContain("vs baseline");
    } finally {
      await t.cleanup();
    }
  });

  it("the issue's gates: a decode drop over 3 % against the stored baseline, an L2 peak over a limit", async () => {
    const t = await tempDir();
    try {
      const model = join(TINY_DIR, "qwen3");
      const base = join(t.dir, "baseline.json");
      const args = ["batch", model, "--context", "64"];
      expect((await runCli([...args, "--write-baseline", base], {}, t.dir)).code).toBe(0);
      const stored = JSON.parse(await readFile(base, "utf8"));
      const decode = stored.models.qwen3.decodeTokS as number;
      const l2 = stored.models.qwen3.l2PeakWords as number;
      expect(l2).toBeGreaterThan(0);
      const gate = async (limits: Record<string, number>, baselineDecode: number) => {
        await writeFile(join(t.dir, "budget.json"), JSON.stringify({ models: { qwen3: limits } }));
        stored.models.qwen3.decodeTokS = baselineDecode;
        await writeFile(base, JSON.stringify(stored));
        return runCli([...args, "--budget", "budget.json", "--baseline", base], {}, t.dir);
      };
      // 2.9 % slower than the baseline passes a 3 % gate, 3.1 % fails it
      expect((await gate({ maxRegressionPct: 3 }, decode / 0.971)).code).toBe(0);
      const slow = await gate({ maxRegressionPct: 3 }, decode / 0.969);
      expect(slow.code).toBe(ExitCode.UNSUPPORTED);
      expect(slow.stdout).toMatch(/decode tok\/s [\d.]+ vs baseline [\d.]+: −3\.1 % \(limit −3\.0 %\)/);
      // the L2 peak at its limit passes, one word under fails
      expect((await gate({ maxL2PeakWords: l2 }, decode)).code).toBe(0);
      const big = await gate({ maxL2PeakWords: l2 - 1 }, decode);
      expect(big.code).toBe(ExitCode.UNSUPPORTED);
      expect(big.stdout).toContain(`L2 peak words ${l2} > ${l2 - 1}`);
    } finally {
      await t.cleanup();
    }
  });

  it("returns one result per model through the library API, with figures for the models that ran", async () => {
    const r = await batch([join(TINY_DIR, "mistral"), "no/such-model"], {
      context: 64,
      cwd: REPO_ROOT,
      offline: true,
    });
    expect(r.models.map((m) => [m.model, m.status])).toEqual([
      ["mistral", "passed"],
      ["no/such-model", "failed"],
    ]);
    expect(r.models[0]!.figures.decodeTokS).toBeGreaterThan(0);
    expect(r.models[0]!.figures.ddrBytes).toBeGreaterThan(0);
    expect(r.models[1]!.exitCode).not.toBe(ExitCode.INTERNAL);
    expect(r.exitCode).toBe(r.models[1]!.exitCode);
  });

  it("compiles each model into its own directory with --compile, and needs -o for it", async () => {
    const t = await tempDir();
    try {
      const out = join(t.dir, "out");
      const r = await batch([join(TINY_DIR, "llama"), join(TINY_DIR, "qwen2")], {
        mode: "compile",
        out,
        validate: "off",
        threads: 0,
        cwd: REPO_ROOT,
        offline: true,
      });
      expect(r.models.map((m) => [m.model, m.status, m.verdict])).toEqual([
        ["llama", "passed", "skipped"],
        ["qwen2", "passed", "skipped"],
      ]);
      for (const m of ["llama", "qwen2"]) {
        const manifest = JSON.parse(await readFile(join(out, m, "manifest.json"), "utf8"));
        expect(manifest.model.label).toBe(m);
        expect(manifest.outputs.some((o: { path: string }) => o.path === "program.bin")).toBe(true);
      }
      expect(r.models[0]!.figures.decodeTokS).toBeGreaterThan(0);
      const noOut = await runCli(["batch", join(TINY_DIR, "llama"), "--compile"]);
      expect(noOut.code).toBe(ExitCode.USAGE);
      expect(noOut.stderr).toContain("fix: add -o <dir>");
    } finally {
      await t.cleanup();
    }
  });
});
