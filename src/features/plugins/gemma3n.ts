/**
 * Gemma 3n / Gemma 4 blocks: per-layer embeddings (PLE), AltUp streams and LAuReL low-rank
 * residuals. Their projections are ordinary GEMVs; what needs care is the element-wise work.
 */
import type { Op } from "../../resolver/graph/index.js";
import type { FeaturePlugin, LedgerEntry } from "../types.js";
import { cvoVerdict, ids, layerRanges, layersOf, plural, producers, weightMap } from "./util.js";

const PLE_ROLES = ["per_layer_embedding", "per_layer_model_proj", "per_layer_gate", "per_layer_proj"];
const PLE_KEYS = ["hidden_size_per_layer_input", "vocab_size_per_layer_input"];

export const perLayerEmbeddings: FeaturePlugin = {
  id: "per-layer-embeddings",
  summary:
    "Per-layer embeddings (Gemma 3n/4 hidden_size_per_layer_input): a second token lookup plus small per-layer gate/projection GEMVs; the gating product needs MUL.",
  keys: PLE_KEYS,
  detect: (_p, g) => g.weights.some((w) => w.role === "per_layer_embedding"),
  apply(graph, parsed, _t, ctx) {
    const w = weightMap(graph);
    const role = (id: string) => w.get(id)?.role ?? "";
    const lookups = ctx.opsOf(graph, "embedding").filter((o) => role(o.table) === "per_layer_embedding");
    const linears = ctx.opsOf(graph, "linear").filter((o) => PLE_ROLES.includes(role(o.weight.weight)));
    const prod = producers(graph);
    const gates: Op[] = linears
      .filter((o) => role(o.weight.weight) === "per_layer_proj")
      .map((o) => prod.get(o.input))
      .filter((o): o is Op => o?.kind === "mul");
    const p =
      parsed.text.gemma3n?.hidden_size_per_layer_input ?? parsed.text.gemma4?.hidden_size_per_layer_input;
    const paths = ctx.pathsOf(...PLE_KEYS);
    const table = w.get(lookups[0]?.table ?? "");
    const g = cvoVerdict(
      ctx,
      ["MUL"],
      "CVO MUL of the gate activation by the layer's slice",
      "the per-layer gating product",
    );
    const entries: LedgerEntry[] = [
      ctx.entry({
        key: "hidden_size_per_layer_input",
        paths,
        value: p,
        detail: `${p} values per layer per token from a [${table?.shape.join(", ") ?? "?"}] table, ${plural(linears.length, "projection")}`,
        verdict: {
          kind: "lowered",
          how: "the token's row of the per-layer table is fetched like the embedding row (DMA, offset relocated by the token id); model/gate/output projections are GEMVs",
        },
        ops: ids([...lookups, ...linears]),
      }),
      ctx.entry({
        key: "",
        paths: [],
        value: p,
        detail: `per-layer gating product in ${layerRanges(layersOf(gates))}`,
        verdict: g.verdict,
        ops: ids(gates),
        cvo: g.cvo,
      }),
    ];
    return { graph, entries };
  },
};

const ALTUP_KEYS = ["altup_num_inputs", "altup_active_idx", "altup_coef_clip", "altup_correct_scale"];

export const altup: FeaturePlugin = {
  id: "altup",
  summary:
    "Gemma 3n AltUp: N residual streams mixed by per-token coefficients (CVO SCALE with accm per coefficient); stream magnitude matching needs SQUARE.",
  keys: ALTUP_KEYS,
  detect: (_p, g) => g.ops.some((o) => o.kind === "altup_predict" || o.kind === "altup_correct"),
  apply(graph, parsed, _t, ctx) {
    const mix = ctx.opsOf(graph, "altup_predict", "altup_correct");
    const n = parsed.text.gemma3n?.altup_num_inputs ?? 0;
    const paths = ctx.pathsOf(...ALTUP_KEYS);
    const m = cvoVerdict(
      ctx,
      ["SCALE"],
      "each output stream accumulates N CVO SCALEs (accm) of the input streams by the coefficients, which the coefficient GEMV writes in the word before each stream; the correction clip is applied to the coefficient weights at layout time",
      "the AltUp stream mixing",
    );
    const entries: LedgerEntry[] = [
      ctx.entry({
        key: "altup_num_inputs",
        paths,
        value: {
          altup_num_inputs: n,
          altup_active_idx: parsed.text.gemma3n?.altup_active_idx,
          altup_coef_clip: parsed.text.gemma3n?.altup_coef_clip,
        },
        detail: `${n} streams, predict/correct in ${layerRanges(layersOf(mix))}`,
        verdict: m.verdict,
        ops: ids(mix),
        cvo: m.cvo,
      }),
    ];
    const mm = ctx.opsOf(graph, "magnitude_match");
    if (mm.length > 0) {
      const v = cvoVerdict(
        ctx,
        ["SQUARE", "REDUCE_SUM", "SCALE", "SQRT", "RECIP", "MAX"],
        "mean squares by SQUARE/REDUCE_SUM, MAX with eps, SQRT, RECIP, SCALE",
        "matching a stream's magnitude",
      );
      entries.push(
        ctx.entry({
          key: "altup_correct_scale",
          paths: ctx.pathsOf("altup_correct_scale"),
          value: parsed.text.gemma3n?.altup_correct_scale,
          detail: `stream magnitude matching (${plural(mm.length, "op")})`,
          verdict: v.verdict,
          ops: ids(mm),
          cvo: v.cvo,
        }),
      );
    }
    return { graph, entries };
  },
};

export const laurel: FeaturePlugin = {
  id: "laurel",
  summary:
    "Gemma 3n LAuReL low-rank residual: two GEMVs of rank laurel_rank per layer, the sum accumulated onto the attention output.",
  keys: ["laurel_rank"],
  detect: (_p, g) => g.weights.some((w) => w.role === "laurel"),
  apply(graph, parsed, _t, ctx) {
    const w = weightMap(graph);
    const ops = ctx.opsOf(graph, "linear").filter((o) => w.get(o.weight.weight)?.role === "laurel");
    const entry = ctx.entry({
      key: "laurel_rank",
      paths: ctx.pathsOf("laurel_rank"),
      value: parsed.text.gemma3n?.laurel_rank,
      detail: `rank-${parsed.text.gemma3n?.laurel_rank} residual in ${layerRanges(layersOf(ops))}`,
      verdict: {
        kind: "lowered",
        how: "down and up projections are GEMVs; their norm follows the norm verdict and the residual sum accumulates (accm)",
      },
      ops: ids(ops),
    });
    return { graph, entries: [entry] };
  },
};
