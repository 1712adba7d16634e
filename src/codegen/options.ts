/**
 * Compile options of codegen. No hardware fact lives here (those come from the target): only
 * choices about the program to generate.
 */

export interface CodegenOptions {
  /** Model name recorded in the program (default: the graph's model type). */
  readonly model?: string;
  /** Segments to generate besides `load` (default: both). */
  readonly segments?: readonly ("decode" | "prefill")[];
  /**
   * Tokens per prefill chunk. Default: the largest power of two ≤ 16 whose program fits L2 (a
   * prefill block of one stream tile must also fit the SFU length limit).
   */
  readonly prefillChunk?: number;
  /** Run verifyProgram on the result (default true); errors are a codegen bug (exit 70). */
  readonly verify?: boolean;
}

export const DEFAULT_SEGMENTS: readonly ("decode" | "prefill")[] = ["decode", "prefill"];
export const MAX_AUTO_PREFILL_CHUNK = 16;
