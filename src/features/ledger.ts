/**
 * The FeatureLedger as a document: assembly (deterministic order, summary), its JSON form with a
 * zod schema (and JSON Schema export), a text rendering for people, and the check a compile runs
 * before going on (`requireNoRejections`).
 */
import { z } from "zod";
import { invalidInput, unsupported } from "../diag/index.js";
import { prettyJson } from "../util/json.js";
import { cmp } from "./keys.js";
import {
  type FeatureId,
  type FeatureLedger,
  type KeyAccount,
  type LedgerEntry,
  type LedgerSummary,
  VERDICT_KINDS,
} from "./types.js";

export const LEDGER_FORMAT = "pccxc-feature-ledger";
/** Bump on any incompatible change of the ledger JSON. */
export const LEDGER_VERSION = 1;

const opNum = (id: string | undefined) => (id === undefined ? -1 : Number(id.replace(/^op/, "")) || 0);

/** Entries in plugin order, then key, then first op; ops inside an entry in graph order. */
export function sortEntries(entries: readonly LedgerEntry[], order: readonly FeatureId[]): LedgerEntry[] {
  const rank = (f: FeatureId) => {
    const i = order.indexOf(f);
    return i < 0 ? order.length : i;
  };
  return entries
    .map((e) => ({ ...e, ops: [...e.ops].sort((a, b) => opNum(a) - opNum(b)) }))
    .sort(
      (a, b) =>
        rank(a.feature) - rank(b.feature) ||
        cmp(a.key, b.key) ||
        opNum(a.ops[0]) - opNum(b.ops[0]) ||
        cmp(a.detail, b.detail),
    );
}

export function summarize(entries: readonly LedgerEntry[]): LedgerSummary {
  const s = { lowered: 0, host: 0, approximated: 0, rejected: 0, ignored: 0 };
  for (const e of entries) s[e.verdict.kind]++;
  return s;
}

export function buildLedger(a: {
  file: string;
  modelType: string;
  plugin: string;
  target: string;
  features: readonly FeatureId[];
  entries: readonly LedgerEntry[];
  keys: readonly KeyAccount[];
}): FeatureLedger {
  const entries = sortEntries(a.entries, a.features);
  return {
    format: LEDGER_FORMAT,
    version: LEDGER_VERSION,
    model: { file: a.file, modelType: a.modelType, plugin: a.plugin },
    target: a.target,
    features: [...a.features],
    entries,
    keys: [...a.keys].sort((x, y) => cmp(x.path, y.path)),
    summary: summarize(entries),
  };
}

const Grid = z.strictObject({ from: z.number(), to: z.number(), points: z.number().int().positive() });
const VerdictSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("lowered"), how: z.string() }),
  z.strictObject({ kind: z.literal("host"), reason: z.string(), how: z.string().optional() }),
  z.strictObject({
    kind: z.literal("approximated"),
    method: z.string(),
    reference: z.string(),
    maxAbsError: z.number().nonnegative(),
    grid: Grid,
    worstAt: z.number().optional(),
  }),
  z.strictObject({ kind: z.literal("rejected"), reason: z.string(), fix: z.string() }),
  z.strictObject({ kind: z.literal("ignored"), reason: z.string() }),
]);
const EntrySchema = z.strictObject({
  feature: z.string().min(1),
  key: z.string(),
  paths: z.array(z.string()),
  value: z.unknown(),
  detail: z.string(),
  verdict: VerdictSchema,
  ops: z.array(z.string()),
  cvo: z.array(z.string()).optional(),
  notes: z.array(z.string()).optional(),
});
const count = z.number().int().nonnegative();
export const LedgerSchema = z.strictObject({
  format: z.literal(LEDGER_FORMAT),
  version: z.literal(LEDGER_VERSION),
  model: z.strictObject({ file: z.string(), modelType: z.string(), plugin: z.string() }),
  target: z.string(),
  features: z.array(z.string()),
  entries: z.array(EntrySchema),
  keys: z.array(
    z.strictObject({
      path: z.string(),
      status: z.enum(["claimed", "non-semantic", "out-of-scope", "unknown", "unclaimed"]),
      features: z.array(z.string()),
    }),
  ),
  summary: z.strictObject({
    lowered: count,
    host: count,
    approximated: count,
    rejected: count,
    ignored: count,
  }),
});

