/**
 * Codegen's errors. User-facing: an op the target cannot run (`codegen/unsupported-op`, exit 3),
 * a program that does not fit L2 (`codegen/l2-overflow`, exit 3), a layout plan that does not match
 * the graph (`codegen/plan`, exit 2). Anything else is a codegen bug (exit 70).
 */
import { ExitCode, PccxError } from "../diag/index.js";
import type { Op } from "../resolver/graph/index.js";

export function internalError(message: string, notes: readonly string[] = []): PccxError {
  return new PccxError("codegen/internal", ExitCode.INTERNAL, message, { notes });
}

/** An op that cannot be lowered for this target: names the op, its layer and why. */
export function unsupportedOp(op: Op, reason: string, fix?: string): PccxError {
  const where = op.layer !== undefined ? `layer ${op.layer}` : "outside the layers";
  return new PccxError(
    "codegen/unsupported-op",
    ExitCode.UNSUPPORTED,
    `cannot lower ${op.kind} op ${op.id} (${where}, outputs ${op.outputs.join(", ")}): ${reason}`,
    { at: { jsonPath: `ops[${Number(op.id.slice(2))}]` }, ...(fix ? { fix } : {}) },
  );
}

export function planError(message: string, fix?: string): PccxError {
  return new PccxError("codegen/plan", ExitCode.INVALID_INPUT, message, fix ? { fix } : {});
}
