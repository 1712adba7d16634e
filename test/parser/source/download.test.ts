import { lstat, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { MemoryLogger } from "../../../src/diag/log.js";
import { createHubClient, withQuietConsole } from "../../../src/parser/source/hub.js";
import { resolveSource } from "../../../src/parser/source/resolve.js";
import { rejected } from "../../helpers/errors.js";
import { safetensorsBytes, useTempDirs } from "../safetensors/fixtures.js";
import { noNetwork, SHA_A, stubHub, writeCachedRepo } from "./fake-hub.js";

const tempDir = useTempDirs();

const shard1 = safetensorsBytes([{ name: "a", dtype: "F32", shape: [2] }]);
const shard2 = safetensorsBytes([{ name: "b", dtype: "F32", shape: [3] }]);
const REPO_FILES = {
  "config.json": '{"model_type":"llama"}',
  "generation_config.json": '{"eos_token_id": 2}',
  "tokenizer.json": '{"version": "1.0"}',
  "tokenizer_config.json": '{"bos_token": "<s>"}',
  "model.safetensors.index.json": JSON.stringify({
    weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" },
  }),
  "model-00001-of-00002.safetensors": shard1,
  "model-00002-of-00002.safetensors": shard2,
  "consolidated.safetensors": shard1,
  "onnx/model.onnx": "onnx",
  "README.md": "# readme",
};

describe("downloading into the hub cache layout (stubbed network)", () => {
  it("fetches only what pccxc needs into blobs/ + snapshots/<sha>/ + refs/, printing nothing on stdout", async () => {
    const cache = await tempDir();
    const hub = stubHub("org/m", SHA_A, REPO_FILES);
    const logger = new MemoryLogger();
    const stdout = vi.spyOn(process.stdout, "write");
    const log = vi.spyOn(console, "log");
    const r = await resolveSource("org/m", { env: { HF_HUB_CACHE: cache }, hub, logger });
    expect(stdout).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
    stdout.mockRestore();
    log.mockRestore();

    expect(hub.calls).toEqual([
      "resolve org/m@main",
      `list org/m@${SHA_A}`,
      "download config.json",
      "download generation_config.json",
      "download tokenizer.json",
      "download tokenizer_config.json",
      "download model.safetensors.index.json",
      "download model-00001-of-00002.safetensors",
      "download model-00002-of-00002.safetensors",
    ]);
    const root = join(cache, "models--org--m");
    expect(await readFile(join(root, "refs", "main"), "utf8")).toBe(SHA_A);
    const snap = join(root, "snapshots", SHA_A);
    const link = join(snap, "model-00002-of-00002.safetensors");
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
    expect(new Uint8Array(await readFile(link))).toEqual(shard2);
    const blobs = await readdir(join(root, "blobs"));
    expect(blobs).toHaveLength(7); // consolidated shares shard1's content but was not fetched
    expect(blobs.some((b) => b.endsWith(".incomplete"))).toBe(false);
    expect(r.origin).toMatchObject({ kind: "hf-cache", sha: SHA_A, snapshotDir: snap });
    if (r.origin.kind === "hf-cache") expect(r.origin.downloaded).toHaveLength(7);
    expect(logger.lines.some((l) => l.includes("downloading org/m/model-00001-of-00002.safetensors"))).toBe(
      true,
    );

    // the second run is served by the cache alone
    const again = await resolveSource("org/m", { env: { HF_HUB_CACHE: cache }, hub: noNetwork });
    expect(again.origin).toMatchObject({ sha: SHA_A, downloaded: [] });
  });

  it("reports download progress through Logger.progress (bytes of each file)", async () => {
    const bars: { label: string; total: number; ticked: number; done: boolean }[] = [];
    const logger = Object.assign(new MemoryLogger(), {
      progress(label: string, total: number) {
        const bar = { label, total, ticked: 0, done: false };
        bars.push(bar);
        return {
          tick: (n = 1) => {
            bar.ticked += n;
          },
          done: () => {
            bar.done = true;
          },
        };
      },
    });
    await resolveSource("org/m", {
      env: { HF_HUB_CACHE: await tempDir() },
      hub: stubHub("org/m", SHA_A, REPO_FILES),
      logger,
    });
    const shard = bars.find((b) => b.label === "model-00001-of-00002.safetensors");
    expect(shard).toEqual({
      label: "model-00001-of-00002.safetensors",
      total: shard1.length,
      ticked: shard1.length,
      done: true,
    });
    expect(bars).toHaveLength(7);
  });

  it("completes a partial snapshot, fetching only the missing files", async () => {
    const cache = await tempDir();
    await writeCachedRepo(cache, "org/m", SHA_A, { "config.json": REPO_FILES["config.json"] });
    const hub = stubHub("org/m", SHA_A, REPO_FILES);
    await resolveSource("org/m", { env: { HF_HUB_CACHE: cache }, hub });
    const downloads = hub.calls.filter((c) => c.startsWith("download"));
    expect(downloads).not.toContain("download config.json");
    expect(downloads).toContain("download model-00001-of-00002.safetensors");
  });

  it("with a sha revision writes no ref and does not resolve; --weights picks the file to fetch", async () => {
    const cache = await tempDir();
    const hub = stubHub("org/m", SHA_A, REPO_FILES);
    const r = await resolveSource("org/m", {
      revision: SHA_A,
      weights: "consolidated.safetensors",
      env: { HF_HUB_CACHE: cache },
      hub,
    });
    expect(hub.calls.some((c) => c.startsWith("resolve"))).toBe(false);
    expect(hub.calls).toContain("download consolidated.safetensors");
    expect(hub.calls).not.toContain("download model.safetensors.index.json");
    await expect(readdir(join(cache, "models--org--m", "refs"))).rejects.toThrow();
    expect(r.weights).toMatchObject({ found: true, set: { kind: "single" } });
  });

  it("a truncated download leaves neither blob nor .incomplete file, and fails with exit 4", async () => {
    const cache = await tempDir();
    const hub = stubHub("org/m", SHA_A, REPO_FILES, { truncate: "model-00002-of-00002.safetensors" });
    const e = await rejected(resolveSource("org/m", { env: { HF_HUB_CACHE: cache }, hub }));
    expect([e.code, e.exitCode]).toEqual(["source/download-size", 4]);
    const blobs = await readdir(join(cache, "models--org--m", "blobs"));
    expect(blobs.some((b) => b.endsWith(".incomplete"))).toBe(false);
    await expect(readFile(join(cache, "models--org--m", "refs", "main"))).rejects.toThrow();
  });

  it("an index naming a shard the repo lacks, and a repo without config.json, are typed errors", async () => {
    const { "model-00002-of-00002.safetensors": _, ...lacking } = REPO_FILES;
    const e = await rejected(
      resolveSource("org/m", {
        env: { HF_HUB_CACHE: await tempDir() },
        hub: stubHub("org/m", SHA_A, lacking),
      }),
    );
    expect(e.code).toBe("source/remote-missing");
    expect(e.message).toContain("model-00002-of-00002.safetensors");
    const noConfig = await rejected(
      resolveSource("org/m", {
        env: { HF_HUB_CACHE: await tempDir() },
        hub: stubHub("org/m", SHA_A, { "a.txt": "" }),
      }),
    );
    expect(noConfig.code).toBe("source/no-config");
  });

  it("a cache that cannot be written is source/cache-io (exit 4)", async () => {
    const parent = await tempDir();
    await writeFile(join(parent, "file"), "");
    const e = await rejected(
      resolveSource("org/m", {
        env: { HF_HUB_CACHE: join(parent, "file") },
        hub: stubHub("org/m", SHA_A, REPO_FILES),
      }),
    );
    expect([e.code, e.exitCode]).toEqual(["source/cache-io", 4]);
  });

  it("raw network failures become source/* errors", async () => {
    const e = await rejected(
      resolveSource("org/other", {
        env: { HF_HUB_CACHE: await tempDir() },
        hub: stubHub("org/m", SHA_A, {}),
      }),
    );
    expect([e.code, e.exitCode]).toEqual(["source/repo-not-found", 2]);
    const broken = { ...noNetwork, resolveRevision: () => Promise.reject(new TypeError("fetch failed")) };
    const n = await rejected(resolveSource("org/m", { env: { HF_HUB_CACHE: await tempDir() }, hub: broken }));
    expect([n.code, n.exitCode]).toEqual(["source/network", 4]);
    expect(n.fix).toContain("--offline");
  });
});

describe("the real hub client over a fake fetch (no network)", () => {
  it("uses HF_ENDPOINT and the token, lists files and streams a download", async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const body = new TextEncoder().encode('{"model_type":"llama"}');
    const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input);
      const headers = new Headers(init?.headers);
      seen.push({ url, auth: headers.get("Authorization") });
      const json = (v: unknown) =>
        new Response(JSON.stringify(v), { headers: { "Content-Type": "application/json" } });
      if (url.includes("/api/models/org/m/revision/main")) return json({ _id: "x", id: "org/m", sha: SHA_A });
      if (url.includes(`/api/models/org/m/tree/${SHA_A}`)) {
        return json([{ type: "file", path: "config.json", size: body.length, oid: "c".repeat(40) }]);
      }
      if (url.includes(`/org/m/resolve/${SHA_A}/config.json`)) {
        if (headers.get("Range") === "bytes=0-0") {
          return new Response(body.subarray(0, 1), {
            status: 206,
            headers: { "Content-Range": `bytes 0-0/${body.length}`, ETag: '"c"' },
          });
        }
        return new Response(body);
      }
      return new Response("not found", { status: 404 });
    }) as typeof fetch;
    const client = createHubClient({
      endpoint: "https://mirror.example",
      token: "hf_secret",
      logger: new MemoryLogger(),
      fetch: fakeFetch,
    });
    expect(await client.resolveRevision("org/m", "main")).toBe(SHA_A);
    expect(await client.listFiles("org/m", SHA_A)).toEqual([
      { path: "config.json", size: body.length, blobId: "c".repeat(40) },
    ]);
    const dir = await tempDir();
    let progress = 0;
    await client.download("org/m", SHA_A, "config.json", join(dir, "blob"), (n) => (progress += n));
    expect(await readFile(join(dir, "blob"), "utf8")).toBe('{"model_type":"llama"}');
    expect(progress).toBe(body.length);
    expect(seen.every((s) => s.url.startsWith("https://mirror.example/"))).toBe(true);
    expect(seen.every((s) => s.auth === "Bearer hf_secret")).toBe(true);
    const e = await rejected(client.resolveRevision("org/nope", "main"));
    expect(e.code).toBe("source/repo-not-found");
  });

  it("the token comes from --token, else HF_TOKEN; the endpoint from HF_ENDPOINT", async () => {
    const { hubToken, hubEndpoint } = await import("../../../src/parser/source/options.js");
    expect(hubToken({ token: "a" }, { HF_TOKEN: "b" })).toBe("a");
    expect(hubToken({}, { HF_TOKEN: "b" })).toBe("b");
    expect(hubEndpoint({ HF_ENDPOINT: "https://m.example/" })).toBe("https://m.example");
    expect(hubEndpoint({})).toBe("https://huggingface.co");
    await writeFile(join(await tempDir(), "x"), ""); // keeps the temp-dir hook exercised
  });
});

describe("library console output", () => {
  it("is redirected to the logger's debug channel while hub calls run, then restored", async () => {
    const logger = new MemoryLogger();
    const original = console.log;
    const stdout = vi.spyOn(process.stdout, "write");
    await withQuietConsole(logger, async () => {
      console.log("Downloading x to y");
      console.info("info from the library");
      await withQuietConsole(logger, async () => console.debug("nested"));
      console.debug("still quiet");
    });
    expect(stdout).not.toHaveBeenCalled();
    stdout.mockRestore();
    expect(console.log).toBe(original);
    expect(logger.lines).toEqual([
      "debug: Downloading x to y",
      "debug: info from the library",
      "debug: nested",
      "debug: still quiet",
    ]);
  });
});
