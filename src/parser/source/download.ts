/**
 * Downloading a model into the hub cache, in the layout Python's huggingface_hub writes, so that
 * later runs (of pccxc or of Python tools) find it offline. Only what pccxc needs is fetched:
 * config.json, generation_config.json, the tokenizer files, and the chosen safetensors set (the
 * index first, then the shards it names; else model.safetensors). Blobs are written under a
 * `.incomplete` name and renamed when complete; the ref is written last.
 */
import { copyFile, mkdir, readFile, rename, rm, stat, symlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { invalidInput, ioError } from "../../diag/index.js";
import type { Logger } from "../../diag/log.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { checkShardName, INDEX_FILE, parseWeightIndexText, SINGLE_FILE } from "../safetensors/weights.js";
import { blobPath, isFile, refPath, SHA_RE, snapshotDir } from "./cache.js";
import type { HubClient, RemoteFile } from "./hub.js";
import type { WeightsWanted } from "./options.js";

export const CONFIG_FILE = "config.json";
/** Fetched when the repo has them; never required. */
export const EXTRA_FILES = [
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "tokenizer.model",
] as const;

export interface DownloadRequest {
  readonly hub: HubClient;
  readonly repo: string;
  readonly revision: string;
  readonly cache: string;
  readonly weights: WeightsWanted;
  readonly logger: Logger;
}

export interface DownloadResult {
  readonly sha: string;
  readonly dir: string;
  /** Repo paths fetched by this call (files already in the snapshot are not fetched again). */
  readonly downloaded: readonly string[];
}

export async function downloadToCache(req: DownloadRequest): Promise<DownloadResult> {
  const { hub, repo, revision, cache } = req;
  const sha = SHA_RE.test(revision) ? revision : await hub.resolveRevision(repo, revision);
  if (!SHA_RE.test(sha)) throw ioError("source/bad-sha", `the hub resolved ${repo}@${revision} to "${sha}"`);
  const listing = new Map((await hub.listFiles(repo, sha)).map((f) => [f.path, f]));
  const dir = snapshotDir(cache, repo, sha);
  const downloaded: string[] = [];
  const fetch = async (path: string) => {
    if (await ensureFile(req, sha, dir, remote(listing, repo, sha, path))) downloaded.push(path);
  };
  if (!listing.has(CONFIG_FILE)) {
    throw invalidInput(
      "source/no-config",
      `${repo}@${sha} has no config.json, so it is not a transformers model`,
      {
        notes: [`files: ${[...listing.keys()].sort().slice(0, 20).join(", ")}`],
      },
    );
  }
  await fetch(CONFIG_FILE);
  for (const f of EXTRA_FILES) if (listing.has(f)) await fetch(f);
  await fetchWeights(req, listing, dir, fetch);
  if (revision !== sha) await writeFileAtomic(refPath(cache, repo, revision), sha);
  return { sha, dir, downloaded };
}

async function fetchWeights(
  req: DownloadRequest,
  listing: ReadonlyMap<string, RemoteFile>,
  dir: string,
  fetch: (path: string) => Promise<void>,
): Promise<void> {
  const { policy, override } = req.weights;
  if (policy === "none") return;
  const chosen =
    override ?? (listing.has(INDEX_FILE) ? INDEX_FILE : listing.has(SINGLE_FILE) ? SINGLE_FILE : undefined);
  if (!chosen) {
    if (policy === "optional") return;
    const found = [...listing.keys()].filter((p) => /\.(safetensors|bin|pt|pth|gguf)$/.test(p)).sort();
    throw invalidInput("source/no-safetensors", `${req.repo} has no ${INDEX_FILE} or ${SINGLE_FILE}`, {
      notes: [
        found.length ? `weight-like files in the repo: ${found.join(", ")}` : "the repo has no weight files",
      ],
      fix: found.some((f) => f.endsWith(".safetensors"))
        ? "select a safetensors file or index explicitly with --weights <path in repo>"
        : "pccxc reads safetensors only; convert the checkpoint first",
    });
  }
  await fetch(chosen);
  if (!chosen.endsWith(".index.json")) return;
  const indexFile = join(dir, ...chosen.split("/"));
  const parsed = parseWeightIndexText(await readFile(indexFile, "utf8"), indexFile);
  const base = chosen.includes("/") ? chosen.slice(0, chosen.lastIndexOf("/") + 1) : "";
  for (const shard of parsed.shardNames) await fetch(`${base}${shard}`);
}

function remote(
  listing: ReadonlyMap<string, RemoteFile>,
  repo: string,
  sha: string,
  path: string,
): RemoteFile {
  const f = listing.get(path);
  if (!f) {
    throw invalidInput("source/remote-missing", `${repo}@${sha} has no file ${path}`, {
      fix: "check --weights, or the repo's index: it names a file the repo does not have",
    });
  }
  return f;
}

/** Puts one file in the snapshot (blob + relative symlink); returns true when it was downloaded. */
async function ensureFile(req: DownloadRequest, sha: string, dir: string, f: RemoteFile): Promise<boolean> {
  checkShardName(f.path, join(dir, "(repo)"), f.path);
  if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(f.blobId)) {
    throw ioError("source/bad-blob-id", `the hub gave ${f.path} an invalid blob id "${f.blobId}"`);
  }
  const link = join(dir, ...f.path.split("/"));
  if (await isFile(link)) return false;
  const blob = blobPath(req.cache, req.repo, f.blobId);
  let fetched = false;
  if (!(await hasSize(blob, f.size))) {
    await fetchBlob(req, sha, f, blob);
    fetched = true;
  }
  await mkdir(dirname(link), { recursive: true });
  await rm(link, { force: true });
  try {
    await symlink(relative(dirname(link), blob), link);
  } catch {
    await copyFile(blob, link); // file systems without symlinks, as huggingface_hub does
  }
  return fetched;
}

async function fetchBlob(req: DownloadRequest, sha: string, f: RemoteFile, blob: string): Promise<void> {
  const tmp = `${blob}.incomplete`;
  await mkdir(dirname(blob), { recursive: true });
  req.logger.info(`downloading ${req.repo}/${f.path} (${formatBytes(f.size)})`);
  const bar = req.logger.progress(f.path, f.size);
  try {
    await req.hub.download(req.repo, sha, f.path, tmp, (n) => bar.tick(n));
    const got = (await stat(tmp)).size;
    if (got !== f.size) {
      throw ioError("source/download-size", `${f.path}: downloaded ${got} bytes, the hub listed ${f.size}`, {
        fix: "retry; the connection was probably interrupted",
      });
    }
    await rename(tmp, blob);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    bar.done();
  }
}

async function hasSize(p: string, size: number): Promise<boolean> {
  try {
    return (await stat(p)).size === size;
  } catch {
    return false;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
