/**
 * Model-level features: geometry, context length, checkpoint quantization, tied embeddings,
 * embedding scaling, multi-token-prediction layers, and keys real repositories write that the
 * model classes never read.
 */
import { countParams } from "../../resolver/graph/index.js";
import { rawValue } from "../keys.js";
import type { FeaturePlugin, LedgerEntry } from "../types.js";
import { cvoVerdict, firstValue, graphMismatch, ids, layerRanges, num, weightMap } from "./util.js";

export const dimensions: FeaturePlugin = {
  id: "dimensions",
  summary:
    "Model geometry (width, depth, heads, MLP width, vocabulary): every projection is a GEMV (decode) or GEMM (prefill) over INT4 weight streams.",
  keys: [
    "model_type",
    "text_config",
    "hidden_size",
    "n_embd",
    "num_hidden_layers",
    "n_layer",
    "num_attention_heads",
    "n_head",
    "head_dim",
    "global_head_dim",
    "per_layer_config",
    "intermediate_size",
    "n_inner",
    "use_double_wide_mlp",
    "vocab_size",
  ],
  detect: () => true,
  apply(graph, parsed, _t, ctx) {
    const c = parsed.text;
    const p = countParams(graph);
    const widths = [...new Set(c.intermediate_size)];
    const detail =
      `hidden ${c.hidden_size}, ${c.num_hidden_layers} layers, ${c.num_attention_heads} heads × ${c.head_dim}` +
      `, MLP ${widths.length === 1 ? widths[0] : `${Math.min(...widths)}-${Math.max(...widths)}`}` +
      `, vocab ${c.vocab_size}, ${p.total.toLocaleString("en-US")} parameters`;
    const notes: string[] = [];
    if (c.gemma4?.use_double_wide_mlp)
      notes.push("use_double_wide_mlp: KV-shared layers have an MLP twice as wide");
    const hd = [...new Set(c.layer_head_dim)];
    if (hd.length > 1) notes.push(`head dim per layer type: ${hd.join(" / ")}`);
    const entry = ctx.entry({
      key: "hidden_size",
      paths: ctx.pathsOf("hidden_size", "n_embd", "num_hidden_layers", "n_layer", "vocab_size"),
      value: { hidden_size: c.hidden_size, num_hidden_layers: c.num_hidden_layers, vocab_size: c.vocab_size },
      detail,
      verdict: {
        kind: "lowered",
        how: "each linear is a GEMV (decode, K split at the activation cache) or GEMM (prefill) streaming its INT4 rows; the LM head is split over the vocabulary",
      },
      ops: ids(ctx.opsOf(graph, "linear")),
      cvo: [],
      ...(notes.length ? { notes } : {}),
    });
    return { graph, entries: [entry] };
  },
};

export const contextLength: FeaturePlugin = {
  id: "context-length",
  summary:
    "Longest sequence: min(max_position_embeddings, the target's KV ring capacity); longer sequences are refused, never silently truncated.",
  keys: ["max_position_embeddings", "n_positions", "n_ctx"],
  detect: () => true,
  apply(graph, parsed, target, ctx) {
    const maxPos = parsed.text.max_position_embeddings;
    const ring = target.file.numeric.kv_cache.ring_capacity_tokens;
    const ctxLen = Math.min(maxPos, ring);
    const entries: LedgerEntry[] = [
      ctx.entry({
        key: firstValue(parsed, ["max_position_embeddings", "n_positions"]).key,
        paths: ctx.pathsOf("max_position_embeddings", "n_positions", "n_ctx"),
        value: maxPos,
        detail: `model context ${maxPos} tokens, compiled context ${ctxLen} (KV ring ${ring} tokens)`,
        verdict: {
          kind: "lowered",
          how: `KV caches are rings of ${ctxLen} positions in DDR (numeric.kv_cache.ring_capacity_tokens = ${ring}); the driver refuses a sequence longer than ${ctxLen}`,
        },
        ops: ids(ctx.opsOf(graph, "attention", "mla_attention")),
        ...(maxPos > ring
          ? { notes: [`positions ${ring}…${maxPos - 1} are not reachable on ${target.file.name}`] }
          : {}),
      }),
    ];
    const pos = ctx.opsOf(graph, "position_embedding");
    if (pos.length > 0) {
      const { verdict, cvo } = cvoVerdict(
        ctx,
        ["ADD"],
        "the position row is fetched like the token row and added with CVO ADD",
        "adding the learned position row",
      );
      entries.push(
        ctx.entry({
          key: firstValue(parsed, ["n_positions", "max_position_embeddings"]).key,
          paths: ctx.pathsOf("n_positions", "n_ctx"),
          value: maxPos,
          detail: `learned absolute positions (${maxPos} rows)`,
          verdict:
            verdict.kind === "host"
              ? {
                  ...verdict,
                  how: "the host adds row p of the position table while staging the token's embedding row",
                }
              : verdict,
          ops: ids(pos),
          cvo,
        }),
      );
    }
    return { graph, entries };
  },
};

