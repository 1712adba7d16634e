import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode, isPccxError } from "../../src/diag/index.js";
import type { BatchModelResult, BatchResult } from "../../src/pipeline/batch.js";
import { expandInputs, inputName, outputDirName, sharedConfigs } from "../../src/pipeline/batch-inputs.js";
import { escapeXml, renderJunit } from "../../src/pipeline/junit.js";
import { tempDir } from "./helpers.js";

const model = (over: Partial<BatchModelResult>): BatchModelResult => ({
  model: "m",
  input: "m",
  status: "passed",
  exitCode: 0,
  details: [],
  verdict: "fits",
  figures: {},
  budget: [],
  durationMs: 1500,
  ...over,
});

describe("JUnit XML", () => {
  it("escapes the five XML specials and drops control characters", () => {
    expect(escapeXml(`a<b>&"c'\u0001d`)).toBe("a&lt;b&gt;&amp;&quot;c&apos;d");
  });

  it("writes one testcase per model: failures for user-facing reasons, errors for internal ones", () => {
    const r: BatchResult = {
      mode: "plan",
      target: "kv260-v002@0123456789abcdef",
      models: [
        model({ model: "ok-model" }),
        model({
          model: "big<model>",
          status: "failed",
          exitCode: ExitCode.UNSUPPORTED,
          code: "layout/ddr-overflow",
          reason: "does not fit: over by 1.26 GiB",
          details: ["fix: use a smaller model"],
          durationMs: 250,
        }),
        model({
          model: "buggy",
          status: "failed",
          exitCode: ExitCode.INTERNAL,
          code: "internal",
          reason: "internal error: x",
        }),
      ],
      passed: 1,
      failed: 2,
      exitCode: 70,
    };
    const xml = renderJunit(r);
    expect(
      xml.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="pccxc" tests="3" failures="1" errors="1" time="3.250">',
      ),
    ).toBe(true);
    expect(xml).toContain(
      '<testsuite name="pccxc batch plan kv260-v002@0123456789abcdef" tests="3" failures="1" errors="1" time="3.250" skipped="0">',
    );
    expect(xml).toContain('<testcase classname="pccxc.plan.kv260-v002" name="ok-model" time="1.500"/>');
    expect(xml).toContain(
      '<testcase classname="pccxc.plan.kv260-v002" name="big&lt;model&gt;" time="0.250">\n      <failure type="layout/ddr-overflow" message="does not fit: over by 1.26 GiB">does not fit: over by 1.26 GiB\nfix: use a smaller model</failure>\n    </testcase>',
    );
    expect(xml).toContain('<error type="internal" message="internal error: x">');
    expect(xml.match(/<testcase /g)).toHaveLength(3);
  });
});

describe("batch inputs", () => {
  it("expands @lists (comments, blank lines, paths relative to the list) and --shared folders", async () => {
    const t = await tempDir();
    try {
      const shared = join(t.dir, "shared");
      for (const n of ["b__two", "a__one", "no-config"]) await mkdir(join(shared, n), { recursive: true });
      await writeFile(join(shared, "a__one", "config.json"), "{}");
      await writeFile(join(shared, "b__two", "config.json"), "{}");
      expect(await sharedConfigs(shared)).toEqual([join(shared, "a__one"), join(shared, "b__two")]);
      await mkdir(join(t.dir, "lists"));
      await writeFile(
        join(t.dir, "lists", "models.txt"),
        "# models\n../shared/a__one\n\n  org/repo  # a hub id\n",
      );
      const got = await expandInputs(["x/y", "@lists/models.txt"], { cwd: t.dir, shared: "shared" });
      expect(got).toEqual([
        "x/y",
        join(shared, "a__one"),
        "org/repo",
        join(shared, "a__one"),
        join(shared, "b__two"),
      ]);
      const none = await expandInputs([], { cwd: t.dir }).catch((e: unknown) => e);
      expect(isPccxError(none) && none.exitCode).toBe(ExitCode.USAGE);
      const missing = await expandInputs(["@nope.txt"], { cwd: t.dir }).catch((e: unknown) => e);
      expect(isPccxError(missing) && missing.exitCode).toBe(ExitCode.IO);
      expect(inputName(join(shared, "a__one"), t.dir)).toBe("a__one");
      expect(inputName(join(shared, "a__one", "config.json"), t.dir)).toBe("a__one");
      expect(inputName("org/repo", t.dir)).toBe("org/repo");
      expect(outputDirName("org/repo")).toBe("org__repo");
    } finally {
      await t.cleanup();
    }
  });
});
