/**
 * planLayout: the config-only layout plan. From the graph and the target (no weights): the role
 * policy per stored tensor (format, scale group, placement), user overrides, the norms codegen
 * folds, the L2 budget of pinned vectors, the KV plan, and an estimate of the DDR map with its
 * capacity verdict (`pccxc plan`). finalizeLayout makes the map exact once codegen has tiled the
 * streams.
 */
import { type Diagnostic, ExitCode, PccxError, unsupported, usageError } from "../../diag/index.js";
import type { ModelGraph } from "../../resolver/graph/index.js";
import type { Target } from "../../target/index.js";
import type { LayoutMachine, LayoutOptions, LayoutPlan, TensorPolicy } from "../types.js";
import { estimateFit } from "./estimate.js";
import { foldableNorms } from "./fold.js";
import { type KvDtype, kvGeometry, planKvFrom } from "./kv.js";
import { applyOverrides } from "./overrides.js";
import { decidePolicy } from "./policy.js";
import { type Group, policyBytes, type ScaleDtype } from "./sizes.js";
import { weightUsage } from "./usage.js";

const GROUPS: readonly Group[] = [0, 32, 64, 128];
export const DEFAULT_ALIGNMENT = 4096;
export const DEFAULT_INT4_EMBEDDING_MIN = 1 << 20;
export const DEFAULT_L2_VECTOR_MAX = 65536;

function targetGroup(t: Target): Group {
  const w = t.file.numeric.weights;
  if (w.scale_granularity === "per_row") return 0;
  const g = w.group_size as Group | undefined;
  if (g === undefined || !GROUPS.includes(g) || g === 0) {
    throw unsupported(
      "layout/group-size",
      `target ${t.fingerprint} asks for INT4 scale groups of ${w.group_size}; pccxc supports 32, 64 and 128`,
      { at: { file: t.label, jsonPath: "$.numeric.weights.group_size" } },
    );
  }
  return g;
}

function resolveGroup(o: LayoutOptions, t: Target): Group {
  if (o.groupSize === undefined) return targetGroup(t);
  if (!GROUPS.includes(o.groupSize)) {
    throw usageError("layout/group-size", `--group-size ${o.groupSize} is not supported`, {
      fix: "use 0 (one scale per row), 32, 64 or 128",
    });
  }
  return o.groupSize;
}

function resolveKvDtype(o: LayoutOptions, t: Target): KvDtype {
  const kv = t.file.numeric.kv_cache;
  const d = o.kvDtype ?? kv.default;
  if (!kv.dtypes.includes(d)) {
    throw unsupported("layout/kv-dtype", `KV cache dtype ${d} is not supported by target ${t.fingerprint}`, {
      at: { file: t.label, jsonPath: "$.numeric.kv_cache.dtypes" },
      fix: `use --kv-dtype ${kv.dtypes.join(" or ")}`,
    });
  }
  return d;
}

function resolveContext(o: LayoutOptions, t: Target): number {
  const c = o.context ?? t.file.numeric.kv_cache.ring_capacity_tokens;
  if (!Number.isSafeInteger(c) || c < 1) {
    throw usageError("layout/context", `--context ${c} is not a positive number of tokens`, {
      fix: "give the number of tokens the KV cache of a full-attention layer holds, e.g. --context 4096",
    });
  }
  return c;
}

/** The target facts the rest of the layout needs, copied once. */
export function layoutMachine(t: Target, o: LayoutOptions = {}): LayoutMachine {
  const f = t.file;
  const alignment = o.alignment ?? DEFAULT_ALIGNMENT;
  if (!Number.isSafeInteger(alignment) || alignment < 16 || (alignment & (alignment - 1)) !== 0) {
    throw usageError("layout/alignment", `DDR alignment ${alignment} is not a power of two ≥ 16`);
  }
  const budget = o.l2BudgetWords ?? Math.floor(f.l2.backed_words / 2);
  if (!Number.isSafeInteger(budget) || budget < 0 || budget > f.l2.backed_words) {
    throw usageError("layout/l2-budget", `L2 budget ${budget} words is outside 0..${f.l2.backed_words}`);
  }
  return {
    target: t.fingerprint,
    ddrBytes: f.ddr.bytes,
    reservedOsBytes: f.ddr.reserved_os_bytes,
    l2WordBytes: f.l2.word_bytes,
    l2BackedWords: f.l2.backed_words,
    l2BudgetWords: budget,
    weightPorts: f.ports
      .filter((p) => p.feeds.includes("gemv") || p.feeds.includes("gemm"))
      .map((p) => p.name),
    gemvPorts: f.ports.filter((p) => p.feeds.includes("gemv")).map((p) => p.name),
    maxK: t.derived.gemv.max_k_per_instruction,
    kvDtypes: [...f.numeric.kv_cache.dtypes],
    alignment,
  };
}

