/**
 * Capacity checks against the target: DDR (installed bytes minus the OS reserve) and the L2 budget
 * of pinned vectors. The verdict is data (`FitVerdict`), so `pccxc plan` can print it; a model that
 * does not fit gets computed advice — the longest context that fits, what another KV dtype saves,
 * what per-row scales save, how far the vocabulary would have to shrink — and `throwIfNotFit`
 * turns the verdict into `layout/ddr-overflow` / `layout/l2-overflow` (exit 3).
 */
import { unsupported } from "../../diag/index.js";
import type { FitAdvice, FitConsumer, FitVerdict, KvPlan, LayoutMachine } from "../types.js";
import { alignUp } from "./alloc.js";
import { formatBytes, formatInt, formatPercent } from "./format.js";
import { type KvDtype, kvRegionBytes } from "./kv.js";

export interface FitInputs {
  /** Model label for messages, e.g. "llama (32 layers)". */
  readonly model: string;
  readonly machine: LayoutMachine;
  /** End of the DDR map (aligned). */
  readonly ddrBytes: number;
  /** DDR bytes by consumer category (they add up to ddrBytes). */
  readonly consumers: ReadonlyMap<string, number>;
  readonly l2Words: number;
  readonly kv: KvPlan;
  /**
   * KV bytes in the map when codegen sized the rings itself (its `kv.L<n>` regions); the advice
   * then starts from them and scales the plan's sizes to other contexts by the same ratio.
   */
  readonly kvBytes?: number;
  readonly context: number;
  /**
   * INT4 scales of the DDR-resident tensors: their bytes now, and the bytes per-row scales would
   * save (difference of the stored sizes, padding included).
   */
  readonly scales: {
    readonly group: 0 | 32 | 64 | 128;
    readonly bytes: number;
    readonly perRowSaves: number;
  };
  /** Embedding table(s) + LM head bytes in DDR, and the vocabulary. */
  readonly vocab: { readonly size: number; readonly bytes: number };
  readonly estimate: boolean;
}

const capacityOf = (m: LayoutMachine) => m.ddrBytes - m.reservedOsBytes;

function topConsumers(c: ReadonlyMap<string, number>, total: number): FitConsumer[] {
  return [...c]
    .filter(([, b]) => b > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([name, bytes]) => ({ name, bytes, share: total > 0 ? bytes / total : 0 }));
}

function contextAdvice(i: FitInputs, capacity: number): FitAdvice {
  const planned = (c: number) => kvRegionBytes(i.kv, c, i.kv.dtype, (n) => alignUp(n, i.machine.alignment));
  const ratio = i.kvBytes !== undefined && planned(i.context) > 0 ? i.kvBytes / planned(i.context) : 1;
  const kvAt = (c: number) => Math.round(planned(c) * ratio);
  const now = i.kvBytes ?? kvAt(i.context);
  const rest = i.ddrBytes - now;
  // Largest multiple of 32 slots (a V-cache block) that fits; KV bytes grow with the context.
  let lo = 0;
  let hi = Math.floor(i.context / 32);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (rest + kvAt(mid * 32) <= capacity) lo = mid;
    else hi = mid - 1;
  }
  const best = lo * 32;
  if (best === 0) {
    return {
      kind: "context",
      saves: 0,
      fits: false,
      text:
        `shorter context: no context fits — without its KV cache (${formatBytes(now)} at ${formatInt(i.context)} ` +
        `tokens) the model still needs ${formatBytes(rest)}, ${formatBytes(rest - capacity)} over`,
    };
  }
  const saves = now - kvAt(best);
  return {
    kind: "context",
    saves,
    fits: true,
    value: best,
    text:
      `shorter context: --context ${best} fits (KV ${formatBytes(now)} → ${formatBytes(kvAt(best))}, ` +
      `saves ${formatBytes(saves)})`,
  };
}

function kvDtypeAdvice(i: FitInputs, over: number): FitAdvice[] {
  const at = (d: KvDtype) => kvRegionBytes(i.kv, i.context, d, (n) => alignUp(n, i.machine.alignment));
  const now = i.kvBytes ?? at(i.kv.dtype);
  return i.machine.kvDtypes
    .filter((d) => d !== i.kv.dtype && at(d) < now)
    .map((d) => {
      const saves = now - at(d);
      return {
        kind: "kv-dtype" as const,
        saves,
        fits: saves >= over,
        value: d,
        text:
          `KV dtype: --kv-dtype ${d} saves ${formatBytes(saves)} (KV ${formatBytes(now)} → ${formatBytes(at(d))})` +
          (saves >= over ? ", enough alone" : `, ${formatBytes(over - saves)} short alone`),
      };
    });
}

function groupAdvice(i: FitInputs, over: number): FitAdvice {
  const s = i.scales;
  if (s.group === 0) {
    return {
      kind: "group-size",
      saves: 0,
      fits: false,
      text: `group size: scales are already one per row (${formatBytes(s.bytes)} of scales); nothing to save`,
    };
  }
  const saves = s.perRowSaves;
  return {
    kind: "group-size",
    saves,
    fits: saves >= over,
    value: 0,
    text:
      `group size: --group-size 0 (one scale per row instead of groups of ${s.group}) saves ` +
      `${formatBytes(saves)} of the ${formatBytes(s.bytes)} of scales` +
      (saves >= over ? ", enough alone" : `, ${formatBytes(over - saves)} short alone`),
  };
}

