/**
 * Stage `stubs`: the C driver for the program — program tables, runtime loop, host operations,
 * the HAL header and its Linux UIO, bare-metal and simulation implementations, main.c and a
 * Makefile — written under driver/. The driver loads weights.bin by this compile's weights.json
 * (region file offsets, the file's size) and, for images up to 256 MiB, checks region checksums.
 */
import { readFile } from "node:fs/promises";
import { generateDriver } from "../../stubs/index.js";
import { need, type PipelineState, type RunContext } from "../state.js";
import { kvLayers } from "./kv.js";
import type { Stage } from "./stage.js";

export interface DriverProduct {
  /** Relative paths of the generated files (under driver/). */
  readonly files: readonly string[];
}

/** Images up to this size are handed to the generator for per-region checksums. */
const CHECKSUM_IMAGE_LIMIT = 256 << 20;

export const stubsStage: Stage = {
  name: "stubs",
  summary: "the C driver: program tables, runtime loop, HAL header and implementations",
  modes: ["compile"],
  async run(s: PipelineState, ctx: RunContext) {
    const cg = need(s, "codegen", "stubs");
    const plan = need(s, "layout", "stubs");
    const wp = need(s, "weightPlan", "stubs");
    const image =
      ctx.out && wp.image.bytes <= CHECKSUM_IMAGE_LIMIT
        ? new Uint8Array(await readFile(ctx.out.path("weights.bin")))
        : undefined;
    const bundle = generateDriver(cg.program, ctx.target, {
      manifest: need(s, "image", "stubs").manifest,
      ...(image ? { image } : {}),
      vocab: plan.model?.vocabSize ?? need(s, "resolved", "stubs").graph.meta.vocabSize,
      context: plan.context,
      layers: kvLayers(plan),
    });
    for (const [rel, text] of bundle.files) await ctx.out?.write(`driver/${rel}`, text);
    s.driver = { files: [...bundle.files.keys()].map((f) => `driver/${f}`) };
  },
  dump(s) {
    return s.driver;
  },
};
