/**
 * Config-only compilation for the anchor tests and the benchmark: config.json → graph (resolver),
 * feature ledger, layout plan and — when codegen can — the decode program. Paths of the real
 * configs (../shared/configs, examples/configs) and of this folder's fixtures.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { codegen } from "../../../src/codegen/index.js";
import type { Program } from "../../../src/codegen/program.js";
import { prepareConfig, runFeatures } from "../../../src/features/index.js";
import type { FeatureLedger } from "../../../src/features/types.js";
import { foldableNorms, planLayout } from "../../../src/layout/index.js";
import type { LayoutOptions, LayoutPlan } from "../../../src/layout/types.js";
import { parseConfigText } from "../../../src/parser/config/index.js";
import { type ModelGraph, resolve } from "../../../src/resolver/index.js";
import type { Target } from "../../../src/target/index.js";

export const SHARED_CONFIGS = fileURLToPath(new URL("../../../../shared/configs", import.meta.url));
export const HAVE_SHARED = existsSync(SHARED_CONFIGS);
export const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));
export const E4B_CONFIG = `${SHARED_CONFIGS}/google__gemma-3n-E4B-it/config.json`;
export const LLAMA2_CONFIG = `${FIXTURES}/llama-2-7b.config.json`;

export interface Compiled {
  readonly graph: ModelGraph;
  readonly ledger: FeatureLedger;
  readonly plan: LayoutPlan;
}

/**
 * The layout the published figures assume (pccx-v002.md §3, §6): INT4 weights with group-32 BF16
 * scales (≈4.5 bits per weight) and an INT4 KV cache, so that attention streams through the GEMV.
 */
export const PUBLISHED_LAYOUT: LayoutOptions = { groupSize: 32, kvDtype: "int4" };

export function frontEnd(
  configPath: string,
  target: Target,
  layout: LayoutOptions = PUBLISHED_LAYOUT,
): Compiled {
  const parsed = prepareConfig(parseConfigText(readFileSync(configPath, "utf8"), configPath));
  const f = runFeatures(resolve(parsed).graph, parsed, target);
  // as the pipeline does: codegen folds every RMSNorm weight read only by matrix products
  const folded = new Set(foldableNorms(f.graph).map((c) => c.norm));
  return { graph: f.graph, ledger: f.ledger, plan: planLayout(f.graph, target, { folded, ...layout }) };
}

/** The decode program codegen produces for a front end (load + decode segments). */
export function decodeProgram(c: Compiled, target: Target, model: string): Program {
  return codegen(c.graph, c.plan, target, { segments: ["decode"], model }).program;
}