export const quantization: FeaturePlugin = {
  id: "quantization",
  summary:
    "Checkpoint quantization (quantization_config): FP8 block and MXFP4 weights are dequantized and requantized to the target's INT4; other methods are rejected.",
  keys: ["quantization_config"],
  detect: (parsed) => parsed.quantization !== undefined,
  apply(graph, parsed, target, ctx) {
    const q = parsed.quantization!;
    const detail =
      q.method === "fp8"
        ? `FP8 ${q.fmt} weights with ${q.weight_block_size.join("×")} block scales`
        : q.method === "mxfp4"
          ? "MXFP4 expert weights (blocks of 32 FP4 values with an E8M0 scale)"
          : `${q.method} quantized checkpoint`;
    const fmt = target.file.numeric.weights;
    const entry = ctx.entry({
      key: "quantization_config",
      paths: [q.path],
      value: { quant_method: q.method },
      detail,
      verdict: q.supported
        ? {
            kind: "lowered",
            how: `the layout stage dequantizes the stored weights to float and quantizes them to ${fmt.format} (${fmt.scale_granularity} ${fmt.scale_dtype} scales) like any checkpoint; the INT4 error is reported per tensor by the layout stage`,
          }
        : {
            kind: "rejected",
            reason: q.reason ?? `quant_method "${q.method}" cannot be read`,
            fix: q.fix ?? "use the unquantized checkpoint; pccxc quantizes to INT4 itself",
          },
      ops: [],
      ...(q.modules_to_not_convert.length
        ? { notes: [`modules kept unquantized in the checkpoint: ${q.modules_to_not_convert.join(", ")}`] }
        : {}),
    });
    return { graph, entries: [entry] };
  },
};

export const tiedEmbeddings: FeaturePlugin = {
  id: "tied-embeddings",
  summary: "Tied input/output embeddings: the LM head GEMV streams the embedding table, stored once.",
  keys: ["tie_word_embeddings"],
  detect: (_p, graph) => graph.weights.some((w) => w.role === "lm_head"),
  apply(graph, parsed, _t, ctx) {
    const weights = weightMap(graph);
    const head = ctx.opsOf(graph, "linear").filter((o) => weights.get(o.weight.weight)?.role === "lm_head");
    const tied = head.some((o) => weights.get(o.weight.weight)?.tiedTo !== undefined);
    if (head.length > 0 && tied !== parsed.text.tie_word_embeddings)
      throw graphMismatch(
        "tied-embeddings",
        `tie_word_embeddings is ${parsed.text.tie_word_embeddings} but the LM head is ${tied ? "" : "not "}tied`,
      );
    const entry = ctx.entry({
      key: "tie_word_embeddings",
      paths: ctx.pathsOf("tie_word_embeddings"),
      value: parsed.text.tie_word_embeddings,
      detail: tied ? "LM head tied to the embedding table" : "separate LM head weight",
      verdict: {
        kind: "lowered",
        how: tied
          ? "the LM head GEMV streams the embedding matrix (one stored copy; the layout keeps an INT4 copy in stream order for the head)"
          : "the LM head GEMV streams its own weight",
      },
      ops: ids(head),
    });
    return { graph, entries: [entry] };
  },
};