function vocabAdvice(i: FitInputs, over: number): FitAdvice {
  const v = i.vocab;
  if (v.bytes === 0 || v.size === 0) {
    return {
      kind: "vocab-trim",
      saves: 0,
      fits: false,
      text: "vocabulary trim: no embedding table or LM head in DDR",
    };
  }
  if (over >= v.bytes) {
    return {
      kind: "vocab-trim",
      saves: v.bytes,
      fits: false,
      text:
        `vocabulary trim: the embedding table and LM head take ${formatBytes(v.bytes)} for ${formatInt(v.size)} ` +
        `tokens; even removing all of it leaves ${formatBytes(over - v.bytes)} over`,
    };
  }
  const keep = Math.floor((v.size * (v.bytes - over)) / v.bytes / 64) * 64;
  return {
    kind: "vocab-trim",
    saves: over,
    fits: keep > 0,
    value: keep,
    text:
      `vocabulary trim: the embedding table and LM head take ${formatBytes(v.bytes)} for ${formatInt(v.size)} ` +
      `tokens; keeping at most ${formatInt(keep)} tokens would fit`,
  };
}

export function computeFit(i: FitInputs): FitVerdict {
  const capacity = capacityOf(i.machine);
  const overBy = Math.max(0, i.ddrBytes - capacity);
  const l2Capacity = i.machine.l2BudgetWords;
  const ddrOk = overBy === 0;
  const l2Ok = i.l2Words <= l2Capacity;
  const consumers = topConsumers(i.consumers, i.ddrBytes);
  const advice = ddrOk
    ? []
    : [
        contextAdvice(i, capacity),
        ...kvDtypeAdvice(i, overBy),
        groupAdvice(i, overBy),
        vocabAdvice(i, overBy),
      ];
  const floorBytes = ddrOk ? undefined : floorOf(i);
  const l2Text = `L2 pinned ${formatInt(i.l2Words)} of ${formatInt(l2Capacity)} words`;
  const text = ddrOk
    ? `fits: ${formatBytes(i.ddrBytes)} of ${formatBytes(capacity)} DDR (${formatPercent(i.ddrBytes / capacity)}); ${l2Text}` +
      (l2Ok ? "" : " (over the L2 budget)")
    : `does not fit: needs ${formatBytes(i.ddrBytes)} of DDR, ${formatBytes(capacity)} available ` +
      `(${formatBytes(i.machine.ddrBytes)} minus the ${formatBytes(i.machine.reservedOsBytes)} OS reserve): ` +
      `over by ${formatBytes(overBy)}`;
  return {
    ok: ddrOk && l2Ok,
    ddrOk,
    l2Ok,
    ddrBytes: i.ddrBytes,
    ddrCapacity: capacity,
    overBy,
    l2Words: i.l2Words,
    l2Capacity,
    consumers,
    advice,
    text: `${i.model} ${text}`,
    estimate: i.estimate,
    ...(floorBytes !== undefined ? { floorBytes } : {}),
  };
}

/** What remains with no KV cache, no vocabulary and per-row scales. */
function floorOf(i: FitInputs): number {
  const kv = i.kvBytes ?? kvRegionBytes(i.kv, i.context, i.kv.dtype, (n) => alignUp(n, i.machine.alignment));
  return i.ddrBytes - kv - i.vocab.bytes - i.scales.perRowSaves;
}

/** The error a compile raises for a verdict that is not ok. */
export function throwIfNotFit(fit: FitVerdict | { readonly fit: FitVerdict }): void {
  const f = "fit" in fit ? fit.fit : fit;
  if (f.ok) return;
  const largest = f.consumers
    .map((c) => `${c.name} ${formatBytes(c.bytes)} (${formatPercent(c.share)})`)
    .join(", ");
  if (!f.ddrOk) {
    const fixes = f.advice.filter((a) => a.fits).map((a) => a.text);
    throw unsupported(
      "layout/ddr-overflow",
      `${f.text} (${formatInt(f.ddrBytes)} bytes needed, ${formatInt(f.ddrCapacity)} available, ` +
        `${formatInt(f.overBy)} over)`,
      {
        notes: [`largest consumers: ${largest}`, ...f.advice.map((a) => a.text)],
        fix: fixes.length
          ? `any one of: ${fixes.join("; ")}`
          : f.floorBytes !== undefined && f.floorBytes > f.ddrCapacity
            ? `even with no KV cache, no vocabulary and per-row scales the rest of the model needs ` +
              `${formatBytes(f.floorBytes)} (${formatBytes(f.floorBytes - f.ddrCapacity)} over): use a smaller ` +
              "model or a target with more DDR"
            : "no single change above is enough: combine them (a shorter context with a smaller KV dtype and vocabulary)",
      },
    );
  }
  throw unsupported(
    "layout/l2-overflow",
    `L2-pinned vectors need ${formatInt(f.l2Words)} words but the budget is ${formatInt(f.l2Capacity)} words ` +
      `(over by ${formatInt(f.l2Words - f.l2Capacity)})`,
    {
      notes: ["an override placed more vectors in L2 than the budget allows"],
      fix: "place the largest vectors in ddr (--layout-override '<glob>=placement:ddr') or raise l2BudgetWords",
    },
  );
}
