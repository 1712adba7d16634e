/**
 * Stage `resolve`: the architecture plugin (loaded `--plugin`s first, then the built-ins) turns the
 * parsed config into the verified ModelGraph.
 */
import { countParams, graphToJson, resolve } from "../../resolver/index.js";
import { need, type PipelineState, type RunContext } from "../state.js";
import type { Stage } from "./stage.js";

export const resolveStage: Stage = {
  name: "resolve",
  summary: "config → ModelGraph through the architecture plugin",
  modes: ["compile", "plan"],
  async run(s: PipelineState, ctx: RunContext) {
    const r = resolve(need(s, "parsed", "resolve"), { plugins: ctx.plugins.architectures });
    s.resolved = r;
    ctx.diagnostics.push(...r.diagnostics);
    const params = countParams(r.graph);
    ctx.logger.debug(`resolve: ${r.plugin}, ${r.graph.ops.length} ops, ${params.total} parameters`);
  },
  dump(s) {
    if (!s.resolved) return undefined;
    return {
      plugin: s.resolved.plugin,
      params: countParams(s.resolved.graph),
      graph: graphToJson(s.resolved.graph),
    };
  },
};
