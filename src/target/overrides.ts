/**
 * "What if" overrides from the command line: `ddr.efficiency=0.85`, `ports[hp2].width_bits=256`.
 * They are applied by JSON path to the merged file before validation, so an override is checked
 * exactly like a value in a file, recorded as the value's source and part of the fingerprint.
 */
import { usageError } from "../diag/index.js";
import { formatPath, getAt, isPlainObject, leaves, type PathSeg, parsePath } from "./json-path.js";
import { clearUnder, type ResolvedRaw } from "./resolve.js";
import { knownKeysAt, suggestKey } from "./schema-walk.js";

export interface TargetOverride {
  readonly path: string;
  readonly value: unknown;
}
/** `path=value` strings (value parsed as JSON, else taken as a string) or parsed overrides. */
export type TargetOverrides = readonly (string | TargetOverride)[];

/** Label recorded as the origin of an overridden value. */
export const OVERRIDE_PREFIX = "--set ";

const FORBIDDEN_TOP = new Set(["sources", "extends", "$schema", "name", "format"]);

export function parseOverride(text: string): TargetOverride {
  const eq = text.indexOf("=");
  if (eq <= 0)
    throw usageError("target/override", `override "${text}" is not of the form path=value`, {
      fix: 'write e.g. --set ddr.efficiency=0.85 or --set "ports[hp2].feeds=[\\"gemv\\"]"',
    });
  const raw = text.slice(eq + 1).trim();
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: a bare string such as gemv or a hex address 0xA000_0000
  }
  return { path: text.slice(0, eq).trim(), value };
}

export const overrideLabel = (o: TargetOverride): string =>
  `${OVERRIDE_PREFIX}${o.path}=${typeof o.value === "string" ? o.value : JSON.stringify(o.value)}`;

/** Resolve an override path against the merged JSON: name selectors become indices. */
function resolveSegs(raw: unknown, o: TargetOverride): PathSeg[] {
  let sel: ReturnType<typeof parsePath>;
  try {
    sel = parsePath(o.path);
  } catch (e) {
    throw usageError("target/override", `override path "${o.path}": ${(e as Error).message}`);
  }
  const segs: PathSeg[] = [];
  let v: unknown = raw;
  sel.forEach((s, i) => {
    const last = i === sel.length - 1;
    let seg: PathSeg;
    if ("key" in s) seg = s.key;
    else if ("index" in s) seg = s.index;
    else {
      const idx = Array.isArray(v) ? v.findIndex((x) => isPlainObject(x) && x.name === s.byName) : -1;
      if (idx < 0) throw badPath(o, segs, `no item named "${s.byName}"`);
      seg = idx;
    }
    const next = getAt(v, [seg]);
    // a missing key may be set only when it is the last step and a field the schema knows
    const settable = last && typeof seg === "string" && isPlainObject(v) && knownKeysAt(segs).includes(seg);
    if (next === undefined && !settable) {
      const hint = typeof seg === "string" ? suggestKey(seg, knownKeysAt(segs)) : undefined;
      throw badPath(o, [...segs, seg], hint ? `no such field (did you mean "${hint}"?)` : "no such value");
    }
    segs.push(seg);
    v = next;
  });
  if (typeof segs[0] === "string" && FORBIDDEN_TOP.has(segs[0]))
    throw usageError("target/override", `override "${o.path}": ${segs[0]} cannot be overridden`, {
      fix: "write a target file that extends this one instead",
    });
  return segs;
}

function badPath(o: TargetOverride, segs: PathSeg[], why: string) {
  return usageError("target/override", `override "${o.path}": ${formatPath(segs)}: ${why}`, {
    fix: "use a JSON path of the target as printed by pccxc targets show --explain",
  });
}

/** Apply overrides in order to a resolved (merged, unvalidated) target; returns a new one. */
export function applyOverrides(resolved: ResolvedRaw, overrides: TargetOverrides): ResolvedRaw {
  if (overrides.length === 0) return resolved;
  const raw = structuredClone(resolved.raw);
  const origins = new Map(resolved.origins);
  const sourceOrigins = new Map(resolved.sourceOrigins);
  const sources = { ...(raw.sources as Record<string, string>) };
  for (const item of overrides) {
    const o = typeof item === "string" ? parseOverride(item) : item;
    const segs = resolveSegs(raw, o);
    const parent = getAt(raw, segs.slice(0, -1)) as Record<string | number, unknown>;
    parent[segs[segs.length - 1]!] = structuredClone(o.value);
    const label = overrideLabel(o);
    clearUnder(segs, origins);
    clearUnder(segs, sourceOrigins);
    for (const k of Object.keys(sources)) if (!sourceOrigins.has(k)) delete sources[k];
    for (const [leaf] of leaves(o.value, segs)) {
      const lp = formatPath(leaf);
      origins.set(lp, label);
      sources[lp] = `command-line override (${label.slice(OVERRIDE_PREFIX.length)})`;
      sourceOrigins.set(lp, label);
    }
  }
  raw.sources = sources;
  return { ...resolved, raw, origins, sourceOrigins };
}
