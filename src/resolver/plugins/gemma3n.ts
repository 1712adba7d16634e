/**
 * Gemma 3n (`gemma3n_text`, the language model of the `gemma3n` wrapper). Per layer, inside AltUp
 * (N streams, one active): predict → input_layernorm → LAuReL (low-rank residual) ‖ attention (q/k
 * norms `x̂·w`, weightless v norm, scale 1, KV sharing on the last layers) → post norm → average
 * with LAuReL over √2 → MLP with Gaussian top-k sparsity on the first layers → post norm → correct →
 * per-layer-embedding gate/projection added to streams 1…N−1. Around the stack: streams created by
 * `altup_projections` with magnitude matching, merged back by `altup_unembed_projections` + mean,
 * final norm, tied head, final softcap.
 * Source: huggingface/transformers `models/gemma3n/modular_gemma3n.py` (Gemma3nTextAltUp,
 * Gemma3nTextLaurelBlock, Gemma3nTextMLP._gaussian_topk, Gemma3nTextAttention,
 * Gemma3nTextDecoderLayer.forward, Gemma3nTextModel.forward / project_per_layer_inputs).
 */
import type { Gemma3nExtras, TextConfig } from "../../parser/config/index.js";
import type { GraphBuilder, ValueId } from "../graph/index.js";
import type { ArchitecturePlugin } from "../plugin.js";
import { type BlockCtx, blockCtx, builderBug, declare, gatedMlp, joinName } from "./common/index.js";
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
} from "./gemma-common.js";

/** HF Gemma3nTextModel: `epsilon_tensor = torch.tensor(1e-5)` of the stream magnitude matching. */
const MAGNITUDE_EPS = 1e-5;
const KEYS = ["gemma3n"];

/** modalities = tanh(modality_router(router_norm(x) · H⁻¹)), [T, N] (Gemma3nTextAltUp.compute_router_modalities). */
function routerModalities(
  ctx: BlockCtx,
  x: ValueId,
  w: { norm: string; router: string },
  tag: string,
): ValueId {
  const { b, cfg } = ctx;
  const n = b.rmsNorm(
    x,
    { weight: w.norm, eps: cfg.norm_eps, weightOffset: 0 },
    { name: `${tag}_router_norm` },
  );
  const s = b.scale(n, 1 / cfg.hidden_size, { name: `${tag}_router_in` });
  const r = b.linear(s, w.router, undefined, { name: `${tag}_router` });
  return b.activation(r, "tanh", { name: `${tag}_modalities` });
}

function altupLayer(
  ctx: BlockCtx,
  g: Gemma3nExtras,
  p: string,
  l: number,
  streams: readonly ValueId[],
  ple: ValueId,
): ValueId[] {
  const { b, cfg } = ctx;
  const N = g.altup_num_inputs;
  const H = cfg.hidden_size;
  const active = g.altup_active_idx;
  const a = joinName(p, "altup");
  const routerW = b.withKeys(KEYS, () => ({
    norm: declare(ctx, joinName(a, "router_norm", "weight"), [H], "norm", { keys: ["hidden_size"] }),
    router: declare(ctx, joinName(a, "modality_router", "weight"), [N, H], "altup", {
      keys: ["gemma3n.altup_num_inputs"],
    }),
  }));
  const predCoefs = declare(ctx, joinName(a, "prediction_coefs", "weight"), [N * N, N], "altup", {
    keys: ["gemma3n.altup_num_inputs"],
  });
  const preds = b.emit(
    "altup_predict",
    {
      streams,
      modalities: routerModalities(ctx, streams[active]!, routerW, "predict"),
      coefs: { weight: predCoefs },
    },
    { keys: ["gemma3n.altup_num_inputs", "gemma3n.altup_active_idx"] },
  );
  const activePred = preds[active]!;
  const h = gnorm(ctx, activePred, joinName(p, "input_layernorm"), 0);

  // LAuReL: h + post_laurel_norm(linear_right(linear_left(h))).
  const laurel = b.withKeys(["gemma3n.laurel_rank"], () => {
    const R = g.laurel_rank;
    const left = declare(ctx, joinName(p, "laurel", "linear_left", "weight"), [R, H], "laurel");
    const right = declare(ctx, joinName(p, "laurel", "linear_right", "weight"), [H, R], "laurel");
    const lr = b.linear(b.linear(h, left, undefined, { name: "laurel_left" }), right, undefined, {
      name: "laurel_right",
    });
    return b.add(h, gnorm(ctx, lr, joinName(p, "laurel", "post_laurel_norm"), 0), { name: "laurel" });
  });

  const attn = gemmaNormedAttention(ctx, l, p, h);
  const gated = b.add(activePred, gnorm(ctx, attn, joinName(p, "post_attention_layernorm"), 0), {
    name: "attn_gated",
  });
  const attnLaurel = b.scale(b.add(gated, laurel, { name: "attn_laurel_sum" }), Math.SQRT1_2, {
    name: "attn_laurel",
  });

  const sparsity = g.activation_sparsity_pattern[l] ?? 0;
  const mlpIn = gnorm(ctx, attnLaurel, joinName(p, "pre_feedforward_layernorm"), 0);
  const mlp = gatedMlp(ctx, {
    layer: l,
    prefix: joinName(p, "mlp"),
    input: mlpIn,
    ...(sparsity > 0
      ? {
          gateTransform: (gate: ValueId) =>
            b.emit(
              "gaussian_topk",
              { input: gate, sparsity },
              { name: "gate_sparse", keys: ["gemma3n.activation_sparsity_pattern"] },
            )[0]!,
        }
      : {}),
  });
  const activated = b.add(attnLaurel, gnorm(ctx, mlp, joinName(p, "post_feedforward_layernorm"), 0), {
    name: "activated",
  });

  const corrCoefs = declare(ctx, joinName(a, "correction_coefs", "weight"), [N, N], "altup", {
    keys: ["gemma3n.altup_num_inputs"],
  });
  const corrected = b.emit(
    "altup_correct",
    {
      predictions: preds,
      activated,
      modalities: routerModalities(ctx, activated, routerW, "correct"),
      coefs: { weight: corrCoefs },
      ...(g.altup_coef_clip !== null ? { coefClip: g.altup_coef_clip } : {}),
      activeIndex: active,
    },
    { keys: ["gemma3n.altup_coef_clip", "gemma3n.altup_active_idx"] },
  );

  let first = corrected[active]!;
  if (g.altup_correct_scale) {
    const s = declare(ctx, joinName(a, "correct_output_scale"), [H], "altup", {
      keys: ["gemma3n.altup_correct_scale"],
    });
    first = b.mulWeight(first, s, { name: "first_scaled" });
  }
  const back = perLayerTail(ctx, {
    prefix: p,
    input: first,
    ple,
    layer: l,
    perLayer: g.hidden_size_per_layer_input,
    keys: ["gemma3n.hidden_size_per_layer_input"],
  });
  // HF: corrected_predictions[1:] += first_prediction (streams 1…N−1, whatever the active index).
  return corrected.map((c, j) => (j === 0 ? c : b.add(c, back, { name: `stream${j}` })));
}

