/**
 * Stage `layout`. Consumes the ModelGraph and the target (config only) and, after codegen, the
 * stream segments it tiled; produces the layout plan (per-tensor format, scale group and placement,
 * KV rings), the WeightPlan (DDR map, capacity verdict, one-line summary) and the weight image
 * (weights.bin + weights.json) quantized straight from the safetensors checkpoint.
 * See docs/layout.md (planner, image) and docs/layout-quant.md (the INT4 core).
 */
export * from "./image/index.js";
export * from "./plan/index.js";
export * from "./quant/index.js";
export type * from "./types.js";
