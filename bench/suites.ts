/** The benchmark suites, in run order. Each stage adds its suite here. */
import { codegenSuite } from "./codegen.js";
import { funcsimSuite } from "./funcsim.js";
import { isaSuite } from "./isa.js";
import { layoutSuite } from "./layout.js";
import { pipelineSuite } from "./pipeline.js";
import { quantSuite } from "./quant.js";
import { safetensorsSuite } from "./safetensors.js";
import { timingSuite } from "./timing.js";
import type { BenchSuite } from "./types.js";

export const suites: readonly BenchSuite[] = [
  isaSuite,
  safetensorsSuite,
  quantSuite,
  layoutSuite,
  codegenSuite,
  funcsimSuite,
  timingSuite,
  pipelineSuite,
];
