/**
 * Stage `codegen`: lowers the graph to the pccx command stream for the target, finalizes the DDR
 * map from the stream segments it tiled (the exact fit verdict), and — when compiling — writes the
 * program artifacts, layout.json and the weight image quantized from the checkpoint.
 */

import { cvoExtensionsOf, writeProgramArtifacts } from "../../codegen/artifacts/index.js";
import { type CodegenResult, type CodegenStats, codegen } from "../../codegen/index.js";
import type { Program } from "../../codegen/program.js";
import { ExitCode, PccxError } from "../../diag/index.js";
import {
  finalizeLayout,
  type StreamSegment,
  throwIfNotFit,
  type WeightPlan,
  writeWeightImage,
} from "../../layout/index.js";
import { prettyJson } from "../../util/json.js";
import { need, type PipelineState, type RunContext } from "../state.js";
import type { Stage } from "./stage.js";

export interface CodegenProduct {
  readonly program: Program;
  readonly segments: readonly StreamSegment[];
  readonly stats: CodegenStats;
  /** Headline counts for the summary: NPU instructions, DMA commands, host steps … */
  readonly counts: Readonly<Record<string, number>>;
  /** Peak L2 words the program allocates (budgets gate on it). */
  readonly l2PeakWords?: number;
}

/** Decode-segment figures people look at first. */
export function headlineCounts(stats: CodegenStats, p: Program): Record<string, number> {
  const decode = p.segments.find((s) => s.kind === "decode");
  const seg = decode ? stats.segments[decode.name] : undefined;
  const sum = (r: Readonly<Record<string, number>> | undefined) =>
    Object.values(r ?? {}).reduce((a, b) => a + b, 0);
  return {
    "NPU instructions/token": sum(seg?.instructions),
    "DMA commands/token": seg?.dmaCommands ?? 0,
    "host steps/token": sum(seg?.hostSteps),
    "program steps": p.segments.reduce((a, s) => a + s.steps.length, 0),
  };
}

export function l2Peak(stats: CodegenStats): number {
  return stats.programL2Words + stats.l2.reduce((m, x) => Math.max(m, x.peakWords), 0);
}

async function writeOutputs(
  s: PipelineState,
  ctx: RunContext,
  cg: CodegenResult,
  wp: WeightPlan,
): Promise<void> {
  const dir = ctx.out!;
  await writeProgramArtifacts(cg.program, dir, { cvoExtensions: cvoExtensionsOf(ctx.target) });
  const { layout: _plan, segments: _segments, ...map } = wp;
  await dir.write("layout.json", prettyJson(map));
  const tensors = need(s, "source", "codegen").tensors;
  if (!tensors) {
    throw new PccxError(
      "pipeline/no-weights",
      ExitCode.INTERNAL,
      "the parse stage opened no safetensors for a compile",
    );
  }
  s.image = await writeWeightImage(wp, cg.segments, tensors, dir.tempPath, {
    logger: ctx.logger,
    ...(ctx.threads !== undefined ? { threads: ctx.threads } : {}),
    quantSearch: ctx.quantSearch,
  });
  ctx.diagnostics.push(...s.image.warnings);
}

export const codegenStage: Stage = {
  name: "codegen",
  summary: "graph → pccx command stream, exact DDR map; program files and the weight image",
  modes: ["compile", "plan"],
  async run(s: PipelineState, ctx: RunContext) {
    const graph = need(s, "features", "codegen").graph;
    const plan = need(s, "layout", "codegen");
    const cg = codegen(graph, plan, ctx.target, { ...(s.label ? { model: s.label } : {}) });
    ctx.diagnostics.push(...cg.diagnostics);
    // cg.regions carries the program's buffers and its KV rings as it sized them (they replace the
    // plan's ring estimates in the DDR map and the fit verdict).
    const wp = finalizeLayout(plan, cg.segments, cg.regions, s.label ? { label: s.label } : {});
    s.weightPlan = wp;
    s.codegen = {
      program: cg.program,
      segments: cg.segments,
      stats: cg.stats,
      counts: headlineCounts(cg.stats, cg.program),
      l2PeakWords: l2Peak(cg.stats),
    };
    if (ctx.mode !== "compile") return;
    throwIfNotFit(wp.fit);
    await writeOutputs(s, ctx, cg, wp);
  },
  dump(s) {
    if (!s.codegen) return undefined;
    return {
      counts: s.codegen.counts,
      stats: s.codegen.stats,
      weightPlan: s.weightPlan
        ? { summary: s.weightPlan.summary, fit: s.weightPlan.fit, regions: s.weightPlan.regions }
        : null,
    };
  },
};
