/**
 * Finding a model's files: a local directory as it is; a repo id offline first from the hub cache,
 * downloading what is missing unless offline. Produces the directory holding config.json, the
 * chosen weight set (not yet opened) and where every file of interest is.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { invalidInput, ioError, isPccxError } from "../../diag/index.js";
import { silentLogger } from "../../diag/log.js";
import {
  findWeights,
  INDEX_FILE,
  noWeightsError,
  parseWeightIndexText,
  SINGLE_FILE,
  type WeightLookup,
  weightSetFromFile,
} from "../safetensors/weights.js";
import {
  candidateCacheDirs,
  type Env,
  findSnapshot,
  isDir,
  isFile,
  repoFolderName,
  resolveCacheDir,
} from "./cache.js";
import { CONFIG_FILE, downloadToCache, EXTRA_FILES } from "./download.js";
import { createHubClient, hubError } from "./hub.js";
import { hubEndpoint, hubToken, isOffline, type SourceOptions, type WeightsPolicy } from "./options.js";
import { classifySpec } from "./spec.js";

export type ModelOrigin =
  | { readonly kind: "dir"; readonly dir: string }
  | {
      readonly kind: "hf-cache";
      readonly repo: string;
      readonly revision: string;
      readonly sha: string;
      readonly cacheDir: string;
      /** The setting that chose cacheDir ("--cache-dir", "HF_HUB_CACHE", ..., "default"). */
      readonly cacheSource: string;
      readonly snapshotDir: string;
      /** Repo paths this run downloaded (empty when everything was cached). */
      readonly downloaded: readonly string[];
    };

export interface ResolvedSource {
  readonly origin: ModelOrigin;
  /** The directory holding config.json. */
  readonly dir: string;
  readonly configFile: string;
  /** The chosen weights; undefined when the policy is "none". */
  readonly weights?: WeightLookup;
  /** Relative name → absolute path of every file of interest that is present. */
  readonly files: Readonly<Record<string, string>>;
}

export async function resolveSource(spec: string, opts: SourceOptions = {}): Promise<ResolvedSource> {
  const cwd = opts.cwd ?? process.cwd();
  const s = await classifySpec(spec, cwd);
  if (s.kind === "repo") return resolveRepo(s.repo, opts, cwd);
  const configFile = s.kind === "config" ? s.configFile : join(s.dir, CONFIG_FILE);
  if (!(await isFile(configFile))) {
    throw invalidInput("source/no-config", `no ${CONFIG_FILE} in ${s.dir}`, {
      at: { file: configFile },
      fix: "pass a directory holding the model's config.json, or the config file itself",
    });
  }
  const weights = await chooseWeights(s.dir, opts, cwd, opts.weightsPolicy ?? "optional");
  return {
    origin: { kind: "dir", dir: s.dir },
    dir: s.dir,
    configFile,
    weights,
    files: await collectFiles(s.dir, configFile, weights),
  };
}

async function chooseWeights(
  dir: string,
  opts: SourceOptions,
  cwd: string,
  policy: WeightsPolicy,
): Promise<WeightLookup | undefined> {
  if (policy === "none" && !opts.weights) return undefined;
  if (opts.weights) {
    const local = resolve(cwd, opts.weights);
    const path = isAbsolute(opts.weights) || (await isFile(local)) ? local : resolve(dir, opts.weights);
    return { found: true, set: await weightSetFromFile(path) };
  }
  const found = await findWeights(dir);
  if (!found.found && policy === "required") throw noWeightsError(found.dir, found.seen);
  return found;
}

async function resolveRepo(repo: string, opts: SourceOptions, cwd: string): Promise<ResolvedSource> {
  const env: Env = opts.env ?? process.env;
  const revision = opts.revision ?? "main";
  const cache = resolveCacheDir(opts.cacheDir, env, cwd);
  const policy = opts.weightsPolicy ?? "optional";
  const offline = isOffline(opts, env);
  const localOverride = opts.weights && (await isFile(resolve(cwd, opts.weights))) ? opts.weights : undefined;
  const repoOverride = localOverride ? undefined : opts.weights;
  let snap = await findSnapshot(cache.dir, repo, revision);
  let downloaded: readonly string[] = [];
  // A local --weights file replaces the repo's weights: the snapshot then only needs the config.
  const snapPolicy: WeightsPolicy = localOverride ? "none" : policy;
  let missing = await missingFiles(snap, snapPolicy, repoOverride, !offline);
  if (missing.length && !offline) {
    const logger = opts.logger ?? silentLogger;
    const hub =
      opts.hub ?? createHubClient({ endpoint: hubEndpoint(env), token: hubToken(opts, env), logger });
    const weights = { policy: snapPolicy, ...(repoOverride ? { override: repoOverride } : {}) };
    try {
      downloaded = (await downloadToCache({ hub, repo, revision, cache: cache.dir, weights, logger }))
        .downloaded;
    } catch (e) {
      throw downloadFailure(e, repo, cache.dir, hubEndpoint(env));
    }
    snap = await findSnapshot(cache.dir, repo, revision);
    missing = await missingFiles(snap, snapPolicy, repoOverride, false);
  }
  if (snap.kind !== "found" || missing.length) {
    throw await notInCache(repo, revision, missing, opts, env, cwd, offline);
  }
  const dir = snap.dir;
  const configFile = join(dir, CONFIG_FILE);
  const override = localOverride ? resolve(cwd, localOverride) : repoOverride;
  const weights = await chooseWeights(dir, { ...opts, weights: override }, cwd, policy);
  const origin: ModelOrigin = {
    kind: "hf-cache",
    repo,
    revision,
    sha: snap.sha,
    cacheDir: cache.dir,
    cacheSource: cache.source,
    snapshotDir: dir,
    downloaded,
  };
  return { origin, dir, configFile, weights, files: await collectFiles(dir, configFile, weights) };
}

