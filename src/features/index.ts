/**
 * Stage `features`: consumes a resolved ModelGraph, its ParsedConfig and a Target; produces the
 * graph (rewritten only where a rewrite is exact, e.g. a window covering the whole context becomes a
 * causal mask) and the FeatureLedger: for every detected feature a verdict on this target
 * (lowered / host / approximated with a measured error / rejected with the key and a fix /
 * ignored), the ops it concerns, and the accounting of every config key. docs/features.md
 */
export { ACTIVATION_GRID, EXACT_FUNCTIONS, icdfConstantError, measureMaxAbsError } from "./approx.js";
export { cvoNames, hasL2ToL2Copy } from "./context.js";
export { DOC_MARKERS, renderErrorBounds, renderFeatureDoc, renderFeatureTable } from "./doc.js";
export { compileFormula, unaryFormula } from "./formula.js";
export {
  accountKeys,
  configPaths,
  OUT_OF_SCOPE_KEYS,
  OUT_OF_SCOPE_TOWERS,
  unclaimedKeys,
} from "./keys.js";
export {
  buildLedger,
  LEDGER_FORMAT,
  LEDGER_VERSION,
  LedgerSchema,
  ledgerFromJson,
  ledgerJsonSchema,
  ledgerToJson,
  renderLedgerText,
  requireNoRejections,
} from "./ledger.js";
export { BUILTIN_FEATURES } from "./plugins/index.js";
export { prepareConfig, runFeatures, UNKNOWN_KEY_FEATURE } from "./run.js";
export type {
  FeatureContext,
  FeatureId,
  FeatureLedger,
  FeatureOutput,
  FeaturePlugin,
  FeatureResult,
  KeyAccount,
  KeyStatus,
  LedgerEntry,
  LedgerSummary,
  OpId,
  Verdict,
  VerdictKind,
} from "./types.js";
