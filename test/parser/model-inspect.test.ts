import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { TensorToWrite } from "../../src/parser/safetensors/writer.js";
import { writeSafetensors } from "../../src/parser/safetensors/writer.js";
import { runCli } from "../helpers/cli.js";
import { useTempDirs } from "./safetensors/fixtures.js";
import { SHA_A, writeCachedRepo } from "./source/fake-hub.js";

const SHARED = fileURLToPath(new URL("../../../shared/configs", import.meta.url));
const haveShared = existsSync(SHARED);
if (!haveShared) console.warn(`skipped: pccxc inspect tests (${SHARED} does not exist)`);

const tempDir = useTempDirs();

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(["inspect", ...args], env, "/");

async function qwenConfig(extra: Record<string, unknown> = {}): Promise<string> {
  const text = await readFile(join(SHARED, "Qwen__Qwen3-0.6B", "config.json"), "utf8");
  return JSON.stringify({ ...JSON.parse(text), ...extra });
}

/** A Qwen3-shaped tiny checkpoint with `layers` layers (9 tensors per layer + 3). */
function tinyTensors(layers: number): TensorToWrite[] {
  const t = (name: string, shape: number[]): TensorToWrite => ({
    name,
    dtype: "BF16",
    shape,
    data: new Uint8Array(shape.reduce((a, b) => a * b, 2)),
  });
  const out = [
    t("model.embed_tokens.weight", [16, 8]),
    t("model.norm.weight", [8]),
    t("lm_head.weight", [16, 8]),
  ];
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}`;
    out.push(t(`${p}.input_layernorm.weight`, [8]), t(`${p}.post_attention_layernorm.weight`, [8]));
    for (const n of ["q_proj", "k_proj", "v_proj", "o_proj"])
      out.push(t(`${p}.self_attn.${n}.weight`, [8, 8]));
    for (const n of ["gate_proj", "up_proj"]) out.push(t(`${p}.mlp.${n}.weight`, [12, 8]));
    out.push(t(`${p}.mlp.down_proj.weight`, [8, 12]));
  }
  return out;
}

async function modelDir(layers: number | null, extra: Record<string, unknown> = {}): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, "config.json"), await qwenConfig(extra));
  if (layers !== null) await writeSafetensors(join(dir, "model.safetensors"), tinyTensors(layers));
  return dir;
}

describe.skipIf(!haveShared)("pccxc inspect", () => {
  it("a config alone: says no weights were found and shows what the config implies", async () => {
    const dir = await modelDir(null, { my_custom_flag: true });
    const r = await run([join(dir, "config.json")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("model type: qwen3");
    expect(r.stdout).toContain("architectures: Qwen3ForCausalLM");
    expect(r.stdout).toContain("parameters: unknown (no weights found)");
    expect(r.stdout).toContain("hidden_size: 1024");
    expect(r.stdout).toContain("num_hidden_layers: 28");
    expect(r.stdout).toMatch(/consumed \(\d+\): .*\$\.hidden_size/);
    expect(r.stdout).toContain("not consumed, unknown (1): $.my_custom_flag");
    expect(r.stdout).toContain("no weights found");
    expect(r.stderr).toBe("");
  });

  it("lists every tensor of a small checkpoint with dtype, shape and bytes, and counts parameters", async () => {
    const dir = await modelDir(2);
    const r = await run([dir]);
    expect(r.code).toBe(0);
    const params = 16 * 8 * 2 + 8 + 2 * (2 * 8 + 4 * 64 + 3 * 96);
    expect(r.stdout).toContain(`parameters: ${params.toLocaleString("en-US")}`);
    expect(r.stdout).toContain("21 tensors");
    expect(r.stdout).toContain("model.layers.1.mlp.down_proj.weight  BF16 [8, 12]  192 B");
    // natural order: layer 0's tensors before layer 1's
    expect(r.stdout.indexOf("model.layers.0.self_attn.q_proj")).toBeLessThan(
      r.stdout.indexOf("model.layers.1.input_layernorm"),
    );
  });

  it("groups a big checkpoint by layer pattern unless --all-tensors", async () => {
    const dir = await modelDir(12);
    const grouped = await run([dir]);
    expect(grouped.stdout).toContain("111 tensors");
    expect(grouped.stdout).toContain("model.layers.*.self_attn.q_proj.weight ×12  BF16 [8, 8]  1.5 KiB");
    expect(grouped.stdout).not.toContain("model.layers.11.self_attn.q_proj.weight");
    const all = await run([dir, "--all-tensors"]);
    expect(all.stdout).toContain("model.layers.11.self_attn.q_proj.weight  BF16 [8, 8]  128 B");
  });

  it("--json prints the same report as JSON on stdout only", async () => {
    const dir = await modelDir(12, { my_custom_flag: 1 });
    const r = await run([dir, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.model.modelType).toBe("qwen3");
    expect(j.model.parameters).toBeGreaterThan(0);
    expect(j.configKeys.unknown).toEqual(["$.my_custom_flag"]);
    expect(j.configKeys.consumed).toContain("$.hidden_size");
    expect(j.config.text.hidden_size).toBe(1024);
    expect(j.weights).toMatchObject({ found: true, kind: "single", tensorCount: 111 });
    expect(
      j.weights.tensorGroups.find(
        (g: { pattern: string }) => g.pattern === "model.layers.*.mlp.up_proj.weight",
      ),
    ).toEqual({
      pattern: "model.layers.*.mlp.up_proj.weight",
      count: 12,
      dtypes: ["BF16"],
      shape: [12, 8],
      parameters: 12 * 96,
      bytes: 12 * 192,
    });
    const all = JSON.parse((await run([dir, "--json", "--all-tensors"])).stdout);
    expect(all.weights.tensors).toHaveLength(111);
    const none = JSON.parse((await run([join(await modelDir(null), "config.json"), "--json"])).stdout);
    expect(none.weights).toEqual({ found: false, reason: expect.stringContaining("no model.safetensors") });
  });

  it("inspects a repo id from the cache offline and prints where it came from", async () => {
    const cache = await tempDir();
    await writeCachedRepo(cache, "Qwen/Qwen3-0.6B", SHA_A, { "config.json": await qwenConfig() });
    const r = await run(["Qwen/Qwen3-0.6B", "--cache-dir", cache]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`repo: Qwen/Qwen3-0.6B @ main (commit ${SHA_A})`);
    expect(r.stdout).toContain("downloaded now: nothing (all cached)");
  });

  it("errors are diagnostics with exit codes; --json also gets a JSON error", async () => {
    const missing = await run(["./no/such/dir"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error[source/not-found]");
    const offline = await run(["org/absent", "--cache-dir", await tempDir(), "--json"]);
    expect(offline.code).toBe(4);
    expect(offline.stderr).toContain("error[source/not-in-cache]");
    expect(JSON.parse(offline.stdout).error.code).toBe("source/not-in-cache");
    const dir = await modelDir(null);
    await writeFile(join(dir, "model.safetensors"), "garbage!");
    const bad = await run([dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error\[safetensors\/[a-z-]+\]/);
    expect(bad.stdout).toBe("");
  });

  it("--config-only does not look at weights", async () => {
    const dir = await modelDir(null);
    await writeFile(join(dir, "model.safetensors"), "garbage!");
    const r = await run([dir, "--config-only"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("weights not requested");
  });
});