/** The ledger as `ledger.json` text (deterministic). */
export function ledgerToJson(l: FeatureLedger): string {
  return prettyJson(l);
}

/** Parses and validates ledger JSON (exit 2 with the JSON path of the first problem). */
export function ledgerFromJson(value: unknown, file = "ledger.json"): FeatureLedger {
  const r = LedgerSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = `$${issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`;
    throw invalidInput("features/ledger-invalid", `${file} at ${path}: ${issue.message}`, {
      at: { file, jsonPath: path },
    });
  }
  return r.data as FeatureLedger;
}

export function ledgerJsonSchema(): unknown {
  return z.toJSONSchema(LedgerSchema);
}

function verdictText(e: LedgerEntry): string {
  const v = e.verdict;
  switch (v.kind) {
    case "lowered":
      return `lowered: ${v.how}`;
    case "host":
      return `host: ${v.reason}`;
    case "approximated":
      return `approximated: ${v.method} (max abs error ${v.maxAbsError.toPrecision(3)} vs ${v.reference})`;
    case "rejected":
      return `REJECTED: ${v.reason} (fix: ${v.fix})`;
    case "ignored":
      return `ignored: ${v.reason}`;
  }
}

/** A listing for people: one block per entry, then the key accounting totals. */
export function renderLedgerText(l: FeatureLedger): string {
  const lines = [
    `feature ledger for ${l.model.file} (${l.model.modelType}, plugin ${l.model.plugin}) on ${l.target}`,
  ];
  const s = l.summary;
  lines.push(
    `  ${s.lowered} lowered, ${s.approximated} approximated, ${s.host} host, ${s.rejected} rejected, ${s.ignored} ignored`,
  );
  for (const e of l.entries) {
    const ops = e.ops.length ? ` [${e.ops.length} op${e.ops.length > 1 ? "s" : ""}]` : "";
    lines.push(`- ${e.feature}${e.key ? ` (${e.key})` : ""}: ${e.detail}${ops}`, `    ${verdictText(e)}`);
  }
  const byStatus = new Map<string, number>();
  for (const k of l.keys) byStatus.set(k.status, (byStatus.get(k.status) ?? 0) + 1);
  lines.push(
    `keys: ${[...byStatus.entries()]
      .sort(([a], [b]) => cmp(a, b))
      .map(([k, n]) => `${n} ${k}`)
      .join(", ")}`,
  );
  return `${lines.join("\n")}\n`;
}

/** Throws `features/rejected` (exit 3) listing every rejected feature with its key and fix. */
export function requireNoRejections(l: FeatureLedger): void {
  const rejected = l.entries.filter((e) => e.verdict.kind === "rejected");
  if (rejected.length === 0) return;
  const first = rejected[0]!;
  const v = first.verdict as Extract<LedgerEntry["verdict"], { kind: "rejected" }>;
  throw unsupported(
    "features/rejected",
    `${l.model.file}: ${rejected.length} feature${rejected.length > 1 ? "s" : ""} cannot be compiled for ${l.target}: ${first.feature}${first.key ? ` (${first.key})` : ""}: ${v.reason}`,
    {
      ...(first.paths[0] ? { at: { file: l.model.file, jsonPath: first.paths[0] } } : {}),
      notes: rejected.slice(1).map((e) => `${e.feature} (${e.key}): ${verdictText(e)}`),
      fix: v.fix,
    },
  );
}

/** Counts of each verdict kind, in the fixed order (for reports). */
export function verdictCounts(l: FeatureLedger): [string, number][] {
  return VERDICT_KINDS.map((k) => [k, l.summary[k]]);
}
