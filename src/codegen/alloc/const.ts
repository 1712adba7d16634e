/**
 * The `allocate-const` pass: gives every GEMV/GEMM shape, weight-tile descriptor and MEMCPY count
 * a constant-cache entry and inserts the MEMSETs. Per bank, the most used fixed contents are
 * pinned (written once by the load segment); the other entries form a pool managed per segment
 * with Belady's rule (on a miss, evict the content used farthest in the future), which minimises
 * the MEMSETs of a segment for the pool size. The pin count is chosen to minimise the decode
 * segment's MEMSETs (then prefill's). Contents that depend on a per-token variable are never pinned:
 * their MEMSET is relocated and replayed every time.
 */
import type { ConstReq, DMemset, DSegment, DStep, Val } from "../draft.js";
import { isReloc } from "../draft.js";
import { setsVariable } from "../host-ops/index.js";
import type { Machine } from "../machine.js";

type Bank = ConstReq["bank"];

interface Use {
  readonly key: string;
  readonly req: ConstReq;
  readonly assign: (entry: number) => void;
}

export interface ConstStats {
  readonly bank: Bank;
  readonly pinned: number;
  readonly memsets: Readonly<Record<string, number>>;
  readonly distinctContents: number;
}

const keyOf = (r: ConstReq) => JSON.stringify([r.bank, r.a, r.b, r.c]);
const dynamic = (r: ConstReq) => isReloc(r.a) || isReloc(r.b) || isReloc(r.c);

/** The fmap content of a MEMCPY count: (count, 1, 1), or (elements per word, words, 1) when large. */
export function memcpyShape(m: Machine, count: Val): ConstReq {
  if (isReloc(count) || count <= m.constValueMax) return { bank: "fmap_shape", a: count, b: 1, c: 1 };
  return { bank: "fmap_shape", a: m.elemsPerWord, b: Math.ceil(count / m.elemsPerWord), c: 1 };
}

function usesOf(m: Machine, s: DStep): Use[] {
  if (s.kind === "gemv")
    return [
      { key: keyOf(s.shape), req: s.shape, assign: (e) => (s.shapeEntry = e) },
      { key: keyOf(s.wshape), req: s.wshape, assign: (e) => (s.wshapeEntry = e) },
    ];
  if (s.kind === "memcpy") {
    const r = memcpyShape(m, s.count);
    return [{ key: keyOf(r), req: r, assign: (e) => (s.shapeEntry = e) }];
  }
  return [];
}

interface Sim {
  memsets: number;
}

/** A host step that sets variables: relocated contents depending on them must be rewritten after it. */
interface Setter {
  readonly step: number;
  readonly sets: (variable: string) => boolean;
}

const varsOfReq = (r: ConstReq): string[] =>
  [r.a, r.b, r.c].flatMap((v) => (isReloc(v) ? v.terms.map((t) => t.variable) : []));

/** Belady over one segment's uses of one bank; emits the MEMSETs when `emit` is given. */
function belady(
  uses: readonly { step: number; use: Use }[],
  pinned: ReadonlyMap<string, number>,
  pool: readonly number[],
  setters: readonly Setter[],
  emit?: (step: number, entry: number, req: ConstReq) => void,
): Sim {
  const next = new Array<number>(uses.length).fill(Number.POSITIVE_INFINITY);
  const seen = new Map<string, number>();
  for (let i = uses.length - 1; i >= 0; i--) {
    const k = uses[i]!.use.key;
    next[i] = seen.get(k) ?? Number.POSITIVE_INFINITY;
    seen.set(k, i);
  }
  const resident = new Map<string, { entry: number; next: number }>();
  const freeEntries = [...pool];
  let memsets = 0;
  let si = 0;
  const dynVars = new Map<string, string[]>();
  uses.forEach(({ step, use }, i) => {
    while (si < setters.length && setters[si]!.step < step) {
      const st = setters[si++]!;
      for (const [k, v] of [...resident]) {
        const vars = dynVars.get(k);
        if (vars?.some((x) => st.sets(x))) {
          resident.delete(k);
          freeEntries.push(v.entry);
        }
      }
    }
    const p = pinned.get(use.key);
    if (p !== undefined) {
      if (emit) use.assign(p);
      return;
    }
    const r = resident.get(use.key);
    if (r) {
      r.next = next[i]!;
      if (emit) use.assign(r.entry);
      return;
    }
    let entry = freeEntries.shift();
    if (entry === undefined) {
      let victim = "";
      let far = -1;
      for (const [k, v] of resident)
        if (v.next > far) {
          far = v.next;
          victim = k;
        }
      entry = resident.get(victim)!.entry;
      resident.delete(victim);
    }
    resident.set(use.key, { entry, next: next[i]! });
    if (dynamic(use.req)) dynVars.set(use.key, varsOfReq(use.req));
    memsets++;
    if (emit) {
      emit(step, entry, use.req);
      use.assign(entry);
    }
  });
  return { memsets };
}

