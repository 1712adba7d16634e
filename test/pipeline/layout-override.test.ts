/**
 * `--layout-override` on compile and plan: the short form `<tensor-glob|role>=<format>[,group=N]
 * [,placement=P]` and the planner's `<selector>=<key>:<value>,…`, what it changes in weights.json,
 * the plan and the manifest, and the error for a combination the engines cannot consume.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { layoutOverridesOf } from "../../src/pipeline/option-values.js";
import { runCli } from "../helpers/cli.js";
import { thrown } from "../helpers/errors.js";
import { EXAMPLE_CONFIGS } from "../helpers/paths.js";
import { TINY_DIR, tempDir } from "./helpers.js";

const LLAMA = join(TINY_DIR, "llama");
const LLAMA_1B = join(EXAMPLE_CONFIGS, "meta-llama__Llama-3.2-1B");

interface TensorEntry {
  tensor: string;
  format: string;
  group: number;
  placement: string;
  reason?: string;
}

describe("layoutOverridesOf: the option's forms", () => {
  it("a role name selects by role; a bare format, key=value and key:value settings; source kept", () => {
    expect(
      layoutOverridesOf(["embedding=int4,group=32", "model.layers.*.mlp.down_proj.weight=int4,group:64"]),
    ).toEqual([
      { role: "embedding", format: "int4", group: 32, source: "embedding=int4,group=32" },
      {
        match: "model.layers.*.mlp.down_proj.weight",
        format: "int4",
        group: 64,
        source: "model.layers.*.mlp.down_proj.weight=int4,group:64",
      },
    ]);
    expect(
      layoutOverridesOf(["role:norm=placement:ddr", "model.norm.weight=bf16,placement=l2,scale=f32"]),
    ).toEqual([
      { role: "norm", placement: "ddr", source: "role:norm=placement:ddr" },
      {
        match: "model.norm.weight",
        format: "bf16",
        placement: "l2",
        scaleDtype: "f32",
        source: "model.norm.weight=bf16,placement=l2,scale=f32",
      },
    ]);
    expect(layoutOverridesOf(undefined)).toBeUndefined();
    expect(layoutOverridesOf([])).toBeUndefined();
  });

  it("bad values are usage errors (exit 1) quoting what was typed", () => {
    const e = thrown(() => layoutOverridesOf(["lm_head=int3"]));
    expect(e.code).toBe("layout/override");
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe('layout override "lm_head=int3": format "int3" is not one of int4, bf16, f32');
    expect(thrown(() => layoutOverridesOf(["embedding"])).message).toContain(
      "expected <selector>=<settings>",
    );
    expect(thrown(() => layoutOverridesOf(["embedding=int4,colour=red"])).message).toContain(
      'unknown key "colour"',
    );
  });
});

describe("--layout-override on the commands", () => {
  it("compile: the tiny llama's BF16 embedding table stored INT4 with group 32 (weights.json, manifest)", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const out = join(dir, "out");
      const r = await runCli([
        "compile",
        LLAMA,
        "-o",
        out,
        "--layout-override",
        "embedding=int4,group=32",
        "--json",
      ]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).validation.verdict).toBe("passed");
      const weights = JSON.parse(await readFile(join(out, "weights.json"), "utf8"));
      const emb = (weights.tensors as TensorEntry[]).find((t) => t.tensor === "model.embed_tokens.weight");
      expect(emb).toMatchObject({ format: "int4", group: 32, placement: "ddr" });
      const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
      expect(manifest.settings.layoutOverrides).toBe("embedding=int4,group=32");

      // without the override the table stays BF16 (the role policy for a small table)
      const plain = join(dir, "plain");
      expect((await runCli(["compile", LLAMA, "-o", plain, "--stop-after", "layout", "-q"])).code).toBe(0);
      const dump = JSON.parse(await readFile(join(plain, "dump/layout.json"), "utf8"));
      const def = (dump.tensors as TensorEntry[]).find((t) => t.tensor === "model.embed_tokens.weight");
      expect(def).toMatchObject({ format: "bf16" });
    } finally {
      await cleanup();
    }
  }, 60_000);

  it("plan shows the overridden tensors; compile --stop-after layout of Llama-3.2-1B keeps the table BF16", async () => {
    const p = await runCli([
      "plan",
      LLAMA,
      "--layout-override",
      "embedding=int4,group=32",
      "--json",
      "--contexts",
      "1024",
    ]);
    expect(p.code).toBe(0);
    const layout = JSON.parse(p.stdout).targets[0].layout;
    expect(layout.overridden).toEqual([
      {
        tensor: "model.embed_tokens.weight",
        role: "embedding",
        format: "int4",
        group: 32,
        placement: "ddr",
        reason: 'override "embedding=int4,group=32" (was bf16 ddr)',
      },
    ]);
    const text = await runCli([
      "plan",
      LLAMA,
      "--layout-override",
      "embedding=int4,group=32",
      "--contexts",
      "1024",
    ]);
    expect(text.stdout).toContain(
      'model.embed_tokens.weight: int4 group 32 ddr, override "embedding=int4,group=32"',
    );

    const { dir, cleanup } = await tempDir();
    try {
      const out = join(dir, "out");
      const args = ["compile", LLAMA_1B, "-o", out, "--stop-after", "layout", "-q"];
      expect((await runCli([...args, "--layout-override", "embedding=bf16"])).code).toBe(0);
      const dump = JSON.parse(await readFile(join(out, "dump/layout.json"), "utf8"));
      const emb = (dump.tensors as TensorEntry[]).find((t) => t.tensor === "model.embed_tokens.weight");
      expect(emb).toMatchObject({ format: "bf16", placement: "ddr" });
      expect(emb?.reason).toBe('override "embedding=bf16" (was int4 ddr group 0)');
    } finally {
      await cleanup();
    }
  }, 60_000);

  it("a projection cannot be kept BF16 (the GEMV/GEMM engines read INT4 only): exit 1 with the reason", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const r = await runCli(["plan", LLAMA, "--layout-override", "attn_q=bf16"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("error[layout/override]: kv260-v002: ");
      expect(r.stderr).toContain(
        'layout override "attn_q=bf16" on model.layers.0.self_attn.q_proj.weight: streamed weights must be int4',
      );
      const c = await runCli(["compile", LLAMA, "-o", join(dir, "out"), "--layout-override", "attn_q=bf16"]);
      expect(c.code).toBe(1);
    } finally {
      await cleanup();
    }
  });
});
