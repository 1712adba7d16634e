import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  candidateCacheDirs,
  findSnapshot,
  repoFolderName,
  resolveCacheDir,
} from "../../../src/parser/source/cache.js";
import { envFlag } from "../../../src/parser/source/options.js";
import { classifySpec, isRepoId } from "../../../src/parser/source/spec.js";
import { useTempDirs } from "../safetensors/fixtures.js";
import { SHA_A, SHA_B, writeCachedRepo } from "./fake-hub.js";

const tempDir = useTempDirs();

describe("hub cache location: huggingface_hub's precedence", () => {
  const all = {
    HOME: "/home/u",
    HF_HUB_CACHE: "/c/hub-cache",
    HUGGINGFACE_HUB_CACHE: "/c/legacy",
    HF_HOME: "/c/hf-home",
    XDG_CACHE_HOME: "/c/xdg",
  };
  const without = (...keys: string[]) =>
    Object.fromEntries(Object.entries(all).filter(([k]) => !keys.includes(k))) as Record<string, string>;

  it("--cache-dir overrides every variable", () => {
    expect(resolveCacheDir("/explicit", all, "/cwd")).toEqual({ dir: "/explicit", source: "--cache-dir" });
    expect(resolveCacheDir("rel", all, "/cwd").dir).toBe("/cwd/rel");
  });

  it("then HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub", () => {
    const steps: [Record<string, string>, string, string][] = [
      [all, "/c/hub-cache", "HF_HUB_CACHE"],
      [without("HF_HUB_CACHE"), "/c/legacy", "HUGGINGFACE_HUB_CACHE"],
      [without("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"), "/c/hf-home/hub", "HF_HOME"],
      [
        without("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME"),
        "/c/xdg/huggingface/hub",
        "XDG_CACHE_HOME",
      ],
      [
        without("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"),
        "/home/u/.cache/huggingface/hub",
        "default",
      ],
    ];
    for (const [env, dir, source] of steps)
      expect(resolveCacheDir(undefined, env, "/cwd")).toEqual({ dir, source });
  });

  it("expands ~ and treats empty variables as unset", () => {
    expect(resolveCacheDir(undefined, { HOME: "/home/u", HF_HOME: "~/hf" }, "/").dir).toBe("/home/u/hf/hub");
    expect(resolveCacheDir(undefined, { HOME: "/home/u", HF_HUB_CACHE: "", HF_HOME: "/h" }, "/").dir).toBe(
      "/h/hub",
    );
  });

  it("lists every candidate location, the chosen one first", () => {
    expect(candidateCacheDirs(undefined, without("HUGGINGFACE_HUB_CACHE"), "/").map((c) => c.dir)).toEqual([
      "/c/hub-cache",
      "/c/hf-home/hub",
      "/c/xdg/huggingface/hub",
      "/home/u/.cache/huggingface/hub",
    ]);
  });

  it("names repo folders like huggingface_hub", () => {
    expect(repoFolderName("Qwen/Qwen3-0.6B")).toBe("models--Qwen--Qwen3-0.6B");
  });
});

describe("finding a snapshot", () => {
  it("follows refs/<revision> to snapshots/<sha>, or takes a 40-hex revision directly", async () => {
    const cache = await tempDir();
    await writeCachedRepo(cache, "org/m", SHA_A, { "config.json": "{}" }, ["main", "v1.0"]);
    await writeCachedRepo(cache, "org/m", SHA_B, { "config.json": "{}" }, []);
    const snap = (sha: string) => join(cache, "models--org--m", "snapshots", sha);
    expect(await findSnapshot(cache, "org/m", "main")).toEqual({
      kind: "found",
      sha: SHA_A,
      dir: snap(SHA_A),
    });
    expect(await findSnapshot(cache, "org/m", "v1.0")).toMatchObject({ kind: "found", sha: SHA_A });
    expect(await findSnapshot(cache, "org/m", SHA_B)).toEqual({
      kind: "found",
      sha: SHA_B,
      dir: snap(SHA_B),
    });
    expect(await findSnapshot(cache, "org/m", "dev")).toMatchObject({ kind: "no-ref" });
    expect(await findSnapshot(cache, "org/m", "c".repeat(40))).toMatchObject({ kind: "no-snapshot" });
    expect(await findSnapshot(cache, "org/other", "main")).toMatchObject({ kind: "no-repo" });
  });
});

describe("the <model> argument and flags", () => {
  it("classifies directories, config files and repo ids; local paths win", async () => {
    const dir = await tempDir();
    expect(await classifySpec(dir, "/")).toEqual({ kind: "dir", dir });
    expect(await classifySpec("Qwen/Qwen3-0.6B", dir)).toEqual({ kind: "repo", repo: "Qwen/Qwen3-0.6B" });
    await expect(classifySpec("./nothing-here", dir)).rejects.toMatchObject({
      code: "source/not-found",
      exitCode: 2,
    });
    expect(["a/b", "Org-1/name_2.5"].map(isRepoId)).toEqual([true, true]);
    expect(["a", "a/b/c", "a/../b", "a--b/c", "/abs/x", "a/b.git", "a/-b"].map(isRepoId)).toEqual(
      Array(7).fill(false),
    );
  });

  it("HF_HUB_OFFLINE accepts 1, true, yes (any case) and on", () => {
    for (const v of ["1", "true", "TRUE", "yes", "on"])
      expect(envFlag({ HF_HUB_OFFLINE: v }, "HF_HUB_OFFLINE")).toBe(true);
    for (const v of ["0", "false", "", "no"])
      expect(envFlag({ HF_HUB_OFFLINE: v }, "HF_HUB_OFFLINE")).toBe(false);
  });
});
