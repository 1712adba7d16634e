/**
 * The network, behind one small interface so that tests run with a stub and nothing else in the
 * parser knows about HTTP. The real client uses @huggingface/hub's plain API calls (modelInfo,
 * listFiles, downloadFile), never its cache helpers (they print on stdout and ignore HF_* env
 * vars): the endpoint and token are passed explicitly, and whatever the library prints on the
 * console while it runs is redirected to the logger's debug channel, keeping stdout clean.
 */
import { open, rm } from "node:fs/promises";
import { downloadFile, listFiles, modelInfo } from "@huggingface/hub";
import { invalidInput, ioError, isPccxError, type PccxError } from "../../diag/index.js";
import type { Logger } from "../../diag/log.js";

export interface RemoteFile {
  /** Path inside the repo, `/`-separated. */
  readonly path: string;
  readonly size: number;
  /** Name of the blob in the cache: the LFS sha256 for large files, else the git blob id. */
  readonly blobId: string;
}

export interface HubClient {
  /** The commit sha a branch, tag or sha names. */
  resolveRevision(repo: string, revision: string): Promise<string>;
  /** Every file of the repo at commit `sha`. */
  listFiles(repo: string, sha: string): Promise<readonly RemoteFile[]>;
  /** Writes the file's bytes to `dest` (created or truncated), reporting bytes as they arrive. */
  download(
    repo: string,
    sha: string,
    path: string,
    dest: string,
    onProgress: (bytes: number) => void,
  ): Promise<void>;
}

export const DEFAULT_ENDPOINT = "https://huggingface.co";

export interface HubClientOptions {
  readonly endpoint: string;
  readonly token?: string;
  readonly logger: Logger;
  /** The HTTP client (tests pass a fake; default: global fetch). */
  readonly fetch?: typeof fetch;
}

export function createHubClient(opts: HubClientOptions): HubClient {
  const hubUrl = opts.endpoint.replace(/\/+$/, "");
  const cred = {
    ...(opts.token ? { accessToken: opts.token } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  };
  const guard = <T>(repo: string, what: string, fn: () => Promise<T>) =>
    withQuietConsole(opts.logger, fn).catch((e: unknown) => {
      throw hubError(e, repo, what, hubUrl);
    });
  return {
    resolveRevision: (repo, revision) =>
      guard(repo, `resolving revision "${revision}"`, async () => {
        const info = await modelInfo({ name: repo, revision, hubUrl, additionalFields: ["sha"], ...cred });
        const sha = (info as { sha?: unknown }).sha;
        if (typeof sha !== "string")
          throw new Error(`the hub returned no commit sha for ${repo}@${revision}`);
        return sha;
      }),
    listFiles: (repo, sha) =>
      guard(repo, "listing files", async () => {
        const out: RemoteFile[] = [];
        for await (const f of listFiles({ repo, revision: sha, recursive: true, hubUrl, ...cred })) {
          if (f.type !== "file") continue;
          const blobId = f.lfs?.oid ?? f.oid;
          if (!blobId) throw new Error(`the hub listed ${f.path} without a blob id`);
          out.push({ path: f.path, size: f.lfs?.size ?? f.size, blobId });
        }
        return out;
      }),
    download: (repo, sha, path, dest, onProgress) =>
      guard(repo, `downloading ${path}`, async () => {
        const blob = await downloadFile({ repo, path, revision: sha, hubUrl, ...cred });
        if (!blob) throw invalidInput("source/remote-missing", `${repo}@${sha} has no file ${path}`);
        await streamToFile(blob.stream(), dest, onProgress);
      }),
  };
}

async function streamToFile(
  stream: ReadableStream<Uint8Array>,
  dest: string,
  onProgress: (bytes: number) => void,
): Promise<void> {
  const fh = await open(dest, "w");
  try {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let off = 0;
      while (off < value.length) off += (await fh.write(value, off, value.length - off)).bytesWritten;
      onProgress(value.length);
    }
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(dest, { force: true });
    throw e;
  }
}

/** Maps a hub/network failure to a PccxError: auth (4), not found (2), anything else I/O (4). */
export function hubError(e: unknown, repo: string, what: string, hubUrl: string): PccxError {
  if (isPccxError(e)) return e;
  const status = (e as { statusCode?: unknown }).statusCode;
  const msg = e instanceof Error ? e.message : String(e);
  if (status === 401 || status === 403) {
    return ioError("source/auth", `${hubUrl} refused access to ${repo} (HTTP ${status}) while ${what}`, {
      notes: [msg],
      fix: "for a gated or private model, accept its license on the hub and pass a token (--token or HF_TOKEN)",
    });
  }
  if (status === 404) {
    return invalidInput(
      "source/repo-not-found",
      `${repo} was not found on ${hubUrl} while ${what} (HTTP 404)`,
      {
        notes: [msg],
        fix: "check the repo id and --revision (a private repo also answers 404 without a token)",
      },
    );
  }
  return ioError("source/network", `network error while ${what} for ${repo} from ${hubUrl}: ${msg}`, {
    fix: "check the connection (and HF_ENDPOINT), or use a model already in the local cache with --offline",
  });
}

let quietDepth = 0;
let saved: Pick<Console, "log" | "info" | "debug"> | undefined;

/** Runs `fn` with console.log/info/debug (which write to stdout) sent to `logger.debug`. */
export async function withQuietConsole<T>(logger: Logger, fn: () => Promise<T>): Promise<T> {
  if (quietDepth++ === 0) {
    saved = { log: console.log, info: console.info, debug: console.debug };
    const toDebug = (...args: unknown[]) => logger.debug(args.map(String).join(" "));
    console.log = toDebug;
    console.info = toDebug;
    console.debug = toDebug;
  }
  try {
    return await fn();
  } finally {
    if (--quietDepth === 0 && saved) {
      console.log = saved.log;
      console.info = saved.info;
      console.debug = saved.debug;
      saved = undefined;
    }
  }
}
