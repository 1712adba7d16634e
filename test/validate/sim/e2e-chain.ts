/**
 * The compile chain for the end-to-end check, from the stage APIs: parse → resolve → features →
 * planLayout → codegen → finalizeLayout → writeWeightImage, then the image as the simulator and the
 * golden reference read it. `missingRegions` lists the image-backed program regions the image does
 * not hold (they would start zeroed: a mismatch between codegen and the layout).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codegen } from "../../../src/codegen/index.js";
import type { Program } from "../../../src/codegen/program.js";
import { BUILTIN_FEATURES, prepareConfig, runFeatures } from "../../../src/features/index.js";
import {
  finalizeLayout,
  foldableNorms,
  planLayout,
  type WeightManifest,
  writeWeightImage,
} from "../../../src/layout/index.js";
import { openModel } from "../../../src/parser/model.js";
import { type ModelGraph, resolve } from "../../../src/resolver/index.js";
import type { Target } from "../../../src/target/index.js";
import { imageFromManifest, type WeightImage } from "../../../src/validate/sim/index.js";

export interface Compiled {
  readonly graph: ModelGraph;
  readonly program: Program;
  readonly bin: Uint8Array;
  readonly manifest: WeightManifest;
  readonly image: WeightImage;
  /** Image-backed program regions the image lacks. */
  readonly missingRegions: readonly string[];
  readonly vocab: number;
}

const IMAGE_KINDS = new Set(["weights", "embedding", "table"]);

/**
 * `segments`: the stream segments codegen emits (default decode only, the prompt then goes token by
 * token; `pccxc compile` emits prefill too). `kvDtype`: the KV cache format (default the target's).
 */
export async function compileTiny(
  dir: string,
  target: Target,
  context = 64,
  segments: readonly ("decode" | "prefill")[] = ["decode"],
  kvDtype?: "int4" | "int8",
): Promise<Compiled> {
  const src = await openModel(dir, { weightsPolicy: "required" });
  try {
    const parsed = prepareConfig({ ...src.config, file: "tiny/config.json" }, BUILTIN_FEATURES);
    const graph = runFeatures(resolve(parsed, {}).graph, parsed, target, BUILTIN_FEATURES).graph;
    const folded = new Set(foldableNorms(graph).map((c) => c.norm));
    const plan = planLayout(graph, target, { context, folded, ...(kvDtype ? { kvDtype } : {}) });
    const cg = codegen(graph, plan, target, { segments });
    const wp = finalizeLayout(plan, cg.segments, cg.regions);
    const out = mkdtempSync(join(tmpdir(), "pccxc-sim-e2e-"));
    let bin: Uint8Array;
    let manifest: WeightManifest;
    try {
      await writeWeightImage(wp, cg.segments, src.tensors!, out, { threads: 0 });
      bin = new Uint8Array(readFileSync(join(out, "weights.bin")));
      manifest = JSON.parse(readFileSync(join(out, "weights.json"), "utf8")) as WeightManifest;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    const have = new Set(manifest.regions.map((r) => r.name));
    const missing = cg.program.ddr
      .filter((r) => IMAGE_KINDS.has(r.kind) && !have.has(r.name))
      .map((r) => r.name);
    const image = imageFromManifest(bin, manifest);
    return {
      graph,
      program: cg.program,
      bin,
      manifest,
      image,
      missingRegions: missing,
      vocab: graph.meta.vocabSize,
    };
  } finally {
    await src.close?.();
  }
}
