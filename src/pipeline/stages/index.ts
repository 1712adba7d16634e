/**
 * The pipeline as a list: stages run in this order. Adding a stage is one line here (and its name
 * in STAGE_NAMES, which `--stop-after` accepts).
 */
import { codegenStage } from "./codegen.js";
import { featuresStage } from "./features.js";
import { layoutStage } from "./layout.js";
import { parseStage } from "./parse.js";
import { resolveStage } from "./resolve.js";
import type { Stage } from "./stage.js";
import { stubsStage } from "./stubs.js";
import { validateStage } from "./validate.js";

export const STAGES: readonly Stage[] = [
  parseStage,
  resolveStage,
  featuresStage,
  layoutStage,
  codegenStage,
  stubsStage,
  validateStage,
];

export type { Stage } from "./stage.js";
