/**
 * What finding a model depends on: the command-line options and the HF_* environment variables
 * (read here, explicitly, because @huggingface/hub ignores them).
 */
import type { Logger } from "../../diag/log.js";
import type { Env } from "./cache.js";
import { DEFAULT_ENDPOINT, type HubClient } from "./hub.js";

/** "required": no weights is an error; "optional": used when present (fetched when online); "none": never. */
export type WeightsPolicy = "required" | "optional" | "none";

export interface WeightsWanted {
  readonly policy: WeightsPolicy;
  /** `--weights`: a repo-relative path of a *.safetensors file or *.index.json (repo ids only). */
  readonly override?: string;
}

export interface SourceOptions {
  /** Branch, tag or commit sha of a repo id; default "main". */
  readonly revision?: string;
  /** `--cache-dir`: overrides every HF_* cache variable. */
  readonly cacheDir?: string;
  /** `--offline`; HF_HUB_OFFLINE=1/true/yes/on has the same effect. */
  readonly offline?: boolean;
  /** `--token`; else HF_TOKEN. */
  readonly token?: string;
  /** `--weights <file|index>`. */
  readonly weights?: string;
  readonly weightsPolicy?: WeightsPolicy;
  readonly env?: Env;
  readonly cwd?: string;
  readonly logger?: Logger;
  /** The network; default: the real @huggingface/hub client. Tests pass a stub. */
  readonly hub?: HubClient;
}

const TRUE_VALUES = new Set(["1", "true", "yes", "on"]);

export function envFlag(env: Env, key: string): boolean {
  const v = env[key];
  return v !== undefined && TRUE_VALUES.has(v.trim().toLowerCase());
}

export function isOffline(opts: SourceOptions, env: Env): boolean {
  return Boolean(opts.offline) || envFlag(env, "HF_HUB_OFFLINE");
}

export function hubToken(opts: SourceOptions, env: Env): string | undefined {
  return opts.token || env["HF_TOKEN"] || undefined;
}

export function hubEndpoint(env: Env): string {
  return (env["HF_ENDPOINT"] || DEFAULT_ENDPOINT).replace(/\/+$/, "");
}
