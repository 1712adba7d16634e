import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode, isPccxError } from "../../src/diag/index.js";
import { MemoryLogger } from "../../src/diag/log.js";
import { compile } from "../../src/pipeline/compile.js";
import { loadTarget } from "../../src/target/index.js";
import { sha256Hex } from "../../src/util/hash.js";
import { REPO_ROOT, readTree, runCli, TINY_DIR, tempDir } from "./helpers.js";

const LLAMA = join(TINY_DIR, "llama");
/** The KV dtype the built-in target defaults to (the note and the plan must say it). */
const KV_DEFAULT = loadTarget("kv260-v002").file.numeric.kv_cache.default;

/** A copy of the tiny llama with one weight set to NaN (bf16 0x7FC0), found through the header. */
async function nanModel(dir: string, tensor: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of ["config.json", "generation_config.json"]) await copyFile(join(LLAMA, f), join(dir, f));
  const bytes = await readFile(join(LLAMA, "model.safetensors"));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Record<
    string,
    { data_offsets: [number, number] }
  >;
  const at = 8 + n + header[tensor]!.data_offsets[0];
  bytes[at] = 0xc0;
  bytes[at + 1] = 0x7f;
  await writeFile(join(dir, "model.safetensors"), bytes);
}

/** Names in `parent` that belong to the output `name`: itself or its temporary siblings. */
async function leftovers(parent: string, name: string): Promise<string[]> {
  return (await readdir(parent)).filter((e) => e === name || e.startsWith(`.${name}.tmp-`));
}

