/**
 * Stage `layout` (config only): per-tensor formats and placements, the KV plan for the chosen
 * context and the estimated DDR fit. A compile stops here with the computed advice when the model
 * cannot fit; `plan` reports the verdict as data.
 */
import { foldedNorms } from "../../codegen/index.js";
import { planLayout, throwIfNotFit } from "../../layout/index.js";
import { contextChoice, noteLayoutDefaults } from "../settings.js";
import { need, type PipelineState, type RunContext } from "../state.js";
import type { Stage } from "./stage.js";

export const layoutStage: Stage = {
  name: "layout",
  summary: "config-only layout plan: INT4/BF16 policy, placements, KV rings, DDR fit estimate",
  modes: ["compile", "plan"],
  async run(s: PipelineState, ctx: RunContext) {
    const graph = need(s, "features", "layout").graph;
    const context =
      s.context ?? contextChoice(ctx.choices, need(s, "parsed", "layout"), ctx.target, ctx.notes);
    s.context = context;
    const plan = planLayout(graph, ctx.target, {
      context,
      // the RMSNorm weights codegen folds into the columns of the projections they feed
      folded: foldedNorms(graph),
      ...(ctx.choices.groupSize !== undefined ? { groupSize: ctx.choices.groupSize } : {}),
      ...(ctx.choices.kvDtype !== undefined ? { kvDtype: ctx.choices.kvDtype } : {}),
      ...(ctx.choices.layoutOverrides?.length ? { overrides: ctx.choices.layoutOverrides } : {}),
      ...(s.label ? { label: s.label } : {}),
    });
    s.layout = plan;
    noteLayoutDefaults(plan, ctx.choices, ctx.target, ctx.notes);
    ctx.diagnostics.push(...(plan.warnings ?? []));
    if (ctx.mode === "compile" && plan.estimate) throwIfNotFit(plan.estimate);
  },
  dump(s) {
    if (!s.layout) return undefined;
    const { machine: _machine, ...plan } = s.layout;
    return plan;
  },
};
