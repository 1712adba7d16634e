/**
 * Test doubles for the hub: a cache laid out exactly as Python's huggingface_hub writes it
 * (refs/, snapshots/<sha>/ with relative symlinks into blobs/), and a stub HubClient serving files
 * from memory and recording every call.
 */
import { createHash } from "node:crypto";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { HubClient, RemoteFile } from "../../../src/parser/source/hub.js";

export const SHA_A = "a".repeat(40);
export const SHA_B = "b".repeat(40);

export type RepoFiles = Readonly<Record<string, string | Uint8Array>>;

function blobIdOf(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** Writes repo@sha into `cache` like huggingface_hub: blobs, relative snapshot symlinks, refs. */
export async function writeCachedRepo(
  cache: string,
  repo: string,
  sha: string,
  files: RepoFiles,
  refs: readonly string[] = ["main"],
): Promise<string> {
  const root = join(cache, `models--${repo.replace("/", "--")}`);
  const snap = join(root, "snapshots", sha);
  for (const [path, content] of Object.entries(files)) {
    const blob = join(root, "blobs", blobIdOf(content));
    await mkdir(dirname(blob), { recursive: true });
    await writeFile(blob, content);
    const link = join(snap, ...path.split("/"));
    await mkdir(dirname(link), { recursive: true });
    await symlink(relative(dirname(link), blob), link);
  }
  await mkdir(snap, { recursive: true });
  for (const r of refs) {
    await mkdir(dirname(join(root, "refs", r)), { recursive: true });
    await writeFile(join(root, "refs", r), sha);
  }
  return snap;
}

export interface StubHub extends HubClient {
  readonly calls: string[];
}

/** A hub serving `files` for `repo` at `sha` (any revision name resolves to it). */
export function stubHub(
  repo: string,
  sha: string,
  files: RepoFiles,
  opts: { truncate?: string } = {},
): StubHub {
  const calls: string[] = [];
  const listing: RemoteFile[] = Object.entries(files).map(([path, c]) => ({
    path,
    size: typeof c === "string" ? Buffer.byteLength(c) : c.length,
    blobId: blobIdOf(c),
  }));
  const check = (r: string) => {
    if (r !== repo) throw Object.assign(new Error(`no repo ${r}`), { statusCode: 404 });
  };
  return {
    calls,
    async resolveRevision(r, rev) {
      calls.push(`resolve ${r}@${rev}`);
      check(r);
      return sha;
    },
    async listFiles(r, s) {
      calls.push(`list ${r}@${s}`);
      check(r);
      return listing;
    },
    async download(r, s, path, dest, onProgress) {
      calls.push(`download ${path}`);
      check(r);
      if (s !== sha) throw new Error(`unexpected sha ${s}`);
      const c = files[path];
      if (c === undefined) throw Object.assign(new Error(`no file ${path}`), { statusCode: 404 });
      const bytes = typeof c === "string" ? Buffer.from(c) : c;
      const data = opts.truncate === path ? bytes.subarray(0, bytes.length - 1) : bytes;
      await writeFile(dest, data);
      onProgress(data.length);
    },
  };
}

/** A hub that fails the test if it is used at all. */
export const noNetwork: HubClient = {
  resolveRevision: () => Promise.reject(new Error("network used")),
  listFiles: () => Promise.reject(new Error("network used")),
  download: () => Promise.reject(new Error("network used")),
};
