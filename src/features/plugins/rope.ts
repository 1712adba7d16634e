/**
 * Rotary position embeddings: the schedule per layer type (default, linear, dynamic NTK, llama3,
 * YaRN, LongRoPE, Gemma 4's proportional) and partial rotary. Frequencies are compile-time data
 * (cos/sin tables from ropeInvFreq, attention factor folded in); the rotation itself needs the
 * target's ROPE_ROTATE extension and rotate_half pairing, else it runs on the host.
 */
import type { RopeOp, RopeSpec } from "../../resolver/graph/index.js";
import { ropeDependsOnLength } from "../../resolver/graph/index.js";
import { rawValue } from "../keys.js";
import type { FeatureContext, FeaturePlugin, Verdict } from "../types.js";
import { cvoVerdict, groupBy, ids, layerRanges, layersOf, num } from "./util.js";

const ROPE_KEYS = [
  "rope_theta",
  "rope_scaling",
  "rope_parameters",
  "rope_local_base_freq",
  "rope_interleave",
  "original_max_position_embeddings",
];

export function describeRope(s: RopeSpec): string {
  const base = `${s.type} θ=${num(s.theta)}`;
  switch (s.type) {
    case "default":
      return base;
    case "linear":
      return `${base}, factor ${num(s.factor)}`;
    case "dynamic":
      return `${base}, factor ${num(s.factor)} beyond ${s.maxPositionEmbeddings}`;
    case "llama3":
      return `${base}, factor ${num(s.factor)} (low ${num(s.lowFreqFactor)}, high ${num(s.highFreqFactor)}, original ${s.originalMaxPositionEmbeddings})`;
    case "yarn":
      return `${base}, factor ${num(s.factor)} (β ${num(s.betaFast)}/${num(s.betaSlow)}, original ${s.originalMaxPositionEmbeddings}${s.truncate ? "" : ", no truncation"})`;
    case "longrope":
      return `${base}, short/long factors over ${s.shortFactor.length} pairs, original ${s.originalMaxPositionEmbeddings}`;
    case "proportional":
      return `${base}, factor ${num(s.factor)}, rotating ${num(s.partialRotaryFactor)} of the pairs`;
  }
}

/** The verdict of the pair rotation of these rope ops on the target. */
export function rotationVerdict(
  ctx: FeatureContext,
  ops: readonly RopeOp[],
): { verdict: Verdict; cvo: string[] } {
  const style = ops[0]!.style;
  if (style === "interleaved" && ctx.hasCvo("ROPE_ROTATE"))
    return {
      verdict: {
        kind: "host",
        reason:
          "ROPE_ROTATE pairs feature j with j + d/2 (rotate_half); this model pairs 2j with 2j+1 (rope_interleave)",
      },
      cvo: [],
    };
  return cvoVerdict(
    ctx,
    ["ROPE_ROTATE"],
    "cos/sin tables are compile-time data (ropeInvFreq, attention factor folded in); ROPE_ROTATE per head",
    "the RoPE pair rotation",
  );
}

export const rope: FeaturePlugin = {
  id: "rope",
  summary:
    "RoPE schedule per layer type (default, linear, dynamic, llama3, yarn, longrope, proportional; rope_local_base_freq): compile-time cos/sin tables; rotation by ROPE_ROTATE when declared, else on the host.",
  keys: ROPE_KEYS,
  detect: (_p, g) => g.ops.some((o) => o.kind === "rope"),
  apply(graph, parsed, _t, ctx) {
    const ops = ctx.opsOf(graph, "rope");
    const typeOf = (o: RopeOp) => (o.layer === undefined ? "" : (parsed.text.layer_types[o.layer] ?? ""));
    const key =
      ["rope_parameters", "rope_scaling", "rope_theta"].find((k) => rawValue(parsed, k) != null) ?? "";
    const entries = groupBy(ops, (o) => `${typeOf(o)}|${JSON.stringify(o.rope)}|${o.style}`).map(
      ([, group]) => {
        const o = group[0]!;
        const { verdict, cvo } = rotationVerdict(ctx, group);
        const notes = ropeDependsOnLength(o.rope)
          ? [
              "the schedule depends on the sequence length: codegen keeps one table per regime and switches at the threshold",
            ]
          : [];
        return ctx.entry({
          key,
          paths: ctx.pathsOf(...ROPE_KEYS),
          value: o.rope,
          detail: `${typeOf(o) || "all layers"}: ${describeRope(o.rope)}, ${o.style === "half" ? "rotate_half" : "interleaved"} pairs, ${layerRanges(layersOf(group))}`,
          verdict,
          ops: ids(group),
          cvo,
          ...(notes.length ? { notes } : {}),
        });
      },
    );
    return { graph, entries };
  },
};

const PARTIAL_KEYS = [
  "partial_rotary_factor",
  "rope_scaling.partial_rotary_factor",
  "rope_parameters.partial_rotary_factor",
  "rope_parameters.*.partial_rotary_factor",
];

/** Rotates fewer features than the head has (excluding MLA's decoupled rope part, `offset` > 0). */
function isPartial(o: RopeOp): boolean {
  if (o.rope.type === "proportional") return o.rope.partialRotaryFactor < 1;
  return o.offset === 0 && o.rotaryDim < o.headDim;
}

export const partialRotary: FeaturePlugin = {
  id: "partial-rotary",
  summary:
    "Partial rotary (partial_rotary_factor; Gemma 4 proportional): only the first features of each head rotate, the rest pass through.",
  keys: PARTIAL_KEYS,
  detect: (_p, g) => g.ops.some((o) => o.kind === "rope" && isPartial(o)),
  apply(graph, _p, _t, ctx) {
    const ops = ctx.opsOf(graph, "rope").filter(isPartial);
    const entries = groupBy(ops, (o) => `${o.rotaryDim}/${o.headDim}/${JSON.stringify(o.rope)}`).map(
      ([, group]) => {
        const o = group[0]!;
        const { verdict, cvo } = rotationVerdict(ctx, group);
        const rotated =
          o.rope.type === "proportional"
            ? `${Math.floor((o.rope.partialRotaryFactor * o.headDim) / 2)} of ${o.headDim / 2} pairs`
            : `${o.rotaryDim} of ${o.headDim} features`;
        return ctx.entry({
          key: "partial_rotary_factor",
          paths: ctx.pathsOf("partial_rotary_factor"),
          value: o.rope.type === "proportional" ? o.rope.partialRotaryFactor : o.rotaryDim / o.headDim,
          detail: `${rotated} per head rotate in ${layerRanges(layersOf(group))}`,
          verdict:
            verdict.kind === "lowered"
              ? {
                  kind: "lowered",
                  how:
                    o.rope.type === "proportional"
                      ? "ROPE_ROTATE over the whole head with cos 1 / sin 0 in the table for the non-rotating pairs"
                      : `ROPE_ROTATE on the first ${o.rotaryDim} features of each head; the others are left in place`,
                }
              : verdict,
          ops: ids(group),
          cvo,
        });
      },
    );
    return { graph, entries };
  },
};
