import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveSource } from "../../../src/parser/source/resolve.js";
import { rejected } from "../../helpers/errors.js";
import { safetensorsBytes, useTempDirs } from "../safetensors/fixtures.js";
import { noNetwork, SHA_A, SHA_B, stubHub, writeCachedRepo } from "./fake-hub.js";

const tempDir = useTempDirs();

const weights = safetensorsBytes([{ name: "w", dtype: "BF16", shape: [2, 2] }]);
const shard = (n: string) => safetensorsBytes([{ name: n, dtype: "F32", shape: [1] }]);
const indexJson = JSON.stringify({ weight_map: { a: "model-1.safetensors", b: "model-2.safetensors" } });

describe("local directories and config files", () => {
  it("a directory with config and weights", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "config.json"), "{}");
    await writeFile(join(dir, "tokenizer.json"), "{}");
    await writeFile(join(dir, "model.safetensors"), weights);
    const r = await resolveSource(dir, { hub: noNetwork });
    expect(r.origin).toEqual({ kind: "dir", dir });
    expect(r.weights).toMatchObject({
      found: true,
      set: { kind: "single", file: join(dir, "model.safetensors") },
    });
    expect(Object.keys(r.files)).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
  });

  it("a config.json path with nothing else", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "config.json"), "{}");
    const r = await resolveSource("config.json", { cwd: dir, hub: noNetwork });
    expect(r.configFile).toBe(join(dir, "config.json"));
    expect(r.weights?.found).toBe(false);
    await expect(resolveSource(dir, { weightsPolicy: "required" })).rejects.toMatchObject({
      code: "weights/not-found",
    });
    expect((await resolveSource(dir, { weightsPolicy: "none" })).weights).toBeUndefined();
  });

  it("a directory without config.json", async () => {
    const dir = await tempDir();
    const e = await rejected(resolveSource(dir));
    expect([e.code, e.exitCode]).toEqual(["source/no-config", 2]);
  });

  it("--weights relative to the cwd first, then to the model directory", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "config.json"), "{}");
    await writeFile(join(dir, "consolidated.safetensors"), weights);
    const r = await resolveSource(dir, { weights: "consolidated.safetensors", cwd: "/" });
    expect(r.weights).toMatchObject({ found: true, set: { file: join(dir, "consolidated.safetensors") } });
  });
});