/** Runs the pass over all segments (load first in `segments`). Returns per-bank statistics. */
export function allocateConst(m: Machine, segments: DSegment[]): ConstStats[] {
  const stats: ConstStats[] = [];
  const settersOf = new Map<DSegment, Setter[]>();
  for (const seg of segments) {
    const list: Setter[] = [];
    seg.steps.forEach((s, step) => {
      if (s.kind === "host") list.push({ step, sets: (v) => setsVariable(s.fn, s.attrs, v) });
    });
    settersOf.set(seg, list);
  }
  const inserts = new Map<DSegment, Map<number, DMemset[]>>();
  const pinnedSets: DMemset[] = [];
  for (const bank of ["fmap_shape", "weight_shape"] as const) {
    const perSeg = segments.map((seg) => {
      const list: { step: number; use: Use }[] = [];
      seg.steps.forEach((s, step) => {
        for (const use of usesOf(m, s)) if (use.req.bank === bank) list.push({ step, use });
      });
      return list;
    });
    const counts = new Map<string, { n: number; req: ConstReq; weight: number }>();
    segments.forEach((seg, i) => {
      const w = seg.kind === "decode" ? 1_000_000 : seg.kind === "prefill" ? 1000 : 1;
      for (const { use } of perSeg[i]!) {
        if (dynamic(use.req)) continue;
        const c = counts.get(use.key) ?? { n: 0, req: use.req, weight: 0 };
        c.n++;
        c.weight += w;
        counts.set(use.key, c);
      }
    });
    const ranked = [...counts.entries()].sort((a, b) => b[1].weight - a[1].weight || (a[0] < b[0] ? -1 : 1));
    const N = m.constEntries;
    // MEMSETs of segments of one kind for a pin count (the load segment's are one-time).
    const cost = (pins: number, kind: DSegment["kind"]) => {
      const pinned = new Map(ranked.slice(0, pins).map(([k], i) => [k, i]));
      const pool = Array.from({ length: N - pins }, (_, i) => pins + i);
      return segments.reduce(
        (acc, seg, i) =>
          seg.kind === kind ? acc + belady(perSeg[i]!, pinned, pool, settersOf.get(seg)!).memsets : acc,
        0,
      );
    };
    const candidates = [
      ...new Set(
        [0, N / 2, (3 * N) / 4, N - 4]
          .map(Math.floor)
          .filter((p) => p >= 0 && p <= N - 2)
          .map((p) => Math.min(p, ranked.length)),
      ),
    ];
    // Decode is replayed per token: minimise its MEMSETs, then prefill's among the ties.
    const byDecode = candidates.map((p) => ({ p, c: cost(p, "decode") }));
    const bestDecode = Math.min(...byDecode.map((x) => x.c));
    const tied = byDecode.filter((x) => x.c === bestDecode).map((x) => x.p);
    let best = tied[0] ?? 0;
    if (tied.length > 1) {
      let bestPrefill = Number.POSITIVE_INFINITY;
      for (const p of tied) {
        const c = cost(p, "prefill") + p / N;
        if (c < bestPrefill) {
          bestPrefill = c;
          best = p;
        }
      }
    }
    const pinned = new Map(ranked.slice(0, best).map(([k], i) => [k, i]));
    ranked.slice(0, best).forEach(([, v], i) => {
      pinnedSets.push({
        kind: "memset",
        bank,
        entry: i,
        a: v.req.a,
        b: v.req.b,
        c: v.req.c,
        origin: { label: `pinned constant ${bank}[${i}]` },
      });
    });
    const pool = Array.from({ length: N - best }, (_, i) => best + i);
    const memsets: Record<string, number> = {};
    segments.forEach((seg, i) => {
      const ins = inserts.get(seg) ?? new Map<number, DMemset[]>();
      inserts.set(seg, ins);
      const sim = belady(perSeg[i]!, pinned, pool, settersOf.get(seg)!, (step, entry, req) => {
        const list = ins.get(step) ?? [];
        const origin = seg.steps[step]!.origin;
        list.push({
          kind: "memset",
          bank,
          entry,
          a: req.a,
          b: req.b,
          c: req.c,
          origin: { ...origin, label: `shape for ${origin.label}` },
        });
        ins.set(step, list);
      });
      memsets[seg.name] = sim.memsets;
    });
    stats.push({ bank, pinned: best, memsets, distinctContents: counts.size });
  }
  for (const seg of segments) {
    const ins = inserts.get(seg)!;
    const out: DStep[] = seg.kind === "load" ? [...pinnedSets] : [];
    seg.steps.forEach((s, i) => {
      for (const ms of ins.get(i) ?? []) out.push(ms);
      out.push(s);
    });
    seg.steps = out;
  }
  return stats;
}
