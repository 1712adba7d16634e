/**
 * Test helpers: layout plans from the layout stage's planLayout (context and KV dtype chosen per
 * test), and the built-in targets.
 */
import { foldedNorms } from "../../src/codegen/index.js";
import { planLayout } from "../../src/layout/index.js";
import type { LayoutOptions, LayoutPlan } from "../../src/layout/types.js";
import type { ModelGraph } from "../../src/resolver/graph/index.js";
import { loadTarget, type Target } from "../../src/target/index.js";

export const base = (): Target => loadTarget("kv260-v002");
export const ext = (): Target => loadTarget("kv260-v002-ext");

/**
 * planLayout with a small context, an INT4 KV cache (what the NPU attention path streams) and the
 * norms codegen folds marked folded (as the compile pipeline passes them).
 */
export function plan(g: ModelGraph, t: Target = base(), o: LayoutOptions = {}): LayoutPlan {
  return planLayout(g, t, { context: 64, kvDtype: "int4", folded: foldedNorms(g), ...o });
}
