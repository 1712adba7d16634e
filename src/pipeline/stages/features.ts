/**
 * Stage `features`: every feature plugin classifies its config keys for the target (lowered / host /
 * approximated / rejected / ignored) and may rewrite the graph; a rejected feature stops the
 * compile with its key and fix. `plan` keeps going so the ledger can be shown.
 */
import { ledgerToJson, requireNoRejections, runFeatures } from "../../features/index.js";
import { need, type PipelineState, type RunContext } from "../state.js";
import type { Stage } from "./stage.js";

export const featuresStage: Stage = {
  name: "features",
  summary: "feature plugins: the ledger of verdicts, graph rewrites",
  modes: ["compile", "plan"],
  async run(s: PipelineState, ctx: RunContext) {
    const graph = need(s, "resolved", "features").graph;
    const r = runFeatures(graph, need(s, "parsed", "features"), ctx.target, ctx.features);
    s.features = r;
    ctx.diagnostics.push(...r.diagnostics.filter((d) => d.severity !== "error"));
    if (ctx.out) await ctx.out.write("ledger.json", ledgerToJson(r.ledger));
    // plan shows a rejection as data (the verdict); compile stops with the key and the fix.
    if (ctx.mode === "compile") requireNoRejections(r.ledger);
  },
  dump(s) {
    if (!s.features) return undefined;
    return JSON.parse(ledgerToJson(s.features.ledger));
  },
};
