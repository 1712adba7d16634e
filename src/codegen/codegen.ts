/**
 * codegen(graph, plan, target, options) → { program, segments, regions, stats }: the named pass
 * list of docs/codegen.md, run top to bottom on one mutable state:
 *
 *   lower → allocate-l2 → allocate-const → schedule → waits → encode → verify
 */
import { type Diagnostic, ExitCode, formatDiagnostic, isPccxError, PccxError } from "../diag/index.js";
import type { LayoutPlan, RegionRequest, StreamSegment } from "../layout/types.js";
import { type GraphIndex, indexGraph, type ModelGraph } from "../resolver/graph/index.js";
import type { Target } from "../target/index.js";
import { allocateConst, type ConstStats } from "./alloc/const.js";
import { allocateHostBuffers, allocateSegmentL2, type L2Stats, placeProgramBuffers } from "./alloc/l2.js";
import { type Analysis, analyse } from "./analysis.js";
import type { DSegment, L2Buf } from "./draft.js";
import { Lower } from "./lower/context.js";
import { lowerSegment } from "./lower/index.js";
import { cachesOf } from "./lower/kv.js";
import { lowerLoad } from "./lower/load.js";
import { type PlanInfo, planInfo } from "./lower/plan-info.js";
import { type Machine, machineOf } from "./machine.js";
import { type CodegenOptions, DEFAULT_SEGMENTS, MAX_AUTO_PREFILL_CHUNK } from "./options.js";
import { encodeSegments } from "./passes/encode.js";
import { scheduleSegment } from "./passes/schedule.js";
import { waitsSegment } from "./passes/waits.js";
import type { Program } from "./program.js";
import { Registry } from "./registry.js";
import { type CodegenStats, segmentStats } from "./stats.js";
import { verifyProgram } from "./verify/index.js";

export interface CodegenResult {
  readonly program: Program;
  /** Weight tiles per port in consumption order (for finalizeLayout / the image writer). */
  readonly segments: readonly StreamSegment[];
  /**
   * The DDR regions codegen sizes, for finalizeLayout: the program's own (host buffers, logits,
   * result, RoPE tables) and the KV rings `kv.L<n>` (their bytes in the format the program writes:
   * int4 tiles, or bf16 rows for host attention; they replace the layout plan's ring sizes).
   * Weights and placed tensors are the layout's regions.
   */
  readonly regions: readonly RegionRequest[];
  readonly stats: CodegenStats;
  readonly diagnostics: readonly Diagnostic[];
}

/** The state the passes share. */
export interface CodegenState {
  readonly m: Machine;
  readonly reg: Registry;
  readonly graph: ModelGraph;
  readonly gi: GraphIndex;
  readonly an: Analysis;
  readonly plan: PlanInfo;
  readonly opts: CodegenOptions & { model: string };
  readonly prefillChunk: number;
  readonly segs: DSegment[];
  readonly lowers: Map<DSegment, Lower>;
  l2: L2Stats[];
  programWords: number;
  constStats: ConstStats[];
  program?: Program;
  diagnostics: Diagnostic[];
}

export interface Pass {
  readonly name: string;
  run(s: CodegenState): void;
}

const PAGE = 4096;

/**
 * The largest position a prefill chunk of `rows` may start at: the context, and every sliding
 * ring that a later layer shares (the chunk writes all its rows before that layer reads the ring).
 */
function prefillMaxPos(s: CodegenState, rows: number): number {
  let max = s.plan.context - rows;
  const windows = new Map<number, number>();
  for (const op of s.graph.ops)
    if (
      op.kind === "attention" &&
      op.kv.source === "own" &&
      op.mask.kind === "sliding" &&
      op.mask.window < s.plan.context
    )
      windows.set(op.layer ?? -1, op.mask.window);
  for (const op of s.graph.ops) {
    if (op.kind !== "attention" || op.kv.source !== "shared") continue;
    const w = windows.get(op.kv.layer);
    if (w !== undefined) max = Math.min(max, w - rows);
  }
  return max;
}