describe("compile: output directory", () => {
  it("refuses a non-empty output directory with exit 1 and the fix, and leaves it untouched", async () => {
    const t = await tempDir();
    try {
      const out = join(t.dir, "out");
      await mkdir(out);
      await writeFile(join(out, "keep.txt"), "mine");
      const r = await runCli(["compile", LLAMA, "-o", out, "--stop-after", "parse"]);
      expect(r.code).toBe(ExitCode.USAGE);
      expect(r.stderr).toContain("error[pipeline/out-not-empty]");
      expect(r.stderr).toContain("fix: pass --force");
      expect(await readdir(out)).toEqual(["keep.txt"]);
      const forced = await runCli(["compile", LLAMA, "-o", out, "--stop-after", "parse", "--force", "-q"]);
      expect(forced.code).toBe(0);
      expect(await readdir(out)).toEqual(["dump", "manifest.json"]);
      expect(await leftovers(t.dir, "out")).toEqual(["out"]);
    } finally {
      await t.cleanup();
    }
  });

  it("stops after a stage with the JSON dump of each stage that ran, from the config alone", async () => {
    const t = await tempDir();
    try {
      const model = join(t.dir, "cfg-only");
      await mkdir(model);
      await copyFile(join(LLAMA, "config.json"), join(model, "config.json"));
      const out = join(t.dir, "out");
      const r = await runCli([
        "compile",
        model,
        "-o",
        out,
        "--stop-after",
        "layout",
        "--json",
        "--context",
        "256",
      ]);
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary).toMatchObject({
        model: "cfg-only",
        stoppedAfter: "layout",
        stages: ["parse", "resolve", "features", "layout"],
      });
      expect(summary.validation.verdict).toBe("not run");
      expect(summary.memory.estimate).toBe(true);
      const files = [...(await readTree(out)).keys()];
      expect(files).toEqual([
        "dump/features.json",
        "dump/layout.json",
        "dump/parse.json",
        "dump/resolve.json",
        "ledger.json",
        "manifest.json",
      ]);
      const layout = JSON.parse(await readFile(join(out, "dump/layout.json"), "utf8"));
      expect(layout.context).toBe(256);
      const graph = JSON.parse(await readFile(join(out, "dump/resolve.json"), "utf8"));
      expect(graph.plugin).toBe("llama");
      expect(graph.graph.ops.length).toBeGreaterThan(10);
      // the user gave --context: no note for it; the layout defaults are noted once each
      expect(r.stderr).not.toContain("context: ");
      expect(r.stderr).toContain("group size: per-row (default: kv260-v002");
      expect(r.stderr).toContain(`kv dtype: ${KV_DEFAULT} (default: kv260-v002 numeric.kv_cache.default)`);
    } finally {
      await t.cleanup();
    }
  });

  it("loads --plugin modules and records them with the target chain in the manifest", async () => {
    const t = await tempDir();
    try {
      const cfg = JSON.parse(await readFile(join(LLAMA, "config.json"), "utf8"));
      cfg.rope_scaling = { rope_type: "ntk_alpha", alpha: 4.0 };
      const model = join(t.dir, "ntk");
      await mkdir(model);
      await writeFile(join(model, "config.json"), JSON.stringify(cfg));
      const out = join(t.dir, "out");
      const without = await runCli(["compile", model, "-o", out, "--stop-after", "features", "-q"]);
      expect(without.code).not.toBe(0);
      expect(without.stderr).toContain("ntk_alpha");
      const args = ["compile", model, "-o", out, "--stop-after", "features", "-q", "-t", "kv260-v002-ext"];
      const r = await runCli([...args, "--plugin", "examples/plugins/ntk-rope.ts"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
      const roles = manifest.inputs.map((i: { role: string; path: string }) => `${i.role}:${i.path}`);
      expect(roles).toEqual([
        "config:config.json",
        "target:targets/kv260-v002-ext.json",
        "target:targets/kv260-v002.json",
        "plugin:examples/plugins/ntk-rope.ts",
      ]);
      const plugin = manifest.inputs.find((i: { role: string }) => i.role === "plugin");
      expect(plugin.sha256).toBe(sha256Hex(await readFile(join(REPO_ROOT, "examples/plugins/ntk-rope.ts"))));
      expect(manifest.target.file).toBe("targets/kv260-v002-ext.json");
      const ledger = await readFile(join(out, "ledger.json"), "utf8");
      expect(ledger).toContain("ntk");
    } finally {
      await t.cleanup();
    }
  });

  it("draws progress bars on stderr only when it is a terminal", async () => {
    const t = await tempDir();
    try {
      const run = async (tty: boolean) => {
        const out = join(t.dir, tty ? "tty" : "pipe");
        const args = ["compile", LLAMA, "-o", out, "--validate", "off", "--threads", "0"];
        const r = await runCli(args, {}, REPO_ROOT, { stderrIsTTY: tty });
        expect(r.code).toBe(0);
        return r.stderr;
      };
      const tty = await run(true);
      expect(tty).toMatch(/\rquantize weights \[#+-*\] \d+%/);
      expect(tty).toContain("\rtiming simulation done");
      const pipe = await run(false);
      expect(pipe).not.toContain("\r");
      expect(pipe).toContain("llama: llama (llama), 2 layers");
    } finally {
      await t.cleanup();
    }
  });

  it("a compile that fails in a late stage leaves no output directory and no temporary directory", async () => {
    const t = await tempDir();
    try {
      const model = join(t.dir, "nan-llama");
      await nanModel(model, "model.layers.1.mlp.down_proj.weight");
      const out = join(t.dir, "out");
      const log = new MemoryLogger();
      const e = await compile(model, { out, cwd: REPO_ROOT, logger: log, validate: "off", threads: 0 }).catch(
        (x: unknown) => x,
      );
      expect(isPccxError(e)).toBe(true);
      if (!isPccxError(e)) return;
      // the weight image writer found the NaN after the program was generated
      expect(e.exitCode).toBe(ExitCode.INVALID_INPUT);
      expect(e.message).toContain("model.layers.1.mlp.down_proj.weight");
      expect(log.lines.some((l) => l.startsWith("info: context:"))).toBe(true);
      expect(await leftovers(t.dir, "out")).toEqual([]);
    } finally {
      await t.cleanup();
    }
  });

  it("SIGINT during a compile removes the partial output and exits 130", async () => {
    const t = await tempDir();
    try {
      const out = join(t.dir, "out");
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "src/cli/run.ts", "compile", LLAMA, "-o", out, "--validate", "off", "-q"],
        {
          cwd: REPO_ROOT,
          stdio: ["ignore", "ignore", "pipe"],
          env: { ...process.env, HF_HUB_OFFLINE: "1" },
        },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
      // wait until the temporary output exists, then interrupt
      for (let i = 0; i < 3000 && (await leftovers(t.dir, "out")).length === 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      expect((await leftovers(t.dir, "out"))[0]).toMatch(/^\.out\.tmp-/);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(stderr).toContain("interrupted by SIGINT: the partial output was removed");
      expect(await leftovers(t.dir, "out")).toEqual([]);
      expect(existsSync(out)).toBe(false);
    } finally {
      await t.cleanup();
    }
  });
});
