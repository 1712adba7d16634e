/**
 * Every number in a target carries a source. The `sources` object maps a JSON path to a citation
 * ("pccx-v002.md §2 GEMV") or an estimate with its reasoning ("pccxc estimate: ..."). Rules:
 * - a key must be a canonical path (`$.a.b[0].c`) to a value that exists;
 * - every numeric value written in a file has a source declared in that same file (a file that
 *   extends another and changes a number must say where the new number comes from);
 * - defaults take their source from the schema, overrides from the command line.
 * Inherited sources of values a child file replaced are dropped.
 */

import type { TargetProblem } from "./issues.js";
import { formatPath, getAt, leaves, type PathSeg, type PathSelector, parsePath } from "./json-path.js";
import { type ResolvedRaw, replacePrefix } from "./resolve.js";
import type { TargetFile } from "./schema.js";

const MAX_REPORTED = 25;

/** Parse a `sources` key; only keys and indices (no name selectors), in canonical form. */
function sourcePath(key: string): PathSeg[] | undefined {
  let sel: PathSelector[];
  try {
    sel = parsePath(key);
  } catch {
    return undefined;
  }
  const segs: PathSeg[] = [];
  for (const s of sel) {
    if ("byName" in s) return undefined;
    segs.push("key" in s ? s.key : s.index);
  }
  return formatPath(segs) === key ? segs : undefined;
}

export interface SourceCheck {
  readonly problems: TargetProblem[];
  /** The sources that apply to the validated file (stale inherited entries removed). */
  readonly sources: Record<string, string>;
}

export function checkSources(file: TargetFile, resolved: ResolvedRaw): SourceCheck {
  const problems: TargetProblem[] = [];
  const sources: Record<string, string> = {};
  for (const [key, text] of Object.entries(file.sources)) {
    const declaredBy = resolved.sourceOrigins.get(key);
    const segs = sourcePath(key);
    const exists = segs !== undefined && segs[0] !== "sources" && getAt(file, segs) !== undefined;
    if (exists) {
      sources[key] = text;
      continue;
    }
    if (declaredBy === resolved.top || declaredBy === undefined) {
      problems.push({
        path: ["sources", key],
        message:
          segs === undefined
            ? `"${key}" is not a canonical JSON path (write it like "$.ports[0].width_bits")`
            : `"${key}" names no value in the target`,
        fix: "correct the path or remove the entry",
      });
    }
  }
  const missing: TargetProblem[] = [];
  for (const [segs, v] of leaves(file)) {
    if (typeof v !== "number" || segs[0] === "sources") continue;
    const p = formatPath(segs);
    const wroteIt = resolved.origins.get(p);
    if (wroteIt === undefined) continue; // a schema default: its source is in the schema
    const declaredBy = resolved.sourceOrigins.get(p);
    if (declaredBy === wroteIt && sources[p] !== undefined) continue;
    const key = replacePrefix(p, resolved.moved.get(wroteIt) ?? new Map()); // as written in that file
    missing.push({
      path: segs,
      message:
        declaredBy === undefined
          ? `number ${v} has no source: add "${key}": "<citation, or pccxc estimate: reasoning>" to $.sources`
          : `number ${v} is set here but its source comes from ${declaredBy}: add "${key}" to this file's $.sources`,
      fix: `add "${key}" to $.sources in ${wroteIt}`,
    });
  }
  problems.push(...missing.slice(0, MAX_REPORTED));
  if (missing.length > MAX_REPORTED)
    problems.push({
      path: ["sources"],
      message: `and ${missing.length - MAX_REPORTED} more numbers without a source`,
    });
  return { problems, sources };
}
