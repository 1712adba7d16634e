/**
 * The Hugging Face hub cache, as Python's huggingface_hub lays it out, so that a model downloaded
 * by `huggingface-cli download` (or transformers) is found without network:
 *
 *   <cache>/models--<org>--<name>/refs/<revision>      a commit sha
 *   <cache>/models--<org>--<name>/snapshots/<sha>/...  the files (symlinks into ../../blobs/)
 *   <cache>/models--<org>--<name>/blobs/<etag>         the contents
 *
 * The cache directory follows huggingface_hub's precedence (see resolveCacheDir).
 */
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export type Env = Readonly<Record<string, string | undefined>>;

export interface CacheLocation {
  readonly dir: string;
  /** Which setting chose it, for messages: "--cache-dir", "HF_HUB_CACHE", ..., "default". */
  readonly source: string;
}

export const SHA_RE = /^[0-9a-f]{40}$/;

function expandHome(p: string, home: string): string {
  if (p === "~") return home;
  if (p.startsWith("~/")) return join(home, p.slice(2));
  return p;
}

function setting(env: Env, key: string): string | undefined {
  const v = env[key];
  return v === undefined || v === "" ? undefined : v;
}

/**
 * `--cache-dir`, else HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. Relative paths resolve against
 * `cwd`; a leading `~` against the home directory ($HOME, else the OS's).
 */
export function resolveCacheDir(cacheDir: string | undefined, env: Env, cwd: string): CacheLocation {
  const home = setting(env, "HOME") ?? homedir();
  const abs = (p: string) => resolve(cwd, expandHome(p, home));
  if (cacheDir) return { dir: abs(cacheDir), source: "--cache-dir" };
  for (const key of ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"]) {
    const v = setting(env, key);
    if (v) return { dir: abs(v), source: key };
  }
  const hfHome = setting(env, "HF_HOME");
  if (hfHome) return { dir: join(abs(hfHome), "hub"), source: "HF_HOME" };
  const xdg = setting(env, "XDG_CACHE_HOME");
  if (xdg) return { dir: join(abs(xdg), "huggingface", "hub"), source: "XDG_CACHE_HOME" };
  return { dir: join(home, ".cache", "huggingface", "hub"), source: "default" };
}

/** `org/name` → `models--org--name`. */
export function repoFolderName(repo: string): string {
  return `models--${repo.split("/").join("--")}`;
}

export function repoDir(cache: string, repo: string): string {
  return join(cache, repoFolderName(repo));
}

export function refPath(cache: string, repo: string, revision: string): string {
  return join(repoDir(cache, repo), "refs", ...revision.split("/"));
}

export function snapshotDir(cache: string, repo: string, sha: string): string {
  return join(repoDir(cache, repo), "snapshots", sha);
}

export function blobPath(cache: string, repo: string, blobId: string): string {
  return join(repoDir(cache, repo), "blobs", blobId);
}

export type SnapshotLookup =
  | { readonly kind: "found"; readonly sha: string; readonly dir: string }
  | { readonly kind: "no-repo"; readonly repoDir: string }
  | { readonly kind: "no-ref"; readonly refFile: string }
  | { readonly kind: "no-snapshot"; readonly sha: string; readonly dir: string };

/** Where `repo@revision` is in the cache, if it is. A 40-hex revision is a snapshot name itself. */
export async function findSnapshot(cache: string, repo: string, revision: string): Promise<SnapshotLookup> {
  const rd = repoDir(cache, repo);
  if (!(await isDir(rd))) return { kind: "no-repo", repoDir: rd };
  let sha = revision;
  if (!SHA_RE.test(revision)) {
    const ref = refPath(cache, repo, revision);
    let text: string;
    try {
      text = await readFile(ref, "utf8");
    } catch {
      return { kind: "no-ref", refFile: ref };
    }
    sha = text.trim();
  }
  const dir = snapshotDir(cache, repo, sha);
  if (!SHA_RE.test(sha) || !(await isDir(dir))) return { kind: "no-snapshot", sha, dir };
  return { kind: "found", sha, dir };
}

export async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** True when `p` is a file (symlinks followed; a dangling symlink is not a file). */
export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Every location the precedence chain could name, the chosen one first, each once: used to say
 * where a missing model was looked for, and to point at another cache that does hold it.
 */
export function candidateCacheDirs(cacheDir: string | undefined, env: Env, cwd: string): CacheLocation[] {
  const chosen = resolveCacheDir(cacheDir, env, cwd);
  const levels: CacheLocation[] = [chosen];
  const keys = ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"];
  for (let i = 0; i <= keys.length; i++) {
    // Drop the variables above level i to see what each fallback would have chosen.
    const sub: Record<string, string | undefined> = { ...env };
    for (const k of keys.slice(0, i)) delete sub[k];
    levels.push(resolveCacheDir(undefined, sub, cwd));
  }
  const seen = new Set<string>();
  return levels.filter((l) => {
    if (seen.has(l.dir)) return false;
    seen.add(l.dir);
    return true;
  });
}
