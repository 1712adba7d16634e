/**
 * Where a `--plugin <path|package>` spec points: a file or directory relative to the working
 * directory, or an installed package found from it (node_modules, walking up, with the package's
 * `exports` "." entry under the import/node/default conditions, else `module`/`main`/index.js).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { invalidInput, ioError } from "../diag/index.js";

const EXT = /\.(?:m?js|cjs|m?ts|cts)$/;

/** A spec names a path when it is absolute, starts with "." or "~", or ends in a script extension. */
export function isPathSpec(spec: string): boolean {
  return (
    isAbsolute(spec) || spec.startsWith(".") || spec.startsWith("~") || EXT.test(spec) || spec.includes("\\")
  );
}

type Exports = string | { readonly [k: string]: Exports | null } | null | undefined;

/** The file an `exports` entry names for an ESM import (conditions import, node, default). */
function pickExport(e: Exports): string | undefined {
  if (typeof e === "string") return e;
  if (!e || typeof e !== "object") return undefined;
  for (const cond of ["import", "node", "default"]) {
    const v = pickExport(e[cond]);
    if (v) return v;
  }
  return undefined;
}

/** Entry file of a package (or plugin directory) rooted at `dir`, for `subpath` ("." or "./x"). */
function packageEntry(dir: string, subpath: string, spec: string): string | undefined {
  const pj = join(dir, "package.json");
  let meta: Record<string, unknown> = {};
  if (existsSync(pj)) {
    try {
      meta = JSON.parse(readFileSync(pj, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw invalidInput(
        "plugins/bad-package",
        `${pj} (plugin ${spec}) is not valid JSON: ${(e as Error).message}`,
        {
          at: { file: pj },
        },
      );
    }
  }
  const exp = meta.exports as Exports;
  if (exp !== undefined && exp !== null) {
    const map =
      typeof exp === "object" && Object.keys(exp).some((k) => k.startsWith(".")) ? exp : { ".": exp };
    const target = pickExport((map as Record<string, Exports>)[subpath]);
    return target ? resolve(dir, target) : undefined;
  }
  if (subpath !== ".") return resolve(dir, subpath);
  for (const f of [meta.module, meta.main, "index.mjs", "index.js"]) {
    if (typeof f === "string" && existsSync(resolve(dir, f))) return resolve(dir, f);
  }
  return undefined;
}

/** Splits "@scope/name/sub/path" into the package name and "./sub/path". */
function splitPackage(spec: string): { name: string; subpath: string } {
  const parts = spec.split("/");
  const n = spec.startsWith("@") ? 2 : 1;
  const rest = parts.slice(n).join("/");
  return { name: parts.slice(0, n).join("/"), subpath: rest ? `./${rest}` : "." };
}

/** The absolute file to import for a spec; `plugins/not-found` (exit 4) when there is none. */
export function resolvePluginSpec(spec: string, cwd: string, home = process.env.HOME ?? ""): string {
  if (spec.trim() === "")
    throw invalidInput("plugins/empty-spec", "--plugin needs a path or a package name", {
      fix: "pass e.g. --plugin ./my-plugin.mjs or --plugin my-pccxc-plugin",
    });
  if (isPathSpec(spec)) {
    const p = resolve(cwd, spec.startsWith("~/") ? join(home, spec.slice(2)) : spec);
    if (!existsSync(p))
      throw ioError(
        "plugins/not-found",
        `plugin file not found: ${p} (--plugin ${spec}, relative to ${cwd})`,
        {
          at: { file: p },
          fix: "check the path; relative paths are resolved from the working directory",
        },
      );
    if (!statSync(p).isDirectory()) return p;
    const entry = packageEntry(p, ".", spec);
    if (!entry || !existsSync(entry))
      throw ioError(
        "plugins/not-found",
        `plugin directory ${p} has no entry file (package.json exports/main, index.mjs or index.js)`,
        {
          at: { file: p },
          fix: 'point --plugin at the plugin\'s .js/.mjs file, or add a package.json with "main"',
        },
      );
    return entry;
  }
  const { name, subpath } = splitPackage(spec);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const pkgDir = join(dir, "node_modules", name);
    if (existsSync(join(pkgDir, "package.json")) || existsSync(pkgDir)) {
      const entry = packageEntry(pkgDir, subpath, spec);
      if (entry && existsSync(entry)) return entry;
      throw ioError("plugins/not-found", `package ${name} (${pkgDir}) has no entry for "${subpath}"`, {
        at: { file: pkgDir },
        fix: "check the package's exports/main fields, or pass the plugin file's path",
      });
    }
    if (dirname(dir) === dir) break;
  }
  throw ioError(
    "plugins/not-found",
    `cannot find package "${name}" from ${cwd} (no node_modules/${name} in it or any parent)`,
    {
      fix: `install it (npm install ${name}) or pass the plugin file's path (./path/to/plugin.mjs)`,
    },
  );
}
