/**
 * User overrides of the role policy: `--layout-override '<selector>=<key>:<value>,…'` on the CLI,
 * `LayoutOverride` objects in the API. A selector is a glob over the HF tensor name (or graph id)
 * and/or `role:<role>`; keys are format, group, scale, placement. Overrides apply in order (a later
 * one wins), are checked against what the hardware can consume, and an override that matches no
 * tensor is a warning.
 */
import { type Diagnostic, usageError } from "../../diag/index.js";
import type { LayoutOverride, TensorPolicy } from "../types.js";
import type { WeightUsage } from "./usage.js";

const FORMATS = ["int4", "bf16", "f32"] as const;
const GROUPS = [0, 32, 64, 128] as const;
const SCALES = ["bf16", "f16", "f32"] as const;
const PLACEMENTS = ["stream", "l2", "ddr", "off-ddr"] as const;

/** Glob → RegExp: `*` any run of characters (dots included), `?` one character, the rest literal. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "u");
}

function pick<T extends string | number>(what: string, v: string, allowed: readonly T[], text: string): T {
  const hit = allowed.find((a) => String(a) === v || (typeof a === "number" && v === "row" && a === 0));
  if (hit === undefined) {
    throw usageError(
      "layout/override",
      `layout override "${text}": ${what} "${v}" is not one of ${allowed.join(", ")}`,
      {
        fix: "write e.g. 'model.layers.*.mlp.down_proj.weight=group:32' or 'role:lm_head=format:int4,group:0'",
      },
    );
  }
  return hit;
}

/** Parses `<selector>=<key>:<value>[,<key>:<value>…]` (selector: glob, `role:<role>`, or both joined by `&`). */
export function parseLayoutOverride(text: string): LayoutOverride {
  const eq = text.lastIndexOf("=");
  const bad = (why: string) =>
    usageError("layout/override", `layout override "${text}": ${why}`, {
      fix: "write <glob|role:ROLE>=<key>:<value>,… with keys format, group, scale, placement",
    });
  if (eq <= 0 || eq === text.length - 1) throw bad("expected <selector>=<settings>");
  let match: string | undefined;
  let role: string | undefined;
  for (const part of text.slice(0, eq).split("&")) {
    if (part.startsWith("role:")) role = part.slice(5);
    else match = part;
  }
  const out: Record<string, unknown> = {
    ...(match ? { match } : {}),
    ...(role ? { role } : {}),
    source: text,
  };
  for (const kv of text.slice(eq + 1).split(",")) {
    const [k, v] = kv.split(":").map((s) => s.trim());
    if (!k || v === undefined || v === "") throw bad(`"${kv}" is not <key>:<value>`);
    if (k === "format") out["format"] = pick("format", v, FORMATS, text);
    else if (k === "group") out["group"] = pick("group", v, GROUPS, text);
    else if (k === "scale" || k === "scaleDtype") out["scaleDtype"] = pick("scale dtype", v, SCALES, text);
    else if (k === "placement") out["placement"] = pick("placement", v, PLACEMENTS, text);
    else throw bad(`unknown key "${k}" (format, group, scale, placement)`);
  }
  return out as LayoutOverride;
}

function matches(o: LayoutOverride, p: TensorPolicy, re: RegExp | undefined): boolean {
  if (o.role !== undefined && o.role !== p.role) return false;
  if (re && !re.test(p.tensor) && !(p.id !== undefined && re.test(p.id))) return false;
  return o.role !== undefined || re !== undefined;
}

function describe(o: LayoutOverride): string {
  if (o.source) return o.source;
  const sel = [o.match, o.role ? `role:${o.role}` : undefined].filter(Boolean).join("&");
  const set = (["format", "group", "scaleDtype", "placement"] as const)
    .filter((k) => o[k] !== undefined)
    .map((k) => `${k}:${o[k]}`);
  return `${sel}=${set.join(",")}`;
}

/** Rejects a result the engines cannot consume. */
function check(p: TensorPolicy, u: WeightUsage | undefined, o: LayoutOverride): void {
  const fail = (why: string, fix: string) =>
    usageError("layout/override", `layout override "${describe(o)}" on ${p.tensor}: ${why}`, { fix });
  const matrix = u?.kinds.includes("matrix") ?? false;
  const table = u?.kinds.includes("table") ?? false;
  if (p.placement === "stream" && p.format !== "int4")
    throw fail(
      "streamed weights must be int4 (the GEMV/GEMM engines read INT4 codes only)",
      "keep format int4 for stream placement",
    );
  if (p.placement === "stream" && !matrix)
    throw fail("only matrices read by a matrix product can be streamed", "use l2 or ddr for this tensor");
  if (matrix && p.placement !== "stream")
    throw fail("a matrix read by a GEMV/GEMM must be streamed", "keep placement stream (format int4)");
  if (p.placement === "l2" && p.format === "int4")
    throw fail(
      "L2 holds BF16 vectors; an int4 tensor cannot be pinned there",
      "use format bf16 (or placement ddr)",
    );
  if (p.placement === "off-ddr" && !table)
    throw fail("only row tables (embedding lookups) can stay off DDR", "use placement ddr");
}

/**
 * Applies `overrides` in order. Returns the new policies and a warning per override that matched
 * nothing. Throws `layout/override` (exit 1) for a combination the hardware cannot consume.
 */
export function applyOverrides(
  policies: readonly TensorPolicy[],
  usage: ReadonlyMap<string, WeightUsage>,
  overrides: readonly LayoutOverride[],
): { policies: TensorPolicy[]; warnings: Diagnostic[] } {
  const out = [...policies];
  const warnings: Diagnostic[] = [];
  for (const o of overrides) {
    const re = o.match !== undefined ? globToRegExp(o.match) : undefined;
    let hits = 0;
    for (const [i, p] of out.entries()) {
      if (!matches(o, p, re)) continue;
      hits++;
      const format = o.format ?? p.format;
      const next: TensorPolicy = {
        ...p,
        format,
        group: format === "int4" ? (o.group ?? p.group) : 0,
        scaleDtype: o.scaleDtype ?? p.scaleDtype,
        placement: o.placement ?? p.placement,
        reason: `override "${describe(o)}" (was ${p.format} ${p.placement}${p.format === "int4" ? ` group ${p.group}` : ""})`,
      };
      check(next, usage.get(p.id ?? p.tensor), o);
      out[i] = next;
    }
    if (hits === 0) {
      warnings.push({
        code: "layout/override-unused",
        severity: "warning",
        message: `layout override "${describe(o)}" matches no tensor of the model`,
        fix: "check the glob against `pccxc inspect <model> --all-tensors` or the role names of docs/graph.md",
      });
    }
  }
  return { policies: out, warnings };
}
