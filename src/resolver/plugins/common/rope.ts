/**
 * RoPE of a layer: the TextConfig's `RopeParams` of the layer's type turned into the graph's
 * `RopeSpec` (the data every rope op carries), plus its rotary width and pairing style.
 * Formulas live in src/resolver/graph/rope.ts; this file only maps config fields onto them.
 */
import type { LayerType, RopeParams, TextConfig } from "../../../parser/config/index.js";
import type { RopeSpec } from "../../graph/index.js";
import { builderBug, unsupportedValue } from "./context.js";

/** What a rope op needs besides its input and head geometry. */
export interface RopeChoice {
  readonly spec: RopeSpec;
  /** Rotated features per head (partial rotary: ⌊headDim · partial_rotary_factor⌋). */
  readonly rotaryDim: number;
  /** First rotated feature inside the head (DeepSeek: qk_nope_head_dim). */
  readonly offset?: number;
  readonly style: "half" | "interleaved";
}

const ROPE_FIX =
  "express the scaling as a RopeSpec in src/resolver/graph/rope.ts (docs/graph.md section 9) or handle the key with a feature plugin (docs/plugins.md)";

function need(p: RopeParams, field: keyof RopeParams, layerType: string): number {
  const v = p[field];
  if (typeof v !== "number")
    throw unsupportedValue(
      `rope.${layerType}.${field}`,
      v ?? null,
      `set ${field} for rope_type ${p.rope_type}`,
    );
  return v;
}

/** The RopeSpec of one `RopeParams` (`layerType` only names the field in messages). */
export function ropeSpecOf(p: RopeParams, cfg: TextConfig, layerType = "full_attention"): RopeSpec {
  const theta = p.rope_theta;
  const orig = () => p.original_max_position_embeddings ?? cfg.max_position_embeddings;
  switch (p.rope_type) {
    case "default":
      return { type: "default", theta };
    case "linear":
      return { type: "linear", theta, factor: need(p, "factor", layerType) };
    case "dynamic":
      return {
        type: "dynamic",
        theta,
        factor: need(p, "factor", layerType),
        maxPositionEmbeddings: orig(),
      };
    case "llama3":
      return {
        type: "llama3",
        theta,
        factor: need(p, "factor", layerType),
        lowFreqFactor: need(p, "low_freq_factor", layerType),
        highFreqFactor: need(p, "high_freq_factor", layerType),
        originalMaxPositionEmbeddings: orig(),
      };
    case "yarn":
      return {
        type: "yarn",
        theta,
        factor: need(p, "factor", layerType),
        originalMaxPositionEmbeddings: orig(),
        betaFast: p.beta_fast ?? 32,
        betaSlow: p.beta_slow ?? 1,
        truncate: p.truncate ?? true,
        ...(p.mscale !== undefined ? { mscale: p.mscale } : {}),
        ...(p.mscale_all_dim !== undefined ? { mscaleAllDim: p.mscale_all_dim } : {}),
        ...(p.attention_factor !== undefined ? { attentionFactor: p.attention_factor } : {}),
      };
    case "longrope": {
      const o = orig();
      if (!p.short_factor || !p.long_factor)
        throw unsupportedValue(
          `rope.${layerType}.short_factor`,
          null,
          "longrope needs short_factor and long_factor",
        );
      return {
        type: "longrope",
        theta,
        shortFactor: [...p.short_factor],
        longFactor: [...p.long_factor],
        originalMaxPositionEmbeddings: o,
        // HF _compute_longrope_parameters: factor = max_position_embeddings / original_max_position_embeddings
        factor: p.factor ?? cfg.max_position_embeddings / o,
        ...(p.attention_factor !== undefined ? { attentionFactor: p.attention_factor } : {}),
      };
    }
    case "proportional":
      return {
        type: "proportional",
        theta,
        factor: p.factor ?? 1,
        partialRotaryFactor: p.partial_rotary_factor,
      };
    default:
      throw unsupportedValue(`rope.${layerType}.rope_type`, p.rope_type, ROPE_FIX);
  }
}

/** The layer type of `layer` (full when the config has fewer entries, which the parser prevents). */
export function layerTypeOf(cfg: TextConfig, layer: number): LayerType {
  return cfg.layer_types[layer] ?? "full_attention";
}

/**
 * The rope of `layer`: the RopeParams of its layer type, rotary width from the params (partial
 * rotary), `interleaved` when the config says `rope_interleave`. Proportional rope rotates the whole
 * head (its spec zeroes the tail frequencies).
 */
export function layerRope(cfg: TextConfig, layer: number, headDim?: number): RopeChoice {
  const type = layerTypeOf(cfg, layer);
  const p = cfg.rope[type] ?? cfg.rope.full_attention;
  if (!p) throw builderBug("no-rope", `layer ${layer} (${type}) has no RoPE parameters in the config`);
  const spec = ropeSpecOf(p, cfg, type);
  const hd = headDim ?? cfg.layer_head_dim[layer] ?? cfg.head_dim;
  const rotaryDim = spec.type === "proportional" ? hd : p.rotary_dim;
  return { spec, rotaryDim, style: cfg.rope_interleave ? "interleaved" : "half" };
}
