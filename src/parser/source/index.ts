/**
 * source: consumes the `<model>` argument (a directory, a config.json, or a Hugging Face repo id
 * with revision) plus the cache/offline/token settings, and produces a ResolvedSource: the
 * directory holding config.json, the chosen weight set and every file of interest. Repo ids come
 * from the standard hub cache first; missing files are downloaded unless offline.
 */
export {
  blobPath,
  type CacheLocation,
  candidateCacheDirs,
  type Env,
  findSnapshot,
  refPath,
  repoDir,
  repoFolderName,
  resolveCacheDir,
  SHA_RE,
  type SnapshotLookup,
  snapshotDir,
} from "./cache.js";
export {
  CONFIG_FILE,
  type DownloadRequest,
  type DownloadResult,
  downloadToCache,
  EXTRA_FILES,
} from "./download.js";
export {
  createHubClient,
  DEFAULT_ENDPOINT,
  type HubClient,
  type HubClientOptions,
  type RemoteFile,
} from "./hub.js";
export {
  envFlag,
  hubEndpoint,
  hubToken,
  isOffline,
  type SourceOptions,
  type WeightsPolicy,
  type WeightsWanted,
} from "./options.js";
export { type ModelOrigin, type ResolvedSource, resolveSource } from "./resolve.js";
export { classifySpec, isRepoId, type ModelSpec } from "./spec.js";
