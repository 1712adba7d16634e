/**
 * Traceability helpers: where a step comes from, and which steps touch an HF tensor.
 */
import type { Origin, Program, Step } from "./program.js";

/** The origin of a step: graph op id, layer, label and HF tensor names. */
export function originOf(step: Step): Origin {
  return step.origin;
}

export interface StepRef {
  readonly segment: string;
  readonly index: number;
  readonly step: Step;
}

/** Every step whose origin names HF tensor `name` (in segment order). */
export function stepsForTensor(program: Program, name: string): StepRef[] {
  const out: StepRef[] = [];
  for (const seg of program.segments)
    seg.steps.forEach((step, index) => {
      if (step.origin.tensors?.includes(name)) out.push({ segment: seg.name, index, step });
    });
  return out;
}
