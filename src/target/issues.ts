/**
 * Turning problems in a (merged) target into messages that name the file, the JSON path, what was
 * expected and what was found: `targets/x.json at $.ports[2].width_bits: expected a positive
 * integer, got -1`. Zod issues and semantic findings both go through here.
 */
import type { z } from "zod";
import { type ErrorDetails, invalidInput, type PccxError, type SourceLoc } from "../diag/index.js";
import { formatPath, getAt, type PathSeg, parsePath, preview } from "./json-path.js";
import { locatePath } from "./json-text.js";
import { type ResolvedRaw, replacePrefix } from "./resolve.js";
import { knownKeysAt, suggestKey } from "./schema-walk.js";

/** A problem found in a target, before it is attributed to a file. */
export interface TargetProblem {
  readonly path: readonly PathSeg[];
  readonly message: string;
  /** Append ", got <value>" (the value at path in the merged file). */
  readonly showValue?: boolean;
  readonly fix?: string;
}

/** Finds which file (or override) wrote a path and where, for messages. */
export class Blame {
  constructor(private readonly resolved: ResolvedRaw) {}

  /** The label of the file or override that wrote `path` or, failing that, its nearest ancestor. */
  labelOf(path: readonly PathSeg[]): string {
    const { origins, top } = this.resolved;
    for (let n = path.length; n >= 0; n--) {
      const p = formatPath(path.slice(0, n));
      const under: string[] = [];
      for (const [k, label] of origins) {
        if (k === p || k.startsWith(`${p}.`) || k.startsWith(`${p}[`)) under.push(label);
      }
      if (under.length > 0) return under.includes(top) ? top : under[0]!;
    }
    return top;
  }

  /** The file, the path as written in that file, and its line. */
  locOf(path: readonly PathSeg[]): SourceLoc {
    const file = this.labelOf(path);
    const text = this.resolved.files.get(file)?.text;
    const moved = this.resolved.moved.get(file);
    const jsonPath = moved ? replacePrefix(formatPath(path), moved) : formatPath(path);
    const pos = text !== undefined ? locatePath(text, pathSegs(jsonPath)) : undefined;
    return { file, jsonPath, ...(pos ? { line: pos.line, column: pos.column } : {}) };
  }

  render(p: TargetProblem): { text: string; at: SourceLoc } {
    const at = this.locOf(p.path);
    const merged = formatPath(p.path);
    const where = at.jsonPath === merged ? merged : `${at.jsonPath} (${merged} after extends)`;
    const got = p.showValue ? `, got ${preview(getAt(this.resolved.raw, p.path))}` : "";
    return { text: `${at.file} at ${where}: ${p.message}${got}`, at };
  }

  /** One error for a list of problems: the first is the message, the others are notes. */
  error(code: string, problems: readonly TargetProblem[], extra: ErrorDetails = {}): PccxError {
    const rendered = problems.map((p) => this.render(p));
    const first = rendered[0]!;
    const more = rendered.slice(1).map((r) => r.text);
    const fix = problems[0]?.fix ?? extra.fix;
    return invalidInput(code, first.text, {
      at: first.at,
      notes: [...more, ...(extra.notes ?? [])],
      ...(fix ? { fix } : {}),
    });
  }
}

/** Segments of a canonical path (keys and indices only). */
function pathSegs(p: string): PathSeg[] {
  if (p === "$") return [];
  return parsePath(p).map((s) => ("key" in s ? s.key : "index" in s ? s.index : s.byName));
}

const ZOD_DEFAULT_MESSAGE = /^(Invalid input|Invalid option|Unrecognized key|Invalid)/;

/** Zod issues as problems; an unknown key becomes one problem per key, with a suggestion. */
export function problemsFromZod(issues: readonly z.core.$ZodIssue[], raw: unknown): TargetProblem[] {
  const out: TargetProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((s): s is PathSeg => typeof s !== "symbol");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const hint = suggestKey(key, knownKeysAt(path));
        out.push({
          path: [...path, key],
          message: `unknown field "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}`,
          fix: hint ? `rename "${key}" to "${hint}"` : "remove the field (see schemas/target.schema.json)",
        });
      }
      continue;
    }
    const value = getAt(raw, path);
    const custom = !ZOD_DEFAULT_MESSAGE.test(issue.message);
    let message = custom ? issue.message : defaultMessage(issue);
    if (value === undefined && issue.code === "invalid_type") {
      out.push({ path, message: `required field is missing (${message})` });
      continue;
    }
    if (issue.code === "invalid_value" && !custom) message = `expected one of ${quoteList(issue.values)}`;
    out.push({ path, message, showValue: true });
  }
  return out;
}

function defaultMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${article(issue.expected)}`;
    case "invalid_value":
      return `expected one of ${quoteList(issue.values)}`;
    default:
      return issue.message;
  }
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function quoteList(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(", ");
}
