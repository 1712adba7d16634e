/**
 * Stage `parse`: finds the model (directory, config.json or repo id through the HF cache), parses
 * config.json and generation_config.json, opens the safetensors index when weights are needed, and
 * lets feature plugins rewrite the config before resolution (prepareConfig). Model types declared by
 * architecture plugins are known to the config parser here.
 */
import { basename } from "node:path";
import { prepareConfig } from "../../features/index.js";
import { type ModelSource, openModel, requireSupportedQuantization } from "../../parser/index.js";
import type { PipelineState, RunContext } from "../state.js";
import { STAGE_NAMES } from "../types.js";
import type { Stage } from "./stage.js";

/** Weights are read only when the run goes past the config-only stages of a compile. */
export function needsWeights(ctx: RunContext): boolean {
  return ctx.mode === "compile" && STAGE_NAMES.indexOf(ctx.stopAfter) >= STAGE_NAMES.indexOf("codegen");
}

/** The repo id, or the model directory's name: stable whatever the working directory. */
export function modelLabel(src: ModelSource): string {
  return src.origin.kind === "hf-cache" ? src.origin.repo : basename(src.dir);
}

export const parseStage: Stage = {
  name: "parse",
  summary: "find the model, parse config.json / generation_config.json, index the safetensors",
  modes: ["compile", "plan"],
  async run(s: PipelineState, ctx: RunContext) {
    const weights = needsWeights(ctx);
    const src = await openModel(ctx.spec, {
      ...ctx.model,
      weightsPolicy: weights ? "required" : "none",
      logger: ctx.logger,
      // model types added by architecture plugins
      parse: { modelTypes: ctx.plugins.modelTypes },
    });
    s.source = src;
    ctx.diagnostics.push(...src.diagnostics);
    if (weights) requireSupportedQuantization(src.config);
    const label = modelLabel(src);
    s.label = label;
    // Outputs name the config by the model's label, never by an absolute path.
    s.parsed = prepareConfig({ ...src.config, file: `${label}/config.json` }, ctx.features);
    if (src.origin.kind === "hf-cache") {
      const o = src.origin;
      if (ctx.model.revision === undefined)
        ctx.notes.note("revision", o.revision, "default: the repo's main branch");
      if (ctx.model.cacheDir === undefined)
        ctx.notes.note("cache dir", o.cacheDir, `inferred: ${o.cacheSource}`);
      ctx.logger.debug(`${o.repo}@${o.revision} → snapshot ${o.sha} in ${o.cacheDir} (${o.cacheSource})`);
      if (o.downloaded.length > 0) ctx.logger.info(`downloaded ${o.downloaded.join(", ")}`);
    }
  },
  dump(s) {
    const src = s.source;
    const p = s.parsed;
    if (!src || !p) return undefined;
    return {
      model: s.label,
      origin:
        src.origin.kind === "hf-cache"
          ? { kind: "hf-cache", repo: src.origin.repo, sha: src.origin.sha }
          : { kind: "dir" },
      files: Object.keys(src.files).sort(),
      config: {
        modelType: p.modelType,
        architectures: p.architectures,
        text: p.text,
        unknownKeys: p.unknownKeys,
        defaultsApplied: p.defaultsApplied,
        dtype: p.dtype,
        quantization: p.quantization ?? null,
      },
      generation: src.generation ? { ...src.generation, file: "generation_config.json" } : null,
      tensors: src.tensors ? src.tensors.names().length : null,
    };
  },
};
