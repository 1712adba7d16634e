import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode, isPccxError } from "../../src/diag/index.js";
import { MemoryLogger } from "../../src/diag/log.js";
import { defaultThreads } from "../../src/layout/index.js";
import { parseConfigText } from "../../src/parser/index.js";
import { compile } from "../../src/pipeline/compile.js";
import {
  choicesOf,
  groupSizeOf,
  kvDtypeOf,
  positiveInt,
  stageOf,
  validateModeOf,
} from "../../src/pipeline/option-values.js";
import { contextChoice, NoteLog, parseContexts } from "../../src/pipeline/settings.js";
import { loadTarget } from "../../src/target/index.js";
import { SHA_A, writeCachedRepo } from "../parser/source/fake-hub.js";
import { TINY_DIR, tempDir } from "./helpers.js";

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isPccxError(e)) {
      expect(e.exitCode).toBe(ExitCode.USAGE);
      return e.message;
    }
    throw e;
  }
  throw new Error("expected a usage error");
}

const config = (maxPos: number) =>
  parseConfigText(
    JSON.stringify({
      model_type: "llama",
      architectures: ["LlamaForCausalLM"],
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      vocab_size: 256,
      max_position_embeddings: maxPos,
      rms_norm_eps: 1e-5,
    }),
    "config.json",
  );

describe("option values", () => {
  it("parses group sizes, per-row included, and rejects others with the accepted list", () => {
    expect(groupSizeOf("per-row")).toBe(0);
    expect(groupSizeOf("0")).toBe(0);
    expect(groupSizeOf("64")).toBe(64);
    expect(groupSizeOf(undefined)).toBeUndefined();
    expect(usage(() => groupSizeOf("48"))).toContain("--group-size 48");
  });

  it("parses KV dtypes, stages, validate modes and positive integers", () => {
    expect(kvDtypeOf("int4")).toBe("int4");
    expect(usage(() => kvDtypeOf("fp8"))).toContain("--kv-dtype fp8");
    expect(stageOf("layout")).toBe("layout");
    expect(usage(() => stageOf("quantize"))).toContain("not a stage");
    expect(validateModeOf("off")).toBe("off");
    expect(usage(() => validateModeOf("maybe"))).toContain("--validate maybe");
    expect(positiveInt("--context", "4096")).toBe(4096);
    expect(usage(() => positiveInt("--context", "0"))).toContain("positive integer");
    expect(usage(() => positiveInt("--context", "4k"))).toContain('"4k"');
  });

  it("turns raw options into compile choices and refuses two targets for a compile", () => {
    const c = choicesOf({
      target: ["kv260-v002"],
      groupSize: "32",
      context: "2048",
      kvDtype: "int4",
      set: ["ddr.efficiency=0.85"],
    });
    expect(c).toEqual({
      target: "kv260-v002",
      groupSize: 32,
      context: 2048,
      kvDtype: "int4",
      targetOverrides: ["ddr.efficiency=0.85"],
    });
    expect(usage(() => choicesOf({ target: ["a", "b"] }))).toContain("more than once");
  });

  it("parses --contexts, sorted and deduplicated", () => {
    expect(parseContexts("8192, 1024,4096,1024")).toEqual([1024, 4096, 8192]);
    expect(usage(() => parseContexts("1024,,4096"))).toContain("--contexts");
  });
});

describe("defaulted values", () => {
  const target = loadTarget("kv260-v002");
  const ring = target.file.numeric.kv_cache.ring_capacity_tokens;

  it("defaults the context to min(max_position_embeddings, the target's ring capacity) and says why", () => {
    const log = new MemoryLogger();
    const notes = new NoteLog(log);
    expect(contextChoice({}, config(ring * 4), target, notes)).toBe(ring);
    expect(contextChoice({}, config(512), target, new NoteLog(new MemoryLogger()))).toBe(512);
    expect(log.lines).toEqual([
      `info: context: ${ring} (default: min(max_position_embeddings ${ring * 4}, kv260-v002 numeric.kv_cache.ring_capacity_tokens ${ring}))`,
    ]);
  });

  it("logs each defaulted value once and not at all when the user gave it", () => {
    const log = new MemoryLogger();
    const notes = new NoteLog(log);
    contextChoice({}, config(1024), target, notes);
    contextChoice({}, config(1024), target, notes);
    expect(contextChoice({ context: 77 }, config(1024), target, notes)).toBe(77);
    expect(log.lines).toHaveLength(1);
    expect(notes.all.map((n) => n.name)).toEqual(["context"]);
    const quiet = new MemoryLogger();
    contextChoice({ context: 100 }, config(1024), target, new NoteLog(quiet));
    expect(quiet.lines).toEqual([]);
  });
});

describe("defaulted values through a whole compile", () => {
  const names = (log: MemoryLogger) =>
    log.lines
      .filter((l) => l.startsWith("info: ") && / \((default|inferred): /.test(l))
      .map((l) => l.slice(6, l.indexOf(":", 6)));

  it("every value pccxc chose is logged once with why; none when the user gave them all", async () => {
    const t = await tempDir();
    try {
      // a repo id in a local HF cache: revision and cache dir are chosen too
      const cache = join(t.dir, "hub");
      const files: Record<string, Uint8Array> = {};
      for (const f of ["config.json", "generation_config.json", "model.safetensors"])
        files[f] = await readFile(join(TINY_DIR, "llama", f));
      await writeCachedRepo(cache, "org/tiny-llama", SHA_A, files);
      const env = { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: "1" };
      const log = new MemoryLogger();
      await compile("org/tiny-llama", { out: join(t.dir, "a"), cwd: t.dir, env, offline: true, logger: log });
      expect(names(log)).toEqual([
        "target",
        "quantization threads",
        "clipping search",
        "revision",
        "cache dir",
        "context",
        "group size",
        "kv dtype",
        "functional validation",
        "validation prompt",
        "validation tokens",
      ]);
      expect(log.lines).toContain(`info: revision: main (default: the repo's main branch)`);
      expect(log.lines).toContain(
        `info: quantization threads: ${defaultThreads()} (default: the machine's cores, at most 8)`,
      );

      const given = new MemoryLogger();
      await compile("org/tiny-llama", {
        out: join(t.dir, "b"),
        cwd: t.dir,
        env,
        offline: true,
        logger: given,
        target: "kv260-v002",
        revision: "main",
        cacheDir: cache,
        context: 256,
        groupSize: 32,
        kvDtype: "int8",
        threads: 1,
        quantSearch: false,
        validate: "on",
        tokens: 2,
      });
      // the validation prompt is inferred from the config (its BOS id): nothing to give
      expect(names(given)).toEqual(["validation prompt"]);
    } finally {
      await t.cleanup();
    }
  }, 60_000);
});
