/**
 * The FeatureContext handed to plugins: target capabilities looked up by CVO function name in the
 * target file (never a hard-coded code or list), op queries and entry construction.
 */
import type { ParsedConfig } from "../parser/config/index.js";
import type { ModelGraph, Op } from "../resolver/graph/index.js";
import type { Target } from "../target/index.js";
import { pathsOfKeys } from "./keys.js";
import type { FeatureContext, FeatureId, LedgerEntry } from "./types.js";

/** CVO function names the target declares (documented and extension codes alike), upper case. */
export function cvoNames(target: Target): ReadonlySet<string> {
  return new Set(target.file.isa.cvo_functions.map((f) => f.name.toUpperCase()));
}

/** Whether the target can copy L2 → L2 with MEMCPY (used to preload a bias that a GEMV accumulates onto). */
export function hasL2ToL2Copy(target: Target): boolean {
  return target.file.memcpy.directions.includes("l2_to_l2");
}

export function makeContext(target: Target, parsed: ParsedConfig, feature: FeatureId): FeatureContext {
  const names = cvoNames(target);
  const formulas = new Map(target.file.isa.cvo_functions.map((f) => [f.name.toUpperCase(), f.formula]));
  return {
    target,
    hasCvo: (name) => names.has(name.toUpperCase()),
    missingCvo: (list) => list.filter((n) => !names.has(n.toUpperCase())),
    cvoFormula: (name) => formulas.get(name.toUpperCase()),
    opsOf: <K extends Op["kind"]>(g: ModelGraph, ...kinds: K[]) =>
      g.ops.filter((o): o is Extract<Op, { kind: K }> => (kinds as string[]).includes(o.kind)),
    pathsOf: (...keys) => pathsOfKeys(parsed, keys),
    entry: (e): LedgerEntry => ({ feature, ...e }),
  };
}
