/**
 * What host steps do to program variables and DDR, for the passes and the verifier: which
 * variables a step sets (and, where the value follows from other variables, the value), and a
 * structural check of a host step against the function list (operands and attributes).
 */
import type { HostStep } from "../program.js";
import { type HostFnSpec, hostFunction } from "./table.js";

type Attrs = HostStep["attrs"];

const num = (a: Attrs, k: string): number => {
  const v = a[k];
  return typeof v === "number" ? v : 0;
};

const parsed = new Map<string, { base: string; idx: number[] }>();

/** Parses `name[i][j]…` into its base and indices. */
export function parseVariable(name: string): { base: string; idx: number[] } {
  const hit = parsed.get(name);
  if (hit) return hit;
  const m = /^([a-z_]+)((?:\[\d+\])*)$/.exec(name);
  const out = m
    ? { base: m[1]!, idx: [...(m[2] ?? "").matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1])) }
    : { base: name, idx: [] };
  parsed.set(name, out);
  return out;
}

/** True when host function `fn` with `attrs` sets variable `name`. */
export function setsVariable(fn: string, attrs: Attrs, name: string): boolean {
  const { base, idx } = parseVariable(name);
  const layer = num(attrs, "layer");
  if (fn === "kv_write")
    return ["kv_len", "kv_blocks", "kv_slot", "kv_rows"].includes(base) && idx[0] === layer;
  if (fn === "kv_view") return ["kv_len", "kv_blocks", "kv_rows"].includes(base) && idx[0] === layer;
  if (fn === "moe_route") return base === "expert" && idx[0] === layer && (idx[1] ?? 0) < num(attrs, "topK");
  return false;
}

/**
 * The values a host step gives the variables it sets, from `vars` (pos). Data-dependent values
 * (moe_route's experts) are returned as `undefined` with their range.
 */
export function variableEffects(
  fn: string,
  attrs: Attrs,
  vars: ReadonlyMap<string, number>,
): Map<string, number | { readonly min: number; readonly max: number }> {
  const out = new Map<string, number | { min: number; max: number }>();
  const layer = num(attrs, "layer");
  if (fn === "kv_write" || fn === "kv_view") {
    const pos = (vars.get("pos") ?? 0) + num(attrs, "row");
    const cap = num(attrs, "capacity");
    const len = Math.min(pos + 1, cap);
    out.set(`kv_len[${layer}]`, len);
    out.set(`kv_blocks[${layer}]`, Math.ceil(len / 32));
    if (fn === "kv_write") out.set(`kv_slot[${layer}]`, pos % cap);
    const chunk = num(attrs, "chunk");
    const ports = num(attrs, "ports");
    if (chunk > 0 && ports > 0) {
      for (let c = 0; c < Math.ceil(cap / chunk); c++) {
        const n = Math.max(0, Math.min(chunk, len - c * chunk));
        const r = Math.ceil(n / ports);
        for (let j = 0; j < ports; j++)
          out.set(`kv_rows[${layer}][${c}][${j}]`, Math.max(0, Math.min(r, n - j * r)));
      }
    }
  }
  if (fn === "moe_route") {
    const e = num(attrs, "numExperts");
    for (let j = 0; j < num(attrs, "topK"); j++) out.set(`expert[${layer}][${j}]`, { min: 0, max: e - 1 });
  }
  return out;
}

/**
 * The variables a host step reads: the function's `reads` with index placeholders (`[layer]`) taken
 * from its numeric attributes; a function with a `tokens` attribute reads exactly the variables it
 * names (gather_rows: `token` or `token[t]`, one per row).
 */
export function variablesRead(fn: string, attrs: Attrs): string[] {
  const spec = hostFunction(fn);
  if (!spec) return [];
  const out = new Set<string>();
  const tokens = attrs.tokens;
  if (typeof tokens === "string") for (const t of tokens.split(",")) if (t) out.add(t);
  for (const pattern of spec.reads ?? []) {
    if (typeof tokens === "string" && /^token\b/.test(pattern)) continue;
    const name = pattern.replace(/\[([a-z]+)\]/g, (all, k: string) =>
      typeof attrs[k] === "number" ? `[${attrs[k]}]` : all,
    );
    out.add(name);
  }
  return [...out];
}

/** The variables a host step sets (their names; values from variableEffects). */
export function variablesSet(fn: string, attrs: Attrs): string[] {
  return [...variableEffects(fn, attrs, new Map()).keys()];
}

/** Problems of a host step against the function list (empty when it conforms). */
export function hostStepProblems(step: HostStep): string[] {
  const spec = hostFunction(step.fn);
  if (!spec) return [`unknown host function ${step.fn}`];
  return [
    ...operandProblems(spec, step.inputs.length, "input"),
    ...operandProblems(spec, step.outputs.length, "output"),
    ...attrProblems(spec, step.attrs),
  ];
}

function operandProblems(spec: HostFnSpec, n: number, kind: "input" | "output"): string[] {
  const list = kind === "input" ? spec.inputs : spec.outputs;
  const required = list.filter((o) => !o.optional).length;
  const repeated = list.some((o) => o.repeated);
  if (n < required) return [`${spec.name} needs at least ${required} ${kind}s, got ${n}`];
  if (!repeated && n > list.length) return [`${spec.name} takes at most ${list.length} ${kind}s, got ${n}`];
  return [];
}

function attrProblems(spec: HostFnSpec, attrs: Attrs): string[] {
  const out: string[] = [];
  for (const a of spec.attrs) {
    const v = attrs[a.name];
    if (v === undefined) {
      if (!a.optional) out.push(`${spec.name} attribute ${a.name} is missing`);
      continue;
    }
    const t = Array.isArray(v) ? "number[]" : typeof v;
    if (t !== a.type) out.push(`${spec.name} attribute ${a.name} should be ${a.type}, got ${t}`);
  }
  for (const k of Object.keys(attrs))
    if (!spec.attrs.some((a) => a.name === k)) out.push(`${spec.name} has no attribute ${k}`);
  return out;
}
