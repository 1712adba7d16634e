/**
 * Analytic decode programs: hand-made command streams with the byte counts of a real model, built
 * from its layout plan (config only, no codegen). Every streamed tensor is tiled as codegen tiles it
 * (≤ tile rows × ≤ max K, rows split over the GEMV ports, the plan's scale group), every layer's KV
 * ring is read as the attention GEMVs read it (K rows with one scale beat per row, V as
 * K-block-major blocks, once per KV head), and every layer ends with one host sync. No host
 * fallback work: these programs measure the streaming bound a real program approaches from below.
 */
import { machineOf } from "../../../src/codegen/machine.js";
import type { DdrRegion, DmaPort, Program, Step } from "../../../src/codegen/program.js";
import { portRows, tileBytes } from "../../../src/codegen/tiles.js";
import type { KvLayer, LayoutPlan } from "../../../src/layout/types.js";
import type { Target } from "../../../src/target/index.js";
import { dma, gemv, memset, waitNpu } from "./helpers.js";

interface Mat {
  readonly name: string;
  readonly layer?: number;
  readonly n: number;
  readonly k: number;
  readonly order: 0 | 1;
  readonly group: number;
  readonly region: "weights" | "kv";
}

function ringOf(plan: LayoutPlan, layer: number): KvLayer | undefined {
  const src = plan.kv.shared?.find((s) => s.layer === layer)?.source ?? layer;
  return plan.kv.capacity.find((c) => c.layer === src);
}

/** The KV reads of one layer at `context`: per KV head, Q·Kᵀ over the visible rows and P·V. */
function kvMats(plan: LayoutPlan, layer: number, context: number, maxRows: number): Mat[] {
  const ring = ringOf(plan, layer);
  if (!ring?.kvHeads || !ring.headDim || !ring.vHeadDim) return [];
  const len = Math.min(context, ring.window ?? ring.slots, ring.slots);
  const out: Mat[] = [];
  for (let h = 0; h < ring.kvHeads; h++) {
    for (let r = 0; r < len; r += maxRows) {
      const rows = Math.min(maxRows, len - r);
      out.push({
        name: `L${layer} K h${h}`,
        layer,
        n: rows,
        k: ring.headDim,
        order: 0,
        group: ring.headDim / 8,
        region: "kv",
      });
      out.push({
        name: `L${layer} V h${h}`,
        layer,
        n: ring.vHeadDim,
        k: rows,
        order: 1,
        group: 32,
        region: "kv",
      });
    }
  }
  return out;
}

/** The decode program of a layout plan at `context` on `target`. */
export function analyticDecode(
  plan: LayoutPlan,
  target: Target,
  context: number,
  model = "analytic",
): Program {
  const m = machineOf(target);
  const ports = m.enginePorts.gemv;
  const streams = plan.tensors.filter(
    (t) => t.placement === "stream" && t.rows && t.cols && (t.perToken ?? 1) > 0,
  );
  const layers = [...new Set(streams.map((t) => t.layer).filter((l): l is number => l !== undefined))].sort(
    (a, b) => a - b,
  );
  const head = streams.filter((t) => t.role === "lm_head");
  const pre = streams.filter((t) => t.layer === undefined && t.role !== "lm_head");
  const mat = (t: (typeof streams)[number]): Mat[] => {
    const out: Mat[] = [];
    const rows = Math.round(t.rows! * (t.perToken ?? 1));
    for (let r = 0; r < rows; r += m.tileRows)
      for (let c = 0; c < t.cols!; c += m.maxK)
        out.push({
          name: t.tensor,
          ...(t.layer !== undefined ? { layer: t.layer } : {}),
          n: Math.min(m.tileRows, rows - r),
          k: Math.min(m.maxK, t.cols! - c),
          order: 0,
          group: t.group,
          region: "weights",
        });
    return out;
  };
  const steps: Step[] = [];
  const emit = (x: Mat) => {
    const opts = { ...(x.layer !== undefined ? { layer: x.layer } : {}), label: x.name, tensors: [x.name] };
    steps.push(memset(0, 0, 1, x.n, x.k, opts), memset(1, 1, x.order, x.group, 0, opts));
    portRows(x.n, ports.length).forEach((pr, j) => {
      if (pr.count === 0) return;
      const bytes = tileBytes(m, { order: x.order, group: x.group, n: pr.count, k: x.k });
      steps.push(dma(ports[j]!, x.region === "kv" ? "kv" : `weights.${ports[j]}`, bytes, 0, opts));
    });
    steps.push(gemv(0, 1, opts));
  };
  pre.flatMap(mat).forEach(emit);
  for (const l of layers) {
    streams
      .filter((t) => t.layer === l)
      .flatMap(mat)
      .forEach(emit);
    kvMats(plan, l, context, m.tileRows).forEach(emit);
    steps.push(waitNpu({ layer: l }));
  }
  head.flatMap(mat).forEach(emit);
  steps.push(waitNpu());
  const regions: DdrRegion[] = [
    ...ports.map((p: DmaPort) => ({
      name: `weights.${p}`,
      offset: 0,
      bytes: 1 << 30,
      kind: "weights" as const,
      port: p,
    })),
    { name: "kv", offset: 0, bytes: 1 << 30, kind: "kv" },
  ];
  return {
    schemaVersion: 1,
    target: target.file.name,
    targetFingerprint: target.fingerprint,
    model,
    segments: [{ name: "decode", kind: "decode", steps }],
    relocations: [],
    variables: [],
    allocations: [],
    ddr: regions,
  };
}

/** Weight bytes per token of a plan (streamed tensors × their share per token). */
export function streamedBytes(plan: LayoutPlan): number {
  return plan.tensors
    .filter((t) => t.placement === "stream")
    .reduce((a, t) => a + (t.bytes ?? 0) * (t.perToken ?? 1), 0);
}
