/**
 * Summaries of a TensorIndex for people: totals per dtype, and tensors grouped by name pattern
 * (every numeric path segment replaced by `*`, so the 32 layers' q_proj weights are one line).
 * Names sort "naturally" (layers.2 before layers.10) so listings follow the model's structure.
 */
import { numel } from "./geometry.js";
import type { TensorEntry, TensorIndex } from "./tensor-index.js";

export interface DTypeTotal {
  readonly dtype: string;
  readonly tensors: number;
  readonly parameters: number;
  readonly bytes: number;
}

export interface TensorGroup {
  /** The name with numeric segments replaced by `*`. */
  readonly pattern: string;
  readonly count: number;
  readonly dtypes: readonly string[];
  /** The shape when every member has the same one, else null. */
  readonly shape: readonly number[] | null;
  readonly parameters: number;
  readonly bytes: number;
}

export function naturalCompare(a: string, b: string): number {
  const ta = a.split(/(\d+)/);
  const tb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (x === y) continue;
    if (i % 2 === 1) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}

export function sortedEntries(index: TensorIndex): TensorEntry[] {
  return [...index.entries()].sort((a, b) => naturalCompare(a.name, b.name));
}

export function dtypeTotals(index: TensorIndex): DTypeTotal[] {
  const m = new Map<string, { tensors: number; parameters: number; bytes: number }>();
  for (const e of index.entries()) {
    const t = m.get(e.dtype) ?? { tensors: 0, parameters: 0, bytes: 0 };
    t.tensors++;
    t.parameters += numel(e.shape);
    t.bytes += e.byteLength;
    m.set(e.dtype, t);
  }
  return [...m]
    .map(([dtype, t]) => ({ dtype, ...t }))
    .sort((a, b) => b.bytes - a.bytes || (a.dtype < b.dtype ? -1 : 1));
}

export function tensorPattern(name: string): string {
  return name
    .split(".")
    .map((s) => (/^\d+$/.test(s) ? "*" : s))
    .join(".");
}

/** Groups in natural order of each group's first member. */
export function groupTensors(index: TensorIndex): TensorGroup[] {
  const groups = new Map<
    string,
    { count: number; dtypes: Set<string>; shape: string | null; params: number; bytes: number }
  >();
  const shapes = new Map<string, readonly number[]>();
  for (const e of sortedEntries(index)) {
    const p = tensorPattern(e.name);
    const key = JSON.stringify(e.shape);
    const g = groups.get(p);
    if (!g) {
      groups.set(p, {
        count: 1,
        dtypes: new Set([e.dtype]),
        shape: key,
        params: numel(e.shape),
        bytes: e.byteLength,
      });
      shapes.set(p, e.shape);
      continue;
    }
    g.count++;
    g.dtypes.add(e.dtype);
    if (g.shape !== key) g.shape = null;
    g.params += numel(e.shape);
    g.bytes += e.byteLength;
  }
  return [...groups].map(([pattern, g]) => ({
    pattern,
    count: g.count,
    dtypes: [...g.dtypes].sort(),
    shape: g.shape === null ? null : shapes.get(pattern)!,
    parameters: g.params,
    bytes: g.bytes,
  }));
}
