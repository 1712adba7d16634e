/**
 * The feature stage's data: verdicts, ledger entries, the key accounting table, the ledger itself
 * and the FeaturePlugin contract. Everything here is plain JSON-compatible data (the ledger is
 * written as `ledger.json`, see ledger.ts and docs/features.md).
 */
import type { Diagnostic } from "../diag/index.js";
import type { ParsedConfig } from "../parser/config/index.js";
import type { ModelGraph, Op } from "../resolver/graph/index.js";
import type { Target } from "../target/index.js";

/** Stable id of a feature plugin, kebab-case, e.g. "sliding-window". */
export type FeatureId = string;
/** Id of a graph op (`op<N>`). */
export type OpId = string;

/**
 * What happens to one feature on one target.
 * - `lowered`: runs on the NPU exactly (`how` says with which instructions).
 * - `host`: runs exactly, on the ARM cores (`reason`: what the target lacks).
 * - `approximated`: runs on the NPU with a different formula; `maxAbsError` is measured (never
 *   guessed) on `grid` against the exact function named in `reference`.
 * - `rejected`: cannot be compiled for this target; `key` of the entry caused it, `fix` says what to do.
 * - `ignored`: the key does not change the compiled next-token function (`reason` says why);
 *   unknown keys get this verdict with the reason "unknown key ..." and a warning.
 */
export type Verdict =
  | { readonly kind: "lowered"; readonly how: string }
  | { readonly kind: "host"; readonly reason: string; readonly how?: string }
  | {
      readonly kind: "approximated";
      readonly method: string;
      readonly reference: string;
      readonly maxAbsError: number;
      /** Where the error was measured: `points` evenly spaced values in [from, to] (or a list of constants). */
      readonly grid: { readonly from: number; readonly to: number; readonly points: number };
      /** Input at which the largest error occurs. */
      readonly worstAt?: number;
    }
  | { readonly kind: "rejected"; readonly reason: string; readonly fix: string }
  | { readonly kind: "ignored"; readonly reason: string };

export type VerdictKind = Verdict["kind"];
export const VERDICT_KINDS: readonly VerdictKind[] = [
  "lowered",
  "host",
  "approximated",
  "rejected",
  "ignored",
];

export interface LedgerEntry {
  readonly feature: FeatureId;
  /** The config key (HF name) this entry is about, e.g. "sliding_window"; "" for a key-less feature. */
  readonly key: string;
  /** JSON paths in the config file that hold the key ([] when it is defaulted or implied by the family). */
  readonly paths: readonly string[];
  /** The value the decision was made on (the key's value, or a derived summary). */
  readonly value: unknown;
  /** One line: what the feature is in this model, e.g. "5 of 6 layers slide over 512 tokens". */
  readonly detail: string;
  readonly verdict: Verdict;
  /** The graph ops concerned, in graph order. */
  readonly ops: readonly OpId[];
  /** CVO functions (target names) the lowering uses, or (host verdicts) the ones the target lacks. */
  readonly cvo?: readonly string[];
  readonly notes?: readonly string[];
}

/** How one JSON path of the config is accounted for. */
export type KeyStatus =
  /** read by the parser and claimed by at least one feature plugin */
  | "claimed"
  /** on the documented non-semantic list (ids, dtypes, versions, training-only, …) */
  | "non-semantic"
  /** a vision/audio tower config or a wrapper key that only concerns the towers */
  | "out-of-scope"
  /** not known to the parser nor claimed by a plugin: a warning, ignored */
  | "unknown"
  /** read by the parser but claimed by no feature plugin: a gap in the feature set (tests keep this empty) */
  | "unclaimed";

export interface KeyAccount {
  readonly path: string;
  readonly status: KeyStatus;
  /** Plugins that claim it (status "claimed", or an unknown key a plugin recognises). */
  readonly features: readonly FeatureId[];
}

export interface LedgerSummary {
  readonly lowered: number;
  readonly host: number;
  readonly approximated: number;
  readonly rejected: number;
  readonly ignored: number;
}

export interface FeatureLedger {
  readonly format: "pccxc-feature-ledger";
  readonly version: number;
  readonly model: { readonly file: string; readonly modelType: string; readonly plugin: string };
  /** Target fingerprint (`kv260-v002@…`). */
  readonly target: string;
  /** Feature plugins that ran, in order. */
  readonly features: readonly FeatureId[];
  /** Sorted by feature order, then key, then first op. */
  readonly entries: readonly LedgerEntry[];
  /** Every JSON path of the config, sorted. */
  readonly keys: readonly KeyAccount[];
  readonly summary: LedgerSummary;
}

/** What a plugin's `apply` returns: the (possibly rewritten) graph and its ledger entries. */
export interface FeatureOutput {
  readonly graph: ModelGraph;
  readonly entries: readonly LedgerEntry[];
}

/**
 * Helpers handed to every plugin, so that plugins (including external ones) need no imports from
 * pccxc. All target facts come from the target file.
 */
export interface FeatureContext {
  readonly target: Target;
  /** True when the target declares a CVO function of this name (e.g. "SILU", "TANH"). */
  hasCvo(name: string): boolean;
  /** The subset of `names` the target lacks. */
  missingCvo(names: readonly string[]): string[];
  /** The target's formula text for a CVO function (e.g. GELU: "x*sigmoid(1.702*x)"), if declared. */
  cvoFormula(name: string): string | undefined;
  /** Ops of the given kinds, in graph order. */
  opsOf<K extends Op["kind"]>(g: ModelGraph, ...kinds: K[]): Extract<Op, { kind: K }>[];
  /** The JSON paths of the config that hold any of these HF keys (top level or text_config). */
  pathsOf(...keys: string[]): string[];
  /** A ledger entry with the plugin's id filled in. */
  entry(e: Omit<LedgerEntry, "feature">): LedgerEntry;
}

/**
 * A feature plugin (docs/plugins.md). `keys` are the config keys it claims (HF names, matched
 * wherever they appear: top level or text_config; a dotted pattern such as "rope_scaling.alpha" or
 * "rope_parameters.*.alpha" claims a nested key; a claimed dict claims everything inside it).
 */
export interface FeaturePlugin {
  readonly id: FeatureId;
  readonly summary: string;
  readonly keys: readonly string[];
  /**
   * Optional config rewrite run BEFORE the graph is resolved (prepareConfig), for keys the resolver
   * cannot handle itself, e.g. a new RoPE scaling expressed with an existing one. Returns a new
   * ParsedConfig (never mutates) or undefined for no change.
   */
  prepare?(parsed: ParsedConfig): ParsedConfig | undefined;
  /** Whether the feature is present in this model (from the config and/or the graph). */
  detect(parsed: ParsedConfig, graph: ModelGraph): boolean;
  /** Classifies the feature for the target and may rewrite the graph (semantics-preserving only). */
  apply(graph: ModelGraph, parsed: ParsedConfig, target: Target, ctx: FeatureContext): FeatureOutput;
}

export interface FeatureResult {
  readonly graph: ModelGraph;
  readonly ledger: FeatureLedger;
  /** Warnings (unknown keys) and errors (rejected features), sorted. */
  readonly diagnostics: readonly Diagnostic[];
}
