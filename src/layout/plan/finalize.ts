/**
 * finalizeLayout: the exact DDR map once codegen has tiled the streams. Regions, in address order:
 * the weight stream of every port (`weights.<port>`, tiles in consumption order), `embedding`,
 * `tables`, `vectors` — these hold weights and sit at the same offsets in weights.bin, so the
 * driver loads the image's DDR part with one read — then one KV ring per owning layer (`kv.L<n>`),
 * then the program's own regions (host buffers, logits, tables). Off-DDR tensors follow the DDR
 * part in weights.bin only. Also the usage figures, the one-line summary and the capacity verdict.
 */
import type { DmaPort } from "../../codegen/program.js";
import { type Diagnostic, ExitCode, PccxError } from "../../diag/index.js";
import type {
  LayoutMachine,
  LayoutPlan,
  PlannedRegion,
  RegionRequest,
  StreamSegment,
  WeightPlan,
} from "../types.js";
import { type AllocRequest, alignUp, allocateRegions } from "./alloc.js";
import { modelLabel } from "./estimate.js";
import { computeFit } from "./fit.js";
import { summaryLine } from "./format.js";
import {
  categoryOf,
  kvRegionName,
  OFF_DDR_REGION,
  placeTensors,
  scalesOfPolicy,
  streamRegionName,
  TABLE_REGIONS,
} from "./place.js";
import { type CheckedSegments, checkSegments } from "./segments.js";
import { groupsPerRowOf, scaleBytesOf, tileBytes } from "./sizes.js";

export interface FinalizeOptions {
  /** Program segments replayed once per token (default: names starting with "decode"). */
  readonly decodeSegments?: ReadonlySet<string>;
  /** Model name for messages. */
  readonly label?: string;
}

function machineOf(plan: LayoutPlan): LayoutMachine {
  if (!plan.machine) {
    throw new PccxError("layout/no-machine", ExitCode.INTERNAL, "the layout plan was not made by planLayout");
  }
  return plan.machine;
}

/** Which stored tiles are read once per decoded token, weighted by the MoE share. */
function perTokenBytes(
  c: CheckedSegments,
  all: readonly StreamSegment[],
  m: LayoutMachine,
  o: FinalizeOptions,
): number {
  const decodeNamed = all.some((s) => s.consumer.segment.startsWith("decode"));
  const perToken = (s: StreamSegment) =>
    o.decodeSegments
      ? o.decodeSegments.has(s.consumer.segment)
      : decodeNamed
        ? s.consumer.segment.startsWith("decode")
        : m.gemvPorts.includes(s.port);
  const places = new Set(all.filter(perToken).map((s) => `${s.port}@${s.offset}`));
  let bytes = 0;
  for (const s of c.stored) {
    if (places.has(`${s.port}@${s.offset}`)) bytes += s.bytes * (c.policy.get(s.tensor)?.perToken ?? 1);
  }
  return Math.round(bytes);
}

function regionRequests(
  plan: LayoutPlan,
  m: LayoutMachine,
  c: CheckedSegments,
  used: ReadonlyMap<string, number>,
  program: readonly RegionRequest[],
): AllocRequest[] {
  const reqs: AllocRequest[] = [];
  for (const port of m.weightPorts) {
    const bytes = c.portUsed.get(port) ?? 0;
    if (bytes > 0)
      reqs.push({
        name: streamRegionName(port),
        kind: "weights",
        port: port as DmaPort,
        bytes,
        inImage: true,
      });
  }
  for (const r of TABLE_REGIONS) {
    const bytes = used.get(r) ?? 0;
    if (bytes > 0)
      reqs.push({ name: r, kind: r === "embedding" ? "embedding" : "weights", bytes, inImage: true });
  }
  // Codegen may size a ring itself (its format for the chosen dtype); its request replaces the plan's.
  const given = new Map(program.filter((r) => r.kind === "kv").map((r) => [r.name, r.bytes]));
  for (const k of plan.kv.capacity) {
    const name = kvRegionName(k.layer);
    reqs.push({ name, kind: "kv", bytes: given.get(name) ?? k.bytes });
  }
  const owned = new Set(plan.kv.capacity.map((k) => kvRegionName(k.layer)));
  for (const r of program) {
    if (r.kind === "kv" && owned.has(r.name)) continue;
    reqs.push({ name: r.name, kind: r.kind, bytes: r.bytes });
  }
  return reqs;
}