/** Marks the norms codegen folds; anything else in `folded` is a codegen bug. */
function applyFolding(g: ModelGraph, policies: TensorPolicy[], folded: ReadonlySet<string>): void {
  if (folded.size === 0) return;
  const candidates = new Map(foldableNorms(g).map((c) => [c.norm, c]));
  for (const name of [...folded].sort()) {
    const c = candidates.get(name);
    if (!c) {
      throw new PccxError(
        "layout/fold",
        ExitCode.INTERNAL,
        `cannot fold ${name}: it is not an RMSNorm weight read only by matrix products (see foldableNorms)`,
      );
    }
    const i = policies.findIndex((p) => p.tensor === name);
    policies[i] = {
      ...policies[i]!,
      placement: "folded",
      format: "bf16",
      group: 0,
      foldedInto: c.into,
      foldOffset: c.offset,
      reason: `folded into the columns of ${c.into.length} projection(s) by codegen`,
    };
  }
}

/** Keeps the pinned vectors within the L2 budget: the largest non-overridden ones move to DDR. */
function fitL2(policies: TensorPolicy[], m: LayoutMachine, warnings: Diagnostic[]): number {
  const words = (p: TensorPolicy) => Math.ceil(policyBytes(p, m) / m.l2WordBytes);
  let total = policies.filter((p) => p.placement === "l2").reduce((s, p) => s + words(p), 0);
  if (total <= m.l2BudgetWords) return total;
  const movable = policies
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.placement === "l2" && !p.reason.startsWith("override"))
    .sort((a, b) => words(b.p) - words(a.p) || (a.p.tensor < b.p.tensor ? -1 : 1));
  const moved: string[] = [];
  for (const { p, i } of movable) {
    if (total <= m.l2BudgetWords) break;
    total -= words(p);
    policies[i] = {
      ...p,
      placement: "ddr",
      reason: `${p.reason}; moved to DDR: pinned vectors exceed the L2 budget`,
    };
    moved.push(p.tensor);
  }
  warnings.push({
    code: "layout/l2-spill",
    severity: "warning",
    message: `${moved.length} vector(s) do not fit the L2 budget of ${m.l2BudgetWords} words and stay in DDR: ${moved.slice(0, 5).join(", ")}${moved.length > 5 ? ", …" : ""}`,
    fix: "fold more norms, or raise the budget (l2BudgetWords) if codegen's activations leave room",
  });
  return total;
}

export function planLayout(graph: ModelGraph, target: Target, options: LayoutOptions = {}): LayoutPlan {
  const machine = layoutMachine(target, options);
  const group = resolveGroup(options, target);
  const kvDtype = resolveKvDtype(options, target);
  const context = resolveContext(options, target);
  const scaleDtype = target.file.numeric.weights.scale_dtype as ScaleDtype;
  const usage = weightUsage(graph);
  const ctx = {
    group,
    scaleDtype,
    int4EmbeddingMinElements: options.int4EmbeddingMinElements ?? DEFAULT_INT4_EMBEDDING_MIN,
    l2VectorMaxElements: options.l2VectorMaxElements ?? DEFAULT_L2_VECTOR_MAX,
  };
  const unused: { tensor: string; reason: string }[] = [];
  const decided: TensorPolicy[] = [];
  for (const u of usage.values()) {
    if (u.decl.unused !== undefined || u.kinds.length === 0) {
      unused.push({ tensor: u.decl.name, reason: u.decl.unused ?? "no op reads it" });
    } else decided.push(decidePolicy(u, ctx));
  }
  const { policies, warnings } = applyOverrides(decided, usage, options.overrides ?? []);
  applyFolding(graph, policies, options.folded ?? new Set());
  const l2Words = fitL2(policies, machine, warnings);
  const tensors = policies.map((p) => ({ ...p, bytes: policyBytes(p, machine) }));
  const kv = planKvFrom(kvGeometry(graph), context, kvDtype, scaleDtype, machine.gemvPorts.length);
  const plan: LayoutPlan = {
    tensors,
    kv,
    context,
    options: { groupSize: group, kvDtype },
    target: target.fingerprint,
    model: {
      modelType: graph.meta.modelType,
      numLayers: graph.meta.numLayers,
      vocabSize: graph.meta.vocabSize,
      ...(options.label ? { label: options.label } : {}),
    },
    ...(unused.length ? { unused } : {}),
    ...(warnings.length ? { warnings } : {}),
    l2: { words: l2Words, budgetWords: machine.l2BudgetWords },
    machine,
  };
  return { ...plan, estimate: estimateFit(plan) };
}
