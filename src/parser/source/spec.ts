/**
 * What the `<model>` argument names: an existing local directory, an existing config.json (or
 * other *.json) file, or else a Hugging Face repo id `org/name`. A local path wins over a repo id
 * of the same spelling, as in transformers.
 */
import { stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { invalidInput } from "../../diag/index.js";

export type ModelSpec =
  | { readonly kind: "dir"; readonly dir: string }
  | { readonly kind: "config"; readonly dir: string; readonly configFile: string }
  | { readonly kind: "repo"; readonly repo: string };

const REPO_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$/;

/** huggingface_hub's repo id rules, with the org required: `org/name`, no `--` or `..`. */
export function isRepoId(s: string): boolean {
  const parts = s.split("/");
  return (
    parts.length === 2 &&
    parts.every((p) => REPO_PART.test(p)) &&
    !s.includes("--") &&
    !s.includes("..") &&
    !s.endsWith(".git")
  );
}

export async function classifySpec(spec: string, cwd: string): Promise<ModelSpec> {
  const abs = resolve(cwd, spec);
  const st = await stat(abs).catch(() => undefined);
  if (st?.isDirectory()) return { kind: "dir", dir: abs };
  if (st?.isFile()) {
    if (!abs.endsWith(".json")) {
      throw invalidInput("source/not-a-config", `${spec} is a file but not a config.json`, {
        at: { file: abs },
        fix: "pass the model directory, its config.json, or a Hugging Face repo id (org/name)",
      });
    }
    return { kind: "config", dir: dirname(abs), configFile: abs };
  }
  if (isRepoId(spec)) return { kind: "repo", repo: spec };
  throw invalidInput("source/not-found", `${spec} is not a directory, a config.json or a repo id`, {
    at: { file: abs },
    notes: [`no file or directory ${abs}`, `"${basename(spec)}" is not of the form org/name`],
    fix: "pass a local model directory, its config.json, or a Hugging Face repo id such as Qwen/Qwen3-0.6B",
  });
}
