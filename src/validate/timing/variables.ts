/**
 * Per-token variables and relocations (docs/program.md §2) as the timing simulator needs them: the
 * relocated field values of a step, and the variables host steps set during a segment. Both reuse
 * the one definition of each rule: the driver's variables come from the functional simulator's
 * `driverVariables`, what a host step sets from codegen's `variableEffects`. Timing depends on
 * sizes, never on values, so a variable a host step computes from data (an expert index) takes the
 * low end of its range.
 */
import { variableEffects } from "../../codegen/host-ops/index.js";
import type { HostStep, Program, Relocation } from "../../codegen/program.js";
import { driverVariables } from "../sim/generate.js";

export type RelocIndex = ReadonlyMap<string, ReadonlyMap<number, readonly Relocation[]>>;

const indexCache = new WeakMap<Program, RelocIndex>();

/** Relocations by segment name, then step index. */
export function relocIndex(p: Program): RelocIndex {
  const hit = indexCache.get(p);
  if (hit) return hit;
  const m = new Map<string, Map<number, Relocation[]>>();
  for (const r of p.relocations) {
    const seg = m.get(r.segment) ?? new Map<number, Relocation[]>();
    m.set(r.segment, seg);
    const list = seg.get(r.step) ?? [];
    list.push(r);
    seg.set(r.step, list);
  }
  indexCache.set(p, m);
  return m;
}

const stepCache = new WeakMap<Program, Map<string, readonly (readonly Relocation[] | undefined)[]>>();

/**
 * Relocations of one segment as an array by step index (built once per program and segment: every
 * run of the segment reads it at each step, and an array index beats a Map lookup).
 */
export function stepRelocs(p: Program, segment: string): readonly (readonly Relocation[] | undefined)[] {
  let bySeg = stepCache.get(p);
  if (!bySeg) {
    bySeg = new Map();
    stepCache.set(p, bySeg);
  }
  let out = bySeg.get(segment);
  if (!out) {
    const arr: (readonly Relocation[] | undefined)[] = [];
    for (const [i, list] of relocIndex(p).get(segment) ?? []) arr[i] = list;
    out = arr;
    bySeg.set(segment, out);
  }
  return out;
}

/** The variable store of one run; a variable nobody set reads as 0 and is remembered. */
export class Variables {
  readonly values = new Map<string, number>();
  readonly missing = new Set<string>();

  constructor(initial: Readonly<Record<string, number>>) {
    for (const k of Object.keys(initial)) this.values.set(k, initial[k]!);
  }

  get(name: string): number {
    const v = this.values.get(name);
    if (v !== undefined) return v;
    this.missing.add(name);
    return 0;
  }

  set(name: string, v: number): void {
    this.values.set(name, v);
  }
}

/** Field → relocated value of one step's relocations (undefined when it has none). */
export function patches(
  relocs: readonly Relocation[] | undefined,
  vars: Variables,
): Map<string, number> | undefined {
  if (!relocs || relocs.length === 0) return undefined;
  const out = new Map<string, number>();
  for (const r of relocs) out.set(r.field, relocValue(r, vars));
  return out;
}

/** One relocation's value (as `patches` computes it). */
function relocValue(r: Relocation, vars: Variables): number {
  let v = r.expr.base;
  for (const t of r.expr.terms) v += t.stride * vars.get(t.variable);
  if (r.expr.min !== undefined) v = Math.max(r.expr.min, v);
  if (r.expr.max !== undefined) v = Math.min(r.expr.max, v);
  return Math.max(0, v);
}

/**
 * The relocated value of one field (the last relocation of it wins, as in `patches`), else `raw`.
 * Every relocation of the step is evaluated, as `patches` does (reading a variable nobody set is
 * remembered in `vars.missing`).
 */
export function patchedField(
  relocs: readonly Relocation[] | undefined,
  field: string,
  raw: number,
  vars: Variables,
): number {
  if (!relocs) return raw;
  let out = raw;
  for (const r of relocs) {
    const v = relocValue(r, vars);
    if (r.field === field) out = v;
  }
  return out;
}

/**
 * `fields` with the step's relocations applied (a new object; `fields` itself when it has none):
 * the same result as spreading `patches` over it.
 */
export function patchFields(
  fields: Readonly<Record<string, unknown>>,
  relocs: readonly Relocation[] | undefined,
  vars: Variables,
): Readonly<Record<string, unknown>> {
  if (!relocs || relocs.length === 0) return fields;
  const out: Record<string, unknown> = { ...fields };
  for (const r of relocs) out[r.field] = relocValue(r, vars);
  return out;
}

/** Applies the variables a host step sets (kv_write/kv_view: KV sizes; moe_route: experts). */
export function applyHostSets(step: HostStep, vars: Variables): void {
  for (const [name, v] of variableEffects(step.fn, step.attrs, vars.values)) {
    vars.set(name, typeof v === "number" ? v : v.min);
  }
}

/**
 * The driver's variables for a run covering `tokens` token rows from position `pos` (decode: one
 * row). Token ids are 0: the value never changes the timing.
 */
export function runVariables(p: Program, pos: number, tokens: number): Record<string, number> {
  return { token: 0, ...driverVariables(p.variables, pos, new Array<number>(Math.max(1, tokens)).fill(0)) };
}
