/**
 * The stage contract: a named step of the pipeline that reads earlier products from the state,
 * adds its own, writes its artifacts when compiling, and can dump what it made as JSON
 * (`--stop-after <stage>`).
 */
import type { PipelineState, RunContext, RunMode } from "../state.js";
import type { StageName } from "../types.js";

export interface Stage {
  readonly name: StageName;
  /** One line for docs and `--help`. */
  readonly summary: string;
  /** The runs it takes part in: `plan` is config only (no weights, nothing written). */
  readonly modes: readonly RunMode[];
  run(s: PipelineState, ctx: RunContext): Promise<void>;
  /** Plain JSON of what the stage produced (undefined when it did not run). */
  dump(s: PipelineState): unknown;
}
