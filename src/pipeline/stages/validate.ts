/**
 * Stage `validate`: the functional simulation of a greedy generation against the golden reference
 * run on the same dequantized weights (small models: see FUNCTIONAL_PARAM_LIMIT), the timing
 * simulation (rates at the compiled context and a context sweep), and — when compiling — the
 * reports and traces.
 */
import { readFile } from "node:fs/promises";
import { ExitCode, PccxError } from "../../diag/index.js";
import { countParams } from "../../resolver/index.js";
import { prettyJson } from "../../util/json.js";
import { checkpointReader, GoldenModel, golden, goldenForced } from "../../validate/golden/index.js";
import { buildReport, detailRun, renderReport } from "../../validate/reports/index.js";
import {
  compareToGolden,
  type Fault,
  type GoldenComparison,
  imageFromManifest,
  imageWeightReader,
  simulateGeneration,
  untie,
} from "../../validate/sim/index.js";
import type { TimingOutput } from "../../validate/timing/index.js";
import { yieldToSignals } from "../interrupt.js";
import { need, type PipelineState, type RunContext } from "../state.js";
import type { PerformanceSummary, ValidationSummary } from "../summary.js";
import { kvLayers } from "./kv.js";
import type { Stage } from "./stage.js";
import { timeProgram } from "./timing.js";

/**
 * `--validate auto` simulates functionally only models with at most this many parameters: the
 * simulator (exact and hardware runs) and the float64 golden reference (on the image's weights and
 * on the checkpoint's) run every MAC in TypeScript and hold every weight as float64. Reading the
 * image back is no longer the bottleneck (30–270 M weights/s, docs/simulator.md); the golden's
 * float64 copies are what grow with the model. `--validate on` runs it whatever the size.
 */
export const FUNCTIONAL_PARAM_LIMIT = 8_000_000;

/** Prompt of the functional validation: fixed ids (the BOS id first when the config has one). */
export function validationPrompt(vocab: number, bos: number | null | undefined): number[] {
  const ids = [bos ?? 1, 2, 3, 4].map((t) => ((t % vocab) + vocab) % vocab);
  return ids;
}

/** Estimated rates at one context length. */
export interface PerfPoint {
  readonly context: number;
  readonly decodeTokensPerSecond: number;
  readonly prefillTokensPerSecond: number | null;
}

export interface FunctionalRun {
  readonly prompt: readonly number[];
  readonly simTokens: readonly number[];
  readonly goldenTokens: readonly number[];
  readonly comparison: GoldenComparison;
  readonly faults: readonly Fault[];
  /** Hardware numeric mode, teacher-forced on the golden tokens, against the golden (measured). */
  readonly hardware: GoldenComparison;
  /** The golden on the image's INT4 weights against the golden on the checkpoint's (measured). */
  readonly quantization?: GoldenComparison;
  /** Why a measurement is missing. */
  readonly notes: readonly string[];
}

export interface ValidateProduct {
  readonly functional: ValidationSummary;
  readonly run?: FunctionalRun;
  readonly performance?: PerformanceSummary;
  /** The rates at each requested context (plan), or at the compiled context. */
  readonly sweep?: readonly PerfPoint[];
  readonly timing?: TimingOutput;
}

function functionalWanted(s: PipelineState, ctx: RunContext): { run: boolean; why: string } {
  if (ctx.mode !== "compile") return { run: false, why: "config-only plan" };
  if (ctx.validate === "off") return { run: false, why: "--validate off" };
  const params = countParams(need(s, "resolved", "validate").graph).total;
  if (ctx.validate === "on") return { run: true, why: "--validate on" };
  const run = params <= FUNCTIONAL_PARAM_LIMIT;
  const n = (x: number) => x.toLocaleString("en-US");
  const why = `${n(params)} parameters ${run ? "≤" : ">"} ${n(FUNCTIONAL_PARAM_LIMIT)} with --validate auto`;
  ctx.notes.note("functional validation", run ? "on" : "off", `inferred: ${why}`);
  return { run, why };
}

