/**
 * Gemma 4 (`gemma4_text`, the language model of the `gemma4` wrapper): E2B/E4B (per-layer
 * embeddings, KV sharing, double-wide MLP on shared layers), 31B dense and 26B-A4B (a dense MLP and
 * 128 routed experts run side by side on every layer). Per layer: input_layernorm → attention
 * (q/k norms `x̂·w`, weightless v norm, scale 1, head dim and KV heads per layer type, `k = v` on
 * full layers when `attention_k_eq_v`, proportional partial RoPE on full layers) →
 * post_attention_layernorm → +residual → pre_feedforward_layernorm → MLP [+ experts] →
 * post_feedforward_layernorm → +residual → [per-layer-input tail] → × layer_scalar. Final norm,
 * tied head, final softcap.
 * Source: huggingface/transformers `models/gemma4/modular_gemma4.py` (Gemma4TextAttention,
 * Gemma4TextMLP, Gemma4TextRouter, Gemma4TextExperts = MixtralExperts, Gemma4TextDecoderLayer,
 * Gemma4TextModel.project_per_layer_inputs).
 */
import type { Gemma4Extras, TextConfig } from "../../parser/config/index.js";
import type { GraphBuilder, ValueId } from "../graph/index.js";
import type { ArchitecturePlugin } from "../plugin.js";
import {
  type BlockCtx,
  blockCtx,
  builderBug,
  declare,
  gatedMlp,
  joinName,
  layerTypeOf,
  moeBlock,
} from "./common/index.js";
import {
  GEMMA_PLE_READS,
  gemmaEmbedding,
  gemmaHead,
  gemmaNames,
  gemmaNormedAttention,
  gnorm,
  perLayerInputs,
  perLayerTail,
  requireCausal,
  sandwich,
} from "./gemma-common.js";

/**
 * The routed experts of a `dense+moe` layer, added to the dense MLP's normed output
 * (Gemma4TextDecoderLayer.forward): router on the residual `res` (weightless RMSNorm →
 * × router.scale → × H^-½ → proj → softmax top-k → renormalise → × per_expert_scale), experts on
 * pre_feedforward_layernorm_2(res), output post_feedforward_layernorm_2.
 */
function routedExperts(ctx: BlockCtx, p: string, l: number, res: ValueId): ValueId {
  const { b, cfg } = ctx;
  const H = cfg.hidden_size;
  const r = joinName(p, "router");
  const routerIn = b.withKeys(["gemma4.enable_moe_block"], () => {
    const n = b.rmsNorm(res, { eps: cfg.norm_eps }, { name: "router_norm" });
    const s = declare(ctx, joinName(r, "scale"), [H], "scale", { keys: ["hidden_size"] });
    return b.scale(b.mulWeight(n, s, { name: "router_scaled" }), H ** -0.5, { name: "router_in" });
  });
  const expertsIn = gnorm(ctx, res, joinName(p, "pre_feedforward_layernorm_2"), 0);
  const out = moeBlock(ctx, {
    layer: l,
    input: expertsIn,
    routerInput: routerIn,
    router: joinName(r, "proj", "weight"),
    perExpertScale: joinName(r, "per_expert_scale"),
    // MixtralExperts: gate_up_proj [E, 2I, H] (gate = first I rows), down_proj [E, H, I].
    experts: {
      kind: "stacked",
      gateUp: joinName(p, "experts", "gate_up_proj"),
      down: joinName(p, "experts", "down_proj"),
    },
    routeKeys: ["moe.num_experts", "moe.num_experts_per_tok", "moe.norm_topk_prob"],
  });
  return gnorm(ctx, out, joinName(p, "post_feedforward_layernorm_2"), 0);
}

function gemma4Layer(
  ctx: BlockCtx,
  g: Gemma4Extras,
  p: string,
  l: number,
  x: ValueId,
  ple: ValueId | null,
): ValueId {
  const { b, cfg } = ctx;
  const full = layerTypeOf(cfg, l) === "full_attention";
  const res = sandwich(
    ctx,
    x,
    joinName(p, "input_layernorm"),
    joinName(p, "post_attention_layernorm"),
    0,
    (h) =>
      gemmaNormedAttention(ctx, l, p, h, {
        // attention_k_eq_v: full layers have no v_proj; values are the raw k projection, v-normed.
        ...(g.attention_k_eq_v && full ? { qkv: { kind: "separate" as const, valueFromKey: true } } : {}),
      }),
    "attn_residual",
  );
  let y = sandwich(
    ctx,
    res,
    joinName(p, "pre_feedforward_layernorm"),
    joinName(p, "post_feedforward_layernorm"),
    0,
    (h) => {
      const m = gatedMlp(ctx, { layer: l, prefix: joinName(p, "mlp"), input: h });
      if (cfg.layer_mlp[l] !== "dense+moe") return m;
      const dense = gnorm(ctx, m, joinName(p, "post_feedforward_layernorm_1"), 0);
      return b.add(dense, routedExperts(ctx, p, l, res), { name: "mlp_moe_sum" });
    },
    "mlp_residual",
  );
  if (ple !== null) {
    const tail = perLayerTail(ctx, {
      prefix: p,
      input: y,
      ple,
      layer: l,
      perLayer: g.hidden_size_per_layer_input,
      keys: ["gemma4.hidden_size_per_layer_input"],
    });
    y = b.add(y, tail, { name: "ple_residual" });
  }
  // layer_scalar is a persistent buffer (nn.Buffer(torch.ones(1))): stored, shape [1].
  const s = declare(ctx, joinName(p, "layer_scalar"), [1], "scale", { keys: [] });
  return b.mulWeight(y, s, { name: "layer_out" });
}

export const gemma4Plugin: ArchitecturePlugin = {
  id: "gemma4",
  families: ["gemma4"],
  summary:
    "Gemma 4 (E2B/E4B/31B/26B-A4B): per-layer head dims, k=v full layers, proportional RoPE, PLE, KV sharing, dense+MoE",
  reads: [...GEMMA_PLE_READS, "layer_mlp", "moe", "gemma4"],
  build(cfg: TextConfig, b: GraphBuilder): void {
    const g = cfg.gemma4;
    if (!g) throw builderBug("no-gemma4", `${cfg.model_type}: the gemma4 block of the TextConfig is missing`);
    requireCausal(cfg);
    const ctx = blockCtx(cfg, b);
    // Released Gemma 4 checkpoints are Gemma4ForConditionalGeneration: `model.language_model.…`.
    const names = gemmaNames(ctx, "model.language_model", true);
    const { x: embedded, table } = gemmaEmbedding(ctx, names);
    const ple =
      g.hidden_size_per_layer_input > 0
        ? perLayerInputs(ctx, {
            model: names.model,
            embedded,
            perLayer: g.hidden_size_per_layer_input,
            vocab: g.vocab_size_per_layer_input,
            roundScales: false,
            keys: ["gemma4.hidden_size_per_layer_input", "gemma4.vocab_size_per_layer_input"],
          })
        : null;
    let x = embedded;
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      const p = joinName(names.model, "layers", l);
      const cur = x;
      x = b.inLayer(l, () => gemma4Layer(ctx, g, p, l, cur, ple));
    }
    gemmaHead(ctx, names, x, table, 0);
  },
};