describe("repo ids from the hub cache, offline first", () => {
  const files = {
    "config.json": '{"model_type":"llama"}',
    "model.safetensors": weights,
    "tokenizer.json": "{}",
  };

  it("finds a model the Python tools downloaded, through refs and blob symlinks, without network", async () => {
    const cache = await tempDir();
    const snap = await writeCachedRepo(cache, "org/m", SHA_A, files);
    const r = await resolveSource("org/m", { env: { HF_HUB_CACHE: cache }, hub: noNetwork });
    expect(r.origin).toEqual({
      kind: "hf-cache",
      repo: "org/m",
      revision: "main",
      sha: SHA_A,
      cacheDir: cache,
      cacheSource: "HF_HUB_CACHE",
      snapshotDir: snap,
      downloaded: [],
    });
    expect(await readFile(r.configFile, "utf8")).toBe('{"model_type":"llama"}');
    expect(Object.keys(r.files)).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
  });

  it("takes a sha revision directly and --cache-dir over the environment", async () => {
    const cache = await tempDir();
    await writeCachedRepo(cache, "org/m", SHA_B, files, []);
    const r = await resolveSource("org/m", {
      revision: SHA_B,
      cacheDir: cache,
      env: { HF_HUB_CACHE: "/nonexistent" },
      hub: noNetwork,
    });
    expect(r.origin).toMatchObject({ sha: SHA_B, cacheSource: "--cache-dir" });
  });

  it("offline with a missing ref: names repo, revision, what is missing, where it looked, and the fix", async () => {
    const cache = await tempDir();
    const home = await tempDir();
    await writeCachedRepo(cache, "org/m", SHA_A, files);
    const e = await rejected(
      resolveSource("org/m", {
        revision: "dev",
        offline: true,
        env: { HF_HUB_CACHE: cache, HOME: home },
        hub: noNetwork,
      }),
    );
    expect([e.code, e.exitCode]).toEqual(["source/not-in-cache", 4]);
    expect(e.message).toContain('org/m at revision "dev"');
    expect(e.message).toContain(join(cache, "models--org--m", "refs", "dev"));
    expect(e.message).toContain("--offline");
    expect(e.notes.join("\n")).toContain(
      `looked in ${join(cache, "models--org--m")} (cache chosen by HF_HUB_CACHE)`,
    );
    expect(e.notes.join("\n")).toContain(join(home, ".cache/huggingface/hub/models--org--m"));
    expect(e.fix).toContain("huggingface-cli download org/m --revision dev");
    expect(e.fix).toContain("drop --offline");
  });

  it.each(["1", "true", "yes"])("HF_HUB_OFFLINE=%s disables downloads", async (v) => {
    const cache = await tempDir();
    const e = await rejected(
      resolveSource("org/m", { env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: v }, hub: noNetwork }),
    );
    expect(e.code).toBe("source/not-in-cache");
    expect(e.message).toContain("HF_HUB_OFFLINE");
    expect(e.message).toContain("missing: config.json, model.safetensors.index.json or model.safetensors");
  });

  it("offline with a shard missing from the snapshot lists the shard", async () => {
    const cache = await tempDir();
    await writeCachedRepo(cache, "org/m", SHA_A, {
      "config.json": "{}",
      "model.safetensors.index.json": indexJson,
      "model-1.safetensors": shard("a"),
    });
    const e = await rejected(
      resolveSource("org/m", { offline: true, env: { HF_HUB_CACHE: cache }, hub: noNetwork }),
    );
    expect(e.message).toContain("missing: model-2.safetensors");
  });

  it("offline, a config-only snapshot is enough unless weights are required", async () => {
    const cache = await tempDir();
    await writeCachedRepo(cache, "org/m", SHA_A, { "config.json": "{}" });
    const opts = { offline: true, env: { HF_HUB_CACHE: cache }, hub: noNetwork };
    expect((await resolveSource("org/m", opts)).weights?.found).toBe(false);
    await expect(resolveSource("org/m", { ...opts, weightsPolicy: "required" })).rejects.toMatchObject({
      code: "source/not-in-cache",
    });
  });

  it("a local --weights file with a repo id needs only the config from the cache", async () => {
    const cache = await tempDir();
    await writeCachedRepo(cache, "org/m", SHA_A, { "config.json": "{}" });
    const local = await tempDir();
    await writeFile(join(local, "mine.safetensors"), weights);
    const r = await resolveSource("org/m", {
      weights: "mine.safetensors",
      weightsPolicy: "required",
      cwd: local,
      offline: true,
      env: { HF_HUB_CACHE: cache },
      hub: noNetwork,
    });
    expect(r.weights).toMatchObject({
      found: true,
      set: { kind: "single", file: join(local, "mine.safetensors") },
    });
  });

  it("points at another standard cache that holds the repo", async () => {
    const home = await tempDir();
    await writeCachedRepo(join(home, ".cache/huggingface/hub"), "org/m", SHA_A, files);
    const hfHome = await tempDir();
    await mkdir(join(hfHome, "hub"));
    const e = await rejected(
      resolveSource("org/m", { offline: true, env: { HOME: home, HF_HOME: hfHome }, hub: noNetwork }),
    );
    expect(e.notes.join("\n")).toContain(`use --cache-dir ${join(home, ".cache/huggingface/hub")}`);
  });

  it("HF_HUB_OFFLINE=0 lets a missing model be downloaded", async () => {
    const cache = await tempDir();
    const hub = stubHub("org/m", SHA_A, files);
    const r = await resolveSource("org/m", { env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: "0" }, hub });
    expect(r.origin).toMatchObject({ kind: "hf-cache", sha: SHA_A });
    expect(hub.calls[0]).toBe("resolve org/m@main");
  });
});