function consumersOf(
  c: CheckedSegments,
  tensors: ReturnType<typeof placeTensors>["tensors"],
  regions: readonly PlannedRegion[],
  ddrBytes: number,
): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, b: number) => out.set(k, (out.get(k) ?? 0) + b);
  for (const s of c.stored) add(categoryOf(c.policy.get(s.tensor)!.role, "stream"), s.bytes);
  for (const t of tensors) if (t.placement !== "off-ddr") add(categoryOf(t.role, t.placement), t.bytes);
  for (const r of regions) {
    if (r.kind === "kv") add("KV cache", r.bytes);
    else if (r.kind === "buffer" || r.kind === "logits" || r.kind === "table")
      add("program buffers", r.bytes);
  }
  const counted = [...out.values()].reduce((s, b) => s + b, 0);
  out.set("alignment padding", Math.max(0, ddrBytes - counted));
  return out;
}

export function finalizeLayout(
  plan: LayoutPlan,
  segments: readonly StreamSegment[],
  programRegions: readonly RegionRequest[] = [],
  opts: FinalizeOptions = {},
): WeightPlan {
  const m = machineOf(plan);
  const c = checkSegments(segments, plan, m);
  const { tensors, used } = placeTensors(plan.tensors, m);
  const capacity = m.ddrBytes - m.reservedOsBytes;
  const alloc = allocateRegions(regionRequests(plan, m, c, used, programRegions), {
    alignment: m.alignment,
    capacity,
  });
  const inImage = alloc.regions.filter((r) => r.fileOffset !== undefined);
  const ddrPart = inImage.reduce((e, r) => Math.max(e, r.offset + r.bytes), 0);
  const offDdr = used.get(OFF_DDR_REGION) ?? 0;
  const image = {
    bytes: ddrPart + alignUp(offDdr, m.alignment),
    ddrBytes: ddrPart,
    ...(offDdr > 0 ? { offDdr: { fileOffset: ddrPart, bytes: offDdr } } : {}),
  };
  const vectors = tensors.filter((t) => t.placement === "l2");
  const l2Words = vectors.reduce((s, t) => s + (t.l2Words ?? 0), 0);
  const kvBytes = alloc.regions.filter((r) => r.kind === "kv").reduce((s, r) => s + r.bytes, 0);
  const streamBytes = c.stored.reduce((s, x) => s + x.bytes, 0);
  const usage = {
    onChipBytes: l2Words * m.l2WordBytes,
    l2Words,
    streamedPerToken: perTokenBytes(c, segments, m, opts),
    streamBytes,
    offDdrBytes: offDdr,
    kvBytes,
    ddrBytes: alloc.end,
  };
  // Scales: exact per tile for the streams (what the same tile with per-row scales would save).
  let scaleBytes = 0;
  let perRowSaves = 0;
  for (const s of c.stored) {
    scaleBytes += s.rows.count * groupsPerRowOf(s.group, s.cols.count) * scaleBytesOf(s.scaleDtype);
    perRowSaves +=
      s.bytes -
      tileBytes({
        rows: s.rows.count,
        cols: s.cols.count,
        order: s.order,
        group: 0,
        scaleDtype: s.scaleDtype,
      });
  }
  for (const p of plan.tensors) {
    if (p.placement !== "ddr") continue;
    const x = scalesOfPolicy(p, m);
    scaleBytes += x.bytes;
    perRowSaves += x.saves;
  }
  const vocabBytes =
    c.stored.filter((s) => c.policy.get(s.tensor)?.role === "lm_head").reduce((s, x) => s + x.bytes, 0) +
    tensors.filter((t) => t.role === "embedding" && t.placement === "ddr").reduce((s, t) => s + t.bytes, 0);
  const fit = computeFit({
    model: opts.label ?? modelLabel(plan),
    machine: m,
    ddrBytes: alloc.end,
    consumers: consumersOf(c, tensors, alloc.regions, alloc.end),
    l2Words,
    kv: plan.kv,
    ...(programRegions.some((r) => r.kind === "kv") ? { kvBytes } : {}),
    context: plan.context,
    scales: { group: plan.options.groupSize, bytes: scaleBytes, perRowSaves },
    vocab: { size: plan.model?.vocabSize ?? 0, bytes: vocabBytes },
    estimate: false,
  });
  const tiled = new Set(c.stored.map((s) => s.tensor));
  const missing = [...c.policy.keys()].filter((t) => !tiled.has(t));
  const warnings: Diagnostic[] = missing.length
    ? [
        {
          code: "layout/unstreamed",
          severity: "warning",
          message: `${missing.length} streamed tensor(s) have no segment and are not in the image: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}`,
          fix: "codegen must tile every tensor the plan streams (or an override must place it elsewhere)",
        },
      ]
    : [];
  return {
    layout: plan,
    target: m.target,
    alignment: m.alignment,
    regions: alloc.regions,
    segments,
    tensors,
    image,
    usage,
    fit,
    summary: summaryLine(usage.onChipBytes, usage.streamedPerToken, usage.offDdrBytes),
    ...(warnings.length ? { warnings } : {}),
  };
}