/** stream i ≥ 1 = magnitude_match(proj_i(x), ref) (HF: `x · rms(ref) / sqrt(max(mean(x²), 1e-5))`). */
function projectStreams(
  ctx: BlockCtx,
  inputs: readonly ValueId[],
  ref: ValueId,
  module: string,
  tag: string,
): ValueId[] {
  const { b, cfg } = ctx;
  const H = cfg.hidden_size;
  return inputs.map((x, i) => {
    if (i === 0) return x;
    const w = declare(ctx, `${module}.${i - 1}.weight`, [H, H], "altup", {
      keys: ["gemma3n.altup_num_inputs"],
    });
    const p = b.linear(x, w, undefined, { name: `${tag}_proj${i}` });
    return b.emit(
      "magnitude_match",
      { input: p, reference: ref, eps: MAGNITUDE_EPS },
      { name: `${tag}${i}` },
    )[0]!;
  });
}

export const gemma3nPlugin: ArchitecturePlugin = {
  id: "gemma3n",
  families: ["gemma3n"],
  summary:
    "Gemma 3n: AltUp streams, LAuReL, per-layer embeddings, KV sharing, Gaussian top-k sparsity, final softcap",
  reads: [...GEMMA_PLE_READS, "gemma3n"],
  build(cfg: TextConfig, b: GraphBuilder): void {
    const g = cfg.gemma3n;
    if (!g)
      throw builderBug("no-gemma3n", `${cfg.model_type}: the gemma3n block of the TextConfig is missing`);
    requireCausal(cfg);
    const ctx = blockCtx(cfg, b);
    // Released Gemma 3n checkpoints are Gemma3nForConditionalGeneration: `model.language_model.…`.
    const names = gemmaNames(ctx, "model.language_model", true);
    const { x: embedded, table } = gemmaEmbedding(ctx, names);
    const ple = perLayerInputs(ctx, {
      model: names.model,
      embedded,
      perLayer: g.hidden_size_per_layer_input,
      vocab: g.vocab_size_per_layer_input,
      roundScales: true,
      keys: ["gemma3n.hidden_size_per_layer_input", "gemma3n.vocab_size_per_layer_input"],
    });
    const initial = Array.from({ length: g.altup_num_inputs }, () => embedded);
    let streams = b.withKeys(KEYS, () =>
      projectStreams(ctx, initial, embedded, `${names.model}.altup_projections`, "stream"),
    );
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      const p = joinName(names.model, "layers", l);
      const current = streams;
      streams = b.inLayer(l, () => altupLayer(ctx, g, p, l, current, ple));
    }
    const outs = b.withKeys(KEYS, () =>
      projectStreams(ctx, streams, streams[0]!, `${names.model}.altup_unembed_projections`, "unstream"),
    );
    const [merged] = b.emit(
      "mean",
      { inputs: outs },
      { name: "streams_mean", keys: ["gemma3n.altup_num_inputs"] },
    );
    gemmaHead(ctx, names, merged!, table, 0);
  },
};