export const PIPELINE: readonly Pass[] = [
  {
    name: "lower",
    run(s) {
      const kinds = s.opts.segments ?? DEFAULT_SEGMENTS;
      for (const kind of ["decode", "prefill"] as const) {
        if (!kinds.includes(kind)) continue;
        const rows = kind === "decode" ? 1 : s.prefillChunk;
        const seg: DSegment = {
          name: kind,
          kind,
          steps: [],
          rows,
          bufs: [],
          ...(kind === "prefill" ? { maxPos: prefillMaxPos(s, rows) } : {}),
        };
        const L = new Lower(s.m, s.reg, s.graph, s.gi, s.an, s.plan, s.opts, seg);
        lowerSegment(L, seg);
        s.segs.push(seg);
        s.lowers.set(seg, L);
      }
      const load: DSegment = { name: "load", kind: "load", steps: [], rows: 1, bufs: [] };
      const L = new Lower(s.m, s.reg, s.graph, s.gi, s.an, s.plan, s.opts, load);
      lowerLoad(L);
      s.segs.unshift(load);
      s.lowers.set(load, L);
    },
  },
  {
    name: "allocate-l2",
    run(s) {
      const prog: L2Buf[] = [];
      if (s.reg.constBuf) prog.push(s.reg.constBuf);
      for (const p of s.reg.pinned.values()) prog.push(p.buf);
      const base = placeProgramBuffers(s.m, prog);
      s.programWords = base - s.m.l2Start;
      for (const seg of s.segs) {
        s.l2.push(allocateSegmentL2(s.m, seg, base));
        allocateHostBuffers(seg, s.lowers.get(seg)!.hostBufs, s.reg, s.m.wordBytes);
      }
    },
  },
  {
    name: "allocate-const",
    run(s) {
      s.constStats = allocateConst(s.m, s.segs);
    },
  },
  {
    name: "schedule",
    run(s) {
      for (const seg of s.segs) scheduleSegment(s.m, seg);
    },
  },
  {
    name: "waits",
    run(s) {
      for (const seg of s.segs) waitsSegment(s.m, seg);
    },
  },
  {
    name: "encode",
    run(s) {
      const e = encodeSegments(s.m, s.reg, s.segs, s.opts.verify === false);
      const ddr = s.reg.ddrRegions(PAGE);
      const allocations = [
        ...e.allocations,
        ...ddr.map((r) => ({ space: "ddr" as const, name: r.name, offset: r.offset, size: r.bytes })),
      ];
      s.program = {
        schemaVersion: 1,
        target: s.m.target.file.name,
        targetFingerprint: s.m.target.fingerprint,
        model: s.opts.model,
        segments: e.segments,
        relocations: e.relocations,
        variables: [...s.reg.variables.entries()]
          .map(([name, v]) => ({ name, doc: v.doc, setBy: v.setBy }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        allocations,
        ddr,
        context: s.plan.context,
      };
    },
  },
  {
    name: "verify",
    run(s) {
      if (s.opts.verify === false) return;
      const d = verifyProgram(s.program!, s.m.target);
      s.diagnostics.push(...d);
      const errors = d.filter((x) => x.severity === "error");
      if (errors.length)
        throw new PccxError(
          "codegen/verify",
          ExitCode.INTERNAL,
          `the generated program fails verification (${errors.length} problem(s)); this is a codegen bug`,
          { notes: errors.slice(0, 20).map(formatDiagnostic) },
        );
    },
  },
];

function run(
  graph: ModelGraph,
  plan: LayoutPlan,
  target: Target,
  opts: CodegenOptions,
  chunk: number,
): CodegenResult {
  const m = machineOf(target);
  const gi = indexGraph(graph);
  const state: CodegenState = {
    m,
    reg: new Registry(m),
    graph,
    gi,
    an: analyse(graph, gi),
    plan: planInfo(plan, graph, m),
    opts: { ...opts, model: opts.model ?? graph.meta.modelType },
    prefillChunk: chunk,
    segs: [],
    lowers: new Map(),
    l2: [],
    programWords: 0,
    constStats: [],
    diagnostics: [],
  };
  const passMs: Record<string, number> = {};
  for (const pass of PIPELINE) {
    const t0 = performance.now();
    pass.run(state);
    passMs[pass.name] = Math.round(performance.now() - t0);
  }
  const program = state.program!;
  const fullPos = Math.max(0, plan.context - 1);
  const weightBytes: Record<string, number> = {};
  for (const r of program.ddr) if (r.kind === "weights") weightBytes[r.name] = r.bytes;
  const stats: CodegenStats = {
    segments: segmentStats(program, fullPos),
    l2: state.l2,
    programL2Words: state.programWords,
    constCache: state.constStats,
    streamSegments: state.reg.streamSegments.length,
    weightBytes,
    ddrBytes: program.ddr.reduce((s, r) => Math.max(s, r.offset + r.bytes), 0),
    programBytes: program.segments.reduce((s, seg) => s + seg.steps.length, 0) * 8,
    ...(program.segments.some((x) => x.kind === "prefill") ? { prefillChunk: chunk } : {}),
    notes: notesOf(state, program, chunk),
    passMs,
  };
  // The KV rings are sized here (their format follows the attention path codegen chose), so the
  // DDR map takes their bytes from the program, not from the layout plan's estimate.
  const regions: RegionRequest[] = program.ddr
    .filter((r) => r.kind === "buffer" || r.kind === "logits" || r.kind === "kv")
    .map((r) => ({ name: r.name, kind: r.kind as "buffer" | "logits" | "kv", bytes: r.bytes }));
  return { program, segments: state.reg.streamSegments, regions, stats, diagnostics: state.diagnostics };
}

/** What a reader of the stats should know about choices that cost performance. */
function notesOf(s: CodegenState, program: Program, chunk: number): string[] {
  const notes = [...new Set([...s.lowers.values()].flatMap((L) => [...L.notes]))];
  for (const c of cachesOf(s.reg).values())
    if (c.hostReason) notes.push(`layer ${c.layer}: attention runs on the host (${c.hostReason})`);
  notes.push(...gqaNotes(s));
  const pre = program.segments.find((x) => x.kind === "prefill");
  if (pre?.maxPos !== undefined && pre.maxPos < s.plan.context - chunk)
    notes.push(
      `prefill may start at positions ≤ ${pre.maxPos} only (a later layer shares a sliding-window ring)`,
    );
  if (pre && s.m.enginePorts.gemm.length !== s.m.enginePorts.gemv.length)
    notes.push(
      "prefill GEMM tiles are stored apart from the decode tiles (the GEMM and GEMV have different port counts)",
    );
  return notes;
}

/**
 * Grouped-query attention on the NPU streams a KV head's tiles once per query head of its group:
 * one note per group size, so the per-token KV bytes in the stats read right.
 */
function gqaNotes(s: CodegenState): string[] {
  const caches = cachesOf(s.reg);
  const byGroup = new Map<number, number[]>();
  for (const op of s.graph.ops) {
    if (op.kind !== "attention" || op.heads <= op.kvHeads) continue;
    const owner = op.kv.source === "shared" ? op.kv.layer : (op.layer ?? -1);
    if (caches.get(owner)?.format !== "int4_tiles") continue;
    const g = op.heads / op.kvHeads;
    byGroup.set(g, [...(byGroup.get(g) ?? []), op.layer ?? -1]);
  }
  return [...byGroup].map(
    ([g, layers]) =>
      `grouped-query attention (${layers.length} layer(s), ${g} query heads per KV head): each KV head's K and V tiles are streamed once per query head (${g}× the ring bytes), because a GEMV takes one activation row (docs/codegen.md "Attention")`,
  );
}

/** Generates the program of `graph` for `target` (see the file header for the passes). */
export function codegen(
  graph: ModelGraph,
  plan: LayoutPlan,
  target: Target,
  options: CodegenOptions = {},
): CodegenResult {
  const wantPrefill = (options.segments ?? DEFAULT_SEGMENTS).includes("prefill");
  if (!wantPrefill || options.prefillChunk !== undefined)
    return run(graph, plan, target, options, options.prefillChunk ?? 1);
  let chunk = MAX_AUTO_PREFILL_CHUNK;
  for (;;) {
    try {
      const r = run(graph, plan, target, options, chunk);
      // A chunk longer than a shared sliding ring could never be replayed (maxPos < 0).
      const pre = r.program.segments.find((s) => s.kind === "prefill");
      if (pre?.maxPos !== undefined && pre.maxPos < 0 && chunk > 1) {
        chunk = Math.floor(chunk / 2);
        continue;
      }
      return r;
    } catch (e) {
      if (
        !(
          isPccxError(e) &&
          e.code === "codegen/l2-overflow" &&
          e.message.includes("segment prefill") &&
          chunk > 1
        )
      )
        throw e;
      chunk = Math.floor(chunk / 2);
    }
  }
}