export const embeddingScale: FeaturePlugin = {
  id: "embedding-scale",
  summary: "Embedding scaling (Gemma's √hidden, per-layer-embedding scales): one CVO SCALE by a constant.",
  keys: [],
  detect: (_p, graph) =>
    graph.ops.some((o) => o.kind === "embedding" && o.scale !== undefined && o.scale !== 1),
  apply(graph, _p, _t, ctx) {
    const ops = ctx.opsOf(graph, "embedding").filter((o) => o.scale !== undefined && o.scale !== 1);
    const { verdict, cvo } = cvoVerdict(
      ctx,
      ["SCALE"],
      "CVO SCALE of the fetched row by the constant (the value HF uses, rounded to the weight dtype)",
      "the embedding scale",
    );
    const entry = ctx.entry({
      key: "",
      paths: [],
      value: [...new Set(ops.map((o) => o.scale))],
      detail: `embedding rows scaled by ${[...new Set(ops.map((o) => num(o.scale!)))].join(", ")}`,
      verdict,
      ops: ids(ops),
      cvo,
    });
    return { graph, entries: [entry] };
  },
};

export const multiTokenPrediction: FeaturePlugin = {
  id: "mtp",
  summary:
    "Multi-token-prediction layers (DeepSeek-V3): stored after the stack, not part of the next-token function.",
  keys: ["num_nextn_predict_layers"],
  detect: (parsed) => parsed.text.num_nextn_predict_layers > 0,
  apply(graph, parsed, _t, ctx) {
    const n = parsed.text.num_nextn_predict_layers;
    const stack = parsed.text.num_hidden_layers;
    const unused = graph.weights.filter((w) => w.unused !== undefined && (w.layer ?? -1) >= stack);
    const entry = ctx.entry({
      key: "num_nextn_predict_layers",
      paths: ctx.pathsOf("num_nextn_predict_layers"),
      value: n,
      detail: `${n} MTP layer${n > 1 ? "s" : ""} (${unused.length} tensors declared unused)`,
      verdict: {
        kind: "ignored",
        reason:
          "MTP layers only serve speculative decoding; the next-token forward does not run them, so pccxc does not compile them",
      },
      ops: [],
      ...(unused.length ? { notes: [`unused weights in ${layerRanges(unused.map((w) => w.layer!))}`] } : {}),
    });
    return { graph, entries: [entry] };
  },
};

/** Keys published configs carry that the transformers classes never read. */
const INERT: Readonly<Record<string, string>> = {
  use_mrope:
    "Qwen2Config does not define it and Qwen2's text model never reads it (multimodal RoPE belongs to Qwen2-VL)",
  is_llama_config: "a marker written by SmolLM2's training code; LlamaConfig does not read it",
  rope_interleaved:
    "a nanotron training flag; LlamaConfig does not read it and HF checkpoints use rotate_half pairing",
  initial_context_length:
    "read by openai's reference code only; GptOssConfig does not define it (the YaRN original context is rope_scaling.original_max_position_embeddings)",
};

export const inertKeys: FeaturePlugin = {
  id: "inert-keys",
  summary:
    "Keys real repositories write that the model classes do not read; each is recognised by name with the reason it has no effect.",
  keys: Object.keys(INERT),
  detect: (parsed) => Object.keys(INERT).some((k) => rawValue(parsed, k) !== undefined),
  apply(graph, parsed, _t, ctx) {
    const entries = Object.entries(INERT)
      .filter(([k]) => rawValue(parsed, k) !== undefined)
      .map(([key, reason]) =>
        ctx.entry({
          key,
          paths: ctx.pathsOf(key),
          value: rawValue(parsed, key),
          detail: `${key} = ${JSON.stringify(rawValue(parsed, key))}`,
          verdict: { kind: "ignored", reason },
          ops: [],
        }),
      );
    return { graph, entries };
  },
};
