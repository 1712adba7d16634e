/**
 * SFU/GEMV overlap (run by `schedule` before it places the weight DMAs, decode segments only).
 *
 * A GEMV holds the controller until its last weight beat, so an SFU chain between two GEMVs leaves
 * the weight ports idle once their FIFOs are full. An `async` instruction frees the controller at
 * once (docs/program.md §6), so one CVO issued just before an independent GEMV runs on the SFU
 * while the GEMV streams. For every GEMV this pass finds such a CVO worth the `wait npu-idle` it
 * will need (`minOverlapElements`) and marks it async:
 * - sink: the nearest big CVO before the GEMV whose later steps up to the GEMV it does not touch
 *   moves down to just before the GEMV;
 * - hoist: else the first big CVO after the GEMV (before any host step, transfer or softmax CVO)
 *   moves up to just before it, with the steps between that it depends on (in their order) — every
 *   step it jumps over must not conflict with what moves (L2 words, constant-cache entries).
 * The `waits` pass then inserts the `wait npu-idle` before the first later step that touches the
 * async CVO's words. Steps only move past steps they do not conflict with, so results are
 * unchanged; GEMVs keep their order (their weight streams are in consumption order).
 */
import type { DStep } from "../draft.js";
import type { Machine } from "../machine.js";
import { conflicts, type L2Effects, l2Effects } from "./effects.js";
import { maxOf } from "./schedule.js";

/**
 * Smallest CVO (elements at the SFU's rate) worth an async slot: its SFU time must at least pay
 * for the wait npu-idle it adds, one status read plus half a polling interval on average (target
 * `control`). 360 elements on kv260-v002 (400 MHz, 1 element per clock).
 */
export function minOverlapElements(m: Machine): number {
  const c = m.target.file.control;
  return Math.ceil(((c.poll_interval_ns / 2 + c.mmio_read_ns) * m.target.file.clocks.core_mhz) / 1000);
}

/** How far (steps) the pass looks from a GEMV, and the most steps one hoist moves. */
const WINDOW = 400;
const MAX_MOVED = 48;

interface Fx {
  readonly l2: L2Effects;
  /** Constant-cache entries read and written, as `bank:entry`. */
  readonly cr: readonly string[];
  readonly cw: readonly string[];
}

function effectsOf(m: Machine, s: DStep): Fx {
  const cr: string[] = [];
  const cw: string[] = [];
  if (s.kind === "gemv") cr.push(`fmap_shape:${s.shapeEntry}`, `weight_shape:${s.wshapeEntry}`);
  else if (s.kind === "memcpy") cr.push(`fmap_shape:${s.shapeEntry}`);
  else if (s.kind === "memset") cw.push(`${s.bank}:${s.entry}`);
  return { l2: l2Effects(m, s), cr, cw };
}

function clash(a: Fx, b: Fx): boolean {
  if (conflicts(a.l2, b.l2)) return true;
  const hit = (w: readonly string[], x: readonly string[]) => w.some((k) => x.includes(k));
  return hit(a.cw, b.cr) || hit(a.cw, b.cw) || hit(b.cw, a.cr);
}

/** Steps nothing may move across: host work, transfers, waits, softmax CVOs (e_max state). */
function isBarrier(s: DStep): boolean {
  if (s.kind === "host" || s.kind === "dma" || s.kind === "wait") return true;
  if (s.kind === "memcpy") return s.dir !== "l2_to_l2" || s.async === true;
  if (s.kind === "cvo") return s.subEmax === true || s.async === true;
  return false;
}

type Pred = (s: DStep) => boolean;

const movable = (s: DStep) =>
  (s.kind === "cvo" || s.kind === "memcpy" || s.kind === "memset") && !isBarrier(s);

/** SFU clocks of a CVO at its function's rate (target `isa.cvo_functions[].elements_per_clk`). */
function sfuElements(m: Machine, func: string, length: number): number {
  const f = m.target.file.isa.cvo_functions.find((x) => x.name === func);
  return length / (f?.elements_per_clk ?? 1);
}

/** Rewrites `steps` in place; returns how many CVOs it made async. */
export function overlapSegment(m: Machine, steps: DStep[]): number {
  if (!m.asyncSupported) return 0;
  const fx = new Map<DStep, Fx>();
  const f = (s: DStep): Fx => {
    let e = fx.get(s);
    if (!e) {
      e = effectsOf(m, s);
      fx.set(s, e);
    }
    return e;
  };
  const min = minOverlapElements(m);
  const isBig = (s: DStep) =>
    s.kind === "cvo" && !isBarrier(s) && sfuElements(m, s.func, maxOf(s.length)) >= min;
  let marked = 0;
  for (let gi = 0; gi < steps.length; gi++) {
    const g = steps[gi]!;
    if (g.kind !== "gemv") continue;
    const prev = steps[gi - 1];
    if (prev?.kind === "cvo" && prev.async) continue;
    const moved = sink(steps, gi, f, isBig) ?? hoist(steps, gi, f, isBig);
    if (moved === undefined) continue;
    const c = steps[moved]!;
    if (c.kind === "cvo") c.async = true;
    marked++;
    gi = moved + 1; // the GEMV now sits right after the async CVO
  }
  return marked;
}

/** Moves the nearest big CVO before the GEMV at `gi` down to just before it; its new index. */
function sink(steps: DStep[], gi: number, f: (s: DStep) => Fx, isBig: Pred): number | undefined {
  const g = steps[gi]!;
  for (let j = gi - 1; j >= Math.max(0, gi - WINDOW); j--) {
    const c = steps[j]!;
    if (isBarrier(c)) return undefined;
    if (!isBig(c)) continue;
    const fc = f(c);
    if (clash(fc, f(g))) return undefined;
    for (let k = j + 1; k < gi; k++) if (clash(fc, f(steps[k]!))) return undefined;
    steps.splice(j, 1);
    steps.splice(gi - 1, 0, c);
    return gi - 1;
  }
  return undefined;
}

/** Moves the first big CVO after the GEMV at `gi` (with what it needs) up before it; its index. */
function hoist(steps: DStep[], gi: number, f: (s: DStep) => Fx, isBig: Pred): number | undefined {
  const g = steps[gi]!;
  const fg = f(g);
  for (let j = gi + 1; j < Math.min(steps.length, gi + WINDOW); j++) {
    const c = steps[j]!;
    if (isBarrier(c)) return undefined;
    if (!isBig(c)) continue;
    // The closure of c over (gi, j): every earlier step some moving step conflicts with.
    const take = new Set<number>([j]);
    const moving: Fx[] = [f(c)];
    for (let k = j - 1; k > gi; k--) {
      const x = steps[k]!;
      const fxk = f(x);
      if (!moving.some((y) => clash(fxk, y))) continue;
      if (!movable(x) || take.size >= MAX_MOVED) return undefined;
      take.add(k);
      moving.push(fxk);
    }
    if (moving.some((y) => clash(fg, y))) return undefined;
    const up = [...take].sort((a, b) => a - b).map((k) => steps[k]!);
    const rest = steps.slice(gi, j + 1).filter((_, i) => !take.has(gi + i));
    steps.splice(gi, j + 1 - gi, ...up, ...rest);
    return gi + up.length - 1;
  }
  return undefined;
}