/** File-system failures while writing the cache are I/O errors about the cache, not the network. */
function downloadFailure(e: unknown, repo: string, cacheDir: string, endpoint: string) {
  if (isPccxError(e)) return e;
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === "string" && /^E[A-Z]+$/.test(errno)) {
    return ioError(
      "source/cache-io",
      `cannot write ${repo} into the cache ${cacheDir}: ${(e as Error).message}`,
      {
        at: { file: cacheDir },
        fix: "check the cache directory's permissions and free space, or choose another with --cache-dir",
      },
    );
  }
  return hubError(e, repo, "downloading", endpoint);
}

/**
 * Files the run needs that the snapshot lacks. With `wantOptional`, optional weights count as
 * needed (online, they are fetched); otherwise a snapshot without any weights is complete.
 */
async function missingFiles(
  snap: Awaited<ReturnType<typeof findSnapshot>>,
  policy: WeightsPolicy,
  override: string | undefined,
  wantOptional: boolean,
): Promise<string[]> {
  const weightsNote = `${INDEX_FILE} or ${SINGLE_FILE}`;
  if (snap.kind === "no-repo") return [CONFIG_FILE, ...(policy === "none" ? [] : [override ?? weightsNote])];
  if (snap.kind === "no-ref") return [`the ref file ${snap.refFile}`];
  if (snap.kind === "no-snapshot") return [`the snapshot snapshots/${snap.sha}`];
  const dir = snap.dir;
  const missing: string[] = [];
  if (!(await isFile(join(dir, CONFIG_FILE)))) missing.push(CONFIG_FILE);
  if (policy === "none" && !override) return missing;
  const chosen =
    override ??
    ((await isFile(join(dir, INDEX_FILE)))
      ? INDEX_FILE
      : (await isFile(join(dir, SINGLE_FILE)))
        ? SINGLE_FILE
        : undefined);
  if (!chosen) {
    if (policy === "required" || wantOptional) missing.push(weightsNote);
    return missing;
  }
  const chosenPath = join(dir, ...chosen.split("/"));
  if (!(await isFile(chosenPath))) return [...missing, chosen];
  if (!chosen.endsWith(".index.json")) return missing;
  const parsed = parseWeightIndexText(await readFile(chosenPath, "utf8"), chosenPath);
  const base = resolve(chosenPath, "..");
  for (const shard of parsed.shardNames) {
    if (!(await isFile(resolve(base, shard)))) missing.push(relative(dir, resolve(base, shard)));
  }
  return missing;
}

async function notInCache(
  repo: string,
  revision: string,
  missing: readonly string[],
  opts: SourceOptions,
  env: Env,
  cwd: string,
  offline: boolean,
) {
  const dirs = candidateCacheDirs(opts.cacheDir, env, cwd);
  const chosen = dirs[0]!;
  const folder = repoFolderName(repo);
  const why = opts.offline ? "--offline" : "HF_HUB_OFFLINE";
  const others: string[] = [];
  for (const d of dirs.slice(1)) {
    const held = await isDir(join(d.dir, folder));
    others.push(
      held
        ? `${join(d.dir, folder)} exists (the cache ${d.source === "default" ? "by default" : `from ${d.source}`}); use --cache-dir ${d.dir} to use it`
        : `also checked ${join(d.dir, folder)}: not there`,
    );
  }
  return ioError(
    "source/not-in-cache",
    `${repo} at revision "${revision}" is ${missing[0] === CONFIG_FILE ? "not" : "incomplete"} in the Hugging Face cache` +
      (offline ? ` and downloads are disabled (${why})` : "") +
      `; missing: ${missing.join(", ")}`,
    {
      at: { file: join(chosen.dir, folder) },
      notes: [`looked in ${join(chosen.dir, folder)} (cache chosen by ${chosen.source})`, ...others],
      fix: offline
        ? `drop ${why} to let pccxc download it, or fetch it first with ` +
          `\`huggingface-cli download ${repo} --revision ${revision}\`, or point --cache-dir (or HF_HUB_CACHE) at the cache that holds it`
        : `retry the download, or fetch it with \`huggingface-cli download ${repo} --revision ${revision}\``,
    },
  );
}

async function collectFiles(
  dir: string,
  configFile: string,
  weights?: WeightLookup,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const add = (p: string) => {
    const rel = relative(dir, p);
    out[rel.startsWith("..") || isAbsolute(rel) ? p : rel] = p;
  };
  add(configFile);
  for (const f of EXTRA_FILES) if (await isFile(join(dir, f))) add(join(dir, f));
  if (weights?.found) {
    if (weights.set.kind === "index") add(weights.set.file);
    for (const s of weights.set.shards) add(s);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
