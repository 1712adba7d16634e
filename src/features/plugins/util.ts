/**
 * Helpers shared by the built-in feature plugins: verdicts that depend on which CVO functions a
 * target declares, layer-range descriptions, grouping ops by a signature, and graph lookups.
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import type { ParsedConfig } from "../../parser/config/index.js";
import type { ModelGraph, Op, WeightDecl } from "../../resolver/graph/index.js";
import { rawValue } from "../keys.js";
import type { FeatureContext, Verdict } from "../types.js";

/** Verdict + CVO list for a lowering that needs `needs` CVO functions; host when any is missing. */
export function cvoVerdict(
  ctx: FeatureContext,
  needs: readonly string[],
  how: string,
  hostWhat: string,
): { verdict: Verdict; cvo: string[] } {
  const missing = ctx.missingCvo(needs);
  if (missing.length === 0) return { verdict: { kind: "lowered", how }, cvo: [...needs] };
  const name = ctx.target.file.name;
  return {
    verdict: {
      kind: "host",
      reason: `${hostWhat} needs ${missing.join(", ")}: ${name} declares no CVO code for ${missing.length > 1 ? "them" : "it"} (pccx-v002.md §4)`,
    },
    cvo: missing,
  };
}

/** "layers 0-3, 5, 7-9" (sorted, unique). */
export function layerRanges(layers: Iterable<number>): string {
  const ls = [...new Set(layers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < ls.length; ) {
    let j = i;
    while (j + 1 < ls.length && ls[j + 1] === ls[j]! + 1) j++;
    parts.push(i === j ? `${ls[i]}` : `${ls[i]}-${ls[j]}`);
    i = j + 1;
  }
  return parts.length === 0 ? "no layers" : `layer${ls.length > 1 ? "s" : ""} ${parts.join(", ")}`;
}

export function layersOf(ops: readonly Op[]): number[] {
  return [...new Set(ops.flatMap((o) => (o.layer === undefined ? [] : [o.layer])))].sort((a, b) => a - b);
}

/** Groups items by a string signature, keeping first-seen order of the groups. */
export function groupBy<T>(items: readonly T[], sig: (t: T) => string): [string, T[]][] {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const k = sig(t);
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  }
  return [...m.entries()];
}

export const ids = (ops: readonly Op[]): string[] => ops.map((o) => o.id);

export function weightMap(g: ModelGraph): ReadonlyMap<string, WeightDecl> {
  return new Map(g.weights.map((w) => [w.id, w]));
}

/** Map from a value id to the op that defines it. */
export function producers(g: ModelGraph): ReadonlyMap<string, Op> {
  const m = new Map<string, Op>();
  for (const o of g.ops) for (const v of o.outputs) m.set(v, o);
  return m;
}

/** The value of the first of `keys` present at the language model's level, else undefined. */
export function firstValue(parsed: ParsedConfig, keys: readonly string[]): { key: string; value: unknown } {
  for (const k of keys) {
    const v = rawValue(parsed, k);
    if (v !== undefined) return { key: k, value: v };
  }
  return { key: keys[0] ?? "", value: undefined };
}

/** A graph that disagrees with its own config is a resolver bug (exit 70), found by a feature's check. */
export function graphMismatch(feature: string, message: string): PccxError {
  return new PccxError(
    "features/graph-mismatch",
    ExitCode.INTERNAL,
    `feature ${feature}: the graph disagrees with the config: ${message}`,
    { fix: "this is a bug in the architecture plugin that built the graph; please report it" },
  );
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A compact number for detail lines: 1e-6, 10000, 0.25. */
export function num(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const s = Number(x.toPrecision(6));
  return Math.abs(s) < 1e-3 ? s.toExponential() : String(s);
}

/** The HF key a TextConfig field was read from (parser's fieldSources), else the first present of `keys`. */
export function sourceKey(parsed: ParsedConfig, field: string, keys: readonly string[]): string {
  const p = parsed.fieldSources[field]?.[0];
  const m = p ? /\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(p) : null;
  return m?.[1] ?? firstValue(parsed, keys).key;
}
