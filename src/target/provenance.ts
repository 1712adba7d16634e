/**
 * Provenance: for every value of a target (file values and derived values), where it comes from.
 * Keys are `$.<path>` for file values and `derived.<path>` for derived ones.
 */

import type { DerivedTarget } from "./derive.js";
import { formulaFor } from "./derive-formulas.js";
import { formatPath, leaves, type PathSeg } from "./json-path.js";
import { OVERRIDE_PREFIX } from "./overrides.js";
import type { ResolvedRaw } from "./resolve.js";
import type { TargetFile } from "./schema.js";
import { DEFAULT_SOURCE_KEY } from "./schema-common.js";
import { schemaNodeAt } from "./schema-walk.js";

export type ProvenanceKind = "target-file" | "schema-default" | "override" | "derived";

export interface Provenance {
  readonly kind: ProvenanceKind;
  /** The citation, estimate, default reason, override or formula. Empty when a file gives none. */
  readonly source: string;
  /** For target-file values: the file (label) that wrote the value. */
  readonly file?: string;
}

/** The default's source for a value the schema filled in (the nearest schema node with one). */
export function defaultSourceAt(segs: readonly PathSeg[]): string {
  for (let n = segs.length; n >= 0; n--) {
    const src = schemaNodeAt(segs.slice(0, n))?.[DEFAULT_SOURCE_KEY];
    if (typeof src === "string") return src;
  }
  return "schema default";
}

/** Dotted path under `derived`, e.g. `derived.ports.hp0.gbps`. */
export function derivedKey(segs: readonly PathSeg[]): string {
  return `derived${formatPath(segs).slice(1)}`;
}

export function buildProvenance(
  file: TargetFile,
  resolved: ResolvedRaw,
  sources: Readonly<Record<string, string>>,
  derived: DerivedTarget,
): Map<string, Provenance> {
  const out = new Map<string, Provenance>();
  for (const [segs] of leaves(file)) {
    if (segs[0] === "sources") continue;
    const p = formatPath(segs);
    const origin = resolved.origins.get(p);
    if (origin === undefined) {
      out.set(p, { kind: "schema-default", source: defaultSourceAt(segs) });
    } else if (origin.startsWith(OVERRIDE_PREFIX)) {
      out.set(p, { kind: "override", source: origin });
    } else {
      out.set(p, { kind: "target-file", source: sources[p] ?? "", file: origin });
    }
  }
  for (const [segs] of leaves(derived)) {
    out.set(derivedKey(segs), { kind: "derived", source: formulaFor(segs) ?? "" });
  }
  return out;
}
