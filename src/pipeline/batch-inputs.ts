/**
 * The model list of `pccxc batch`: paths and repo ids as given, `@list.txt` files (one model per
 * line, `#` comments and blank lines ignored, relative paths resolved from the list's directory),
 * and `--shared` (every folder with a config.json under ../shared/configs, sorted).
 */
import { existsSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { ioError, usageError } from "../diag/index.js";

/** The shared configs folder beside the project (`../shared/configs` from the package root). */
export function defaultSharedDir(): string {
  return fileURLToPath(new URL("../../../shared/configs/", import.meta.url));
}

async function readList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw ioError("batch/list-unreadable", `cannot read the model list ${file}: ${(e as Error).message}`, {
      at: { file },
      fix: "give an existing file after @, e.g. @models.txt",
    });
  }
  const dir = dirname(file);
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const local = resolvePath(dir, l);
      return existsSync(local) ? local : l;
    });
}

/** Every direct subfolder of `dir` that holds a config.json, sorted by name. */
export async function sharedConfigs(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw ioError(
      "batch/shared-missing",
      `cannot list the shared configs folder ${dir}: ${(e as Error).message}`,
      {
        at: { file: dir },
        fix: "pass the folder explicitly: --shared <dir>",
      },
    );
  }
  return names
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => existsSync(join(p, "config.json")));
}

export async function expandInputs(
  inputs: readonly string[],
  opts: { readonly shared?: string | boolean; readonly cwd: string },
): Promise<string[]> {
  const out: string[] = [];
  for (const i of inputs) {
    if (i.startsWith("@")) out.push(...(await readList(resolvePath(opts.cwd, i.slice(1)))));
    else out.push(i);
  }
  if (opts.shared) {
    const dir = typeof opts.shared === "string" ? resolvePath(opts.cwd, opts.shared) : defaultSharedDir();
    out.push(...(await sharedConfigs(dir)));
  }
  if (out.length === 0) {
    throw usageError("batch/no-models", "no models to process", {
      fix: "give model paths or repo ids, a list file @models.txt, or --shared",
    });
  }
  return out;
}

/** A short name for a model input: the folder's name for local paths, the repo id otherwise. */
export function inputName(spec: string, cwd: string): string {
  const p = resolvePath(cwd, spec);
  if (!existsSync(p)) return spec;
  return statSync(p).isDirectory() ? basename(p) : basename(dirname(p));
}

/** A directory name for a model's output: `org/name` → `org__name`. */
export function outputDirName(name: string): string {
  return name.replace(/[\\/:]+/g, "__");
}
