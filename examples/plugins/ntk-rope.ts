/**
 * Example feature plugin: a RoPE scaling pccxc does not know, "fixed NTK-aware" scaling
 * (bloc97, 2023): the rotary base is raised to θ' = θ · α^(d/(d−2)) for a fixed α, which stretches
 * the low frequencies while keeping the high ones. Written in a config as
 *
 *     "rope_scaling": { "rope_type": "ntk_alpha", "alpha": 4.0 }
 *
 * (an illustrative spelling, not a transformers type). Without this plugin the resolver stops with
 * `resolver/unsupported-value` on rope_type "ntk_alpha"; with it:
 * - `prepare` rewrites the TextConfig's RoPE parameters to default RoPE with base θ' before the
 *   graph is built, so every rope op of those layers carries {type: "default", theta: θ'};
 * - `apply` records a ledger entry pointing at those ops (lowered: the tables are compile-time data);
 * - `keys` claims the nested `alpha`, which the config parser does not know.
 *
 * Load it with `pccxc dev features cfg.json --plugin examples/plugins/ntk-rope.ts` (under tsx), or
 * compile it to .js. See docs/plugins.md for the walkthrough.
 */
import { invalidInput } from "../../src/diag/index.js";
import type { FeaturePlugin } from "../../src/features/index.js";
import type { ParsedConfig, RopeParams } from "../../src/parser/config/index.js";

const TYPE = "ntk_alpha";
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** The rope dicts of the config that use this scaling: [JSON path, dict, layer type or "*"]. */
function ntkDicts(parsed: ParsedConfig): [string, Obj, string][] {
  const raw = parsed.raw as Obj;
  const base = isObj(raw.text_config) ? "$.text_config" : "$";
  const lm = isObj(raw.text_config) ? raw.text_config : raw;
  const out: [string, Obj, string][] = [];
  for (const key of ["rope_scaling", "rope_parameters"]) {
    const d = lm[key];
    if (!isObj(d)) continue;
    const type = d.rope_type ?? d.type;
    if (type === TYPE) out.push([`${base}.${key}`, d, "*"]);
    for (const [lt, sub] of Object.entries(d))
      if (isObj(sub) && (sub.rope_type ?? sub.type) === TYPE) out.push([`${base}.${key}.${lt}`, sub, lt]);
  }
  return out;
}

function alphaOf(parsed: ParsedConfig, layerType: string): { alpha: number; path: string } {
  const hit = ntkDicts(parsed).find(([, , lt]) => lt === "*" || lt === layerType);
  const alpha = hit?.[1].alpha;
  if (!hit || typeof alpha !== "number" || !(alpha >= 1))
    throw invalidInput("ntk-rope/alpha", `${parsed.file}: rope_type "${TYPE}" needs a number "alpha" ≥ 1`, {
      at: { file: parsed.file, jsonPath: `${hit?.[0] ?? "$.rope_scaling"}.alpha` },
      fix: `add "alpha": 4.0 (or another factor ≥ 1) next to "rope_type": "${TYPE}"`,
    });
  return { alpha, path: `${hit[0]}.alpha` };
}

/** θ' = θ · α^(d/(d−2)) over the rotary width d. */
export function ntkTheta(theta: number, alpha: number, rotaryDim: number): number {
  return theta * alpha ** (rotaryDim / (rotaryDim - 2));
}

export const ntkRope: FeaturePlugin = {
  id: "ntk-alpha-rope",
  summary:
    'Fixed NTK-aware RoPE scaling (rope_type "ntk_alpha" with "alpha"): default RoPE with base θ·α^(d/(d−2)).',
  keys: ["rope_scaling.alpha", "rope_parameters.alpha", "rope_parameters.*.alpha"],
  prepare(parsed) {
    const rope: Partial<Record<string, RopeParams>> = { ...parsed.text.rope };
    let changed = false;
    for (const [type, p] of Object.entries(parsed.text.rope)) {
      if (p?.rope_type !== TYPE) continue;
      const { alpha } = alphaOf(parsed, type);
      rope[type] = { ...p, rope_type: "default", rope_theta: ntkTheta(p.rope_theta, alpha, p.rotary_dim) };
      changed = true;
    }
    return changed ? { ...parsed, text: { ...parsed.text, rope } } : undefined;
  },
  detect: (parsed) => ntkDicts(parsed).length > 0,
  apply(graph, parsed, _target, ctx) {
    const entries = [];
    for (const [path, dict, layerType] of ntkDicts(parsed)) {
      const { alpha } = alphaOf(parsed, layerType);
      const ops = ctx
        .opsOf(graph, "rope")
        .filter(
          (o) =>
            layerType === "*" || (o.layer !== undefined && parsed.text.layer_types[o.layer] === layerType),
        );
      const lm = isObj((parsed.raw as Obj).text_config)
        ? ((parsed.raw as Obj).text_config as Obj)
        : (parsed.raw as Obj);
      const theta = dict.rope_theta ?? lm.rope_theta;
      const thetas = [...new Set(ops.map((o) => o.rope.theta))];
      entries.push(
        ctx.entry({
          key: "rope_scaling",
          paths: [path],
          value: { rope_type: TYPE, alpha },
          detail: `fixed NTK-aware scaling α=${alpha}: RoPE base ${theta ?? "θ"} → ${thetas.map((t) => t.toPrecision(8)).join(", ")}`,
          verdict: {
            kind: "lowered",
            how: "θ' = θ·α^(d/(d−2)) is computed at compile time; the layers use default RoPE tables with that base",
          },
          ops: ops.map((o) => o.id),
        }),
      );
    }
    return { graph, entries };
  },
};

/** The module's plugin object: pccxc takes the default export (or a named `pccxcPlugin`). */
export default { features: [ntkRope] };