async function functional(
  s: PipelineState,
  ctx: RunContext,
): Promise<{ summary: ValidationSummary; run: FunctionalRun }> {
  const cg = need(s, "codegen", "validate");
  const manifest = need(s, "image", "validate").manifest;
  const graph = need(s, "features", "validate").graph;
  const bin = new Uint8Array(await readFile(ctx.out!.path("weights.bin")));
  const bos = s.source?.generation?.bos_token_id ?? s.parsed?.specialTokens.bos_token_id;
  const prompt = validationPrompt(graph.meta.vocabSize, bos);
  const first = bos != null ? "the BOS id" : "token 1 (no BOS id)";
  ctx.notes.note("validation prompt", prompt.join(" "), `inferred: ${first}, then 2, 3, 4`);
  if (ctx.tokensDefaulted)
    ctx.notes.note("validation tokens", ctx.tokens, "default: decoded greedily in exact mode");
  const bar = ctx.logger.progress("functional simulation", 4);
  const image = imageFromManifest(bin, manifest);
  const simOptions = {
    layers: kvLayers(need(s, "layout", "validate")),
    logits: { vocab: graph.meta.vocabSize },
  };
  const sim = simulateGeneration(cg.program, image, ctx.target, prompt, ctx.tokens, "exact", simOptions);
  bar.tick();
  await yieldToSignals();
  const untied = untie(graph);
  const gold = await golden(untied, imageWeightReader(bin, manifest, untied), prompt, ctx.tokens);
  bar.tick();
  await yieldToSignals();
  // Measured and reported, not judged (docs/simulator.md has the floors the tests enforce): the
  // hardware numeric model's error, teacher-forced so one flipped near-tie does not derail the rest,
  // and the error INT4 quantization alone causes (golden vs golden on the checkpoint's weights).
  const hw = simulateGeneration(cg.program, image, ctx.target, prompt, ctx.tokens, "hardware", {
    ...simOptions,
    forceTokens: gold.tokens,
  });
  const hardware = compareToGolden(hw, gold);
  bar.tick();
  await yieldToSignals();
  const notes: string[] = [];
  if (hw.faults.length > 0)
    notes.push(`hardware mode: ${hw.faults.length} fault(s), first: ${hw.faults[0]!.message}`);
  let quantization: GoldenComparison | undefined;
  const tensors = s.source?.tensors;
  if (tensors) {
    try {
      const reader = checkpointReader(tensors);
      const original = await goldenForced(await GoldenModel.load(graph, reader), prompt, gold.tokens);
      quantization = compareToGolden(gold, original);
    } catch (e) {
      notes.push(
        `quantization-only error not measured: the golden reference cannot read the checkpoint's weights (${e instanceof Error ? e.message : String(e)})`,
      );
    }
  } else notes.push("quantization-only error not measured: no checkpoint weights");
  bar.tick();
  bar.done();
  await yieldToSignals();
  const comparison = compareToGolden(sim, gold);
  const run = {
    prompt,
    simTokens: sim.tokens,
    goldenTokens: gold.tokens,
    comparison,
    faults: sim.faults,
    hardware,
    ...(quantization ? { quantization } : {}),
    notes,
  };
  const ok = comparison.tokensEqual && sim.faults.length === 0;
  const detail = ok
    ? `${ctx.tokens} tokens equal the golden reference (exact mode, max rel err ${comparison.worst.maxRelErr.toExponential(2)}); ` +
      `min cosine: hardware mode ${hardware.worst.cosine.toFixed(4)}` +
      (quantization ? `, INT4 quantization alone ${quantization.worst.cosine.toFixed(4)}` : "")
    : sim.faults.length > 0
      ? `${sim.faults.length} simulator fault(s)`
      : `tokens differ from the golden reference at step ${comparison.firstDivergence}`;
  return { summary: { verdict: ok ? "passed" : "failed", detail }, run };
}

function failValidation(summary: ValidationSummary, run: FunctionalRun): never {
  throw new PccxError(
    "validate/mismatch",
    ExitCode.INTERNAL,
    `functional validation failed: ${summary.detail}`,
    {
      notes: [
        ...run.faults.slice(0, 3).map((f) => `fault: ${f.message}`),
        `prompt ${run.prompt.join(" ")}`,
        `simulator tokens ${run.simTokens.join(" ")}`,
        `golden tokens    ${run.goldenTokens.join(" ")}`,
      ],
      fix: "this is a compiler bug; rerun with --validate off to keep the outputs and inspect them with `pccxc simulate`",
    },
  );
}

/** report.json / .md / .html, layers.csv, trace.json, trace.pccx (docs/report-format.md). */
async function writeReports(s: PipelineState, ctx: RunContext): Promise<void> {
  const v = need(s, "validation", "validate");
  const wp = need(s, "weightPlan", "validate");
  const report = buildReport({
    target: ctx.target,
    ...(s.label ? { modelName: s.label } : {}),
    graph: need(s, "features", "validate").graph.meta,
    ledger: need(s, "features", "validate").ledger,
    layout: wp,
    program: need(s, "codegen", "validate").program,
    ...(s.image ? { quantization: s.image.manifest.quantization } : {}),
    ...(v.timing ? { timing: v.timing } : {}),
    ...(v.performance ? { context: v.performance.context } : {}),
    ...(v.run
      ? {
          functional: {
            faults: v.run.faults,
            golden: v.run.comparison,
            hardware: v.run.hardware,
            ...(v.run.quantization ? { quantization: v.run.quantization } : {}),
            notes: v.run.notes,
          },
        }
      : {}),
  });
  const timeline = v.timing ? v.timing.runs[detailRun(v.timing)]?.timeline : undefined;
  const files = renderReport(report, { target: ctx.target, ...(timeline ? { timeline } : {}) });
  for (const [name, data] of files) await ctx.out!.write(name, data);
}

export const validateStage: Stage = {
  name: "validate",
  summary: "functional simulation vs golden (small models), timing simulation, reports and traces",
  modes: ["compile", "plan"],
  async run(s: PipelineState, ctx: RunContext) {
    const want = functionalWanted(s, ctx);
    let functionalSummary: ValidationSummary = { verdict: "skipped", detail: want.why };
    let run: FunctionalRun | undefined;
    if (want.run) {
      const f = await functional(s, ctx);
      functionalSummary = f.summary;
      run = f.run;
      if (f.summary.verdict === "failed") failValidation(f.summary, f.run);
    }
    await yieldToSignals();
    const t = timeProgram(s, ctx);
    s.validation = { functional: functionalSummary, ...(run ? { run } : {}), ...t };
    if (ctx.out) await writeReports(s, ctx);
    // the golden tokens of the validation prompt: `pccxc cosim` checks the C driver against them
    if (ctx.out && run)
      await ctx.out.write("golden.json", prettyJson({ prompt: run.prompt, tokens: run.goldenTokens }));
  },
  dump(s) {
    if (!s.validation) return undefined;
    const { timing: _timing, ...rest } = s.validation;
    return { ...rest, timing: s.validation.timing?.result ?? null };
  },
};
