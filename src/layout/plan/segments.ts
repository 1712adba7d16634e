/**
 * Checks of the stream segments codegen hands to finalizeLayout: each names a streamed tensor of
 * the plan, stays inside its matrix, uses the plan's scale format, has exactly the bytes of its tile
 * format, and no two segments of a port overlap (a segment consumed twice — same port, offset and
 * content — is stored once). Folded norms must reach every segment of the projections they fold
 * into. A failure here is a codegen bug (exit 70).
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import { canonicalJson } from "../../util/json.js";
import type { LayoutMachine, LayoutPlan, StreamSegment, TensorPolicy } from "../types.js";
import { tileBytes } from "./sizes.js";

export interface CheckedSegments {
  /** One segment per stored tile (port + offset), in the order first given. */
  readonly stored: readonly StreamSegment[];
  /** End of the last tile per port. */
  readonly portUsed: ReadonlyMap<string, number>;
  /** Stream policy by tensor name. */
  readonly policy: ReadonlyMap<string, TensorPolicy>;
}

const bug = (s: StreamSegment | undefined, message: string) =>
  new PccxError(
    "layout/segment",
    ExitCode.INTERNAL,
    `${s ? `segment ${s.id} (${s.tensor}): ` : ""}${message}`,
    {
      notes: ["stream segments come from codegen; this is a compiler bug, please report it"],
    },
  );

/** The tile's content without its identity (two segments with the same key hold the same bytes). */
export function segmentContentKey(s: StreamSegment): string {
  const { id: _id, consumer: _c, ...content } = s;
  return canonicalJson(content);
}

const int = (n: number) => Number.isSafeInteger(n) && n >= 0;

/**
 * The matrix a segment's rows and cols index (one expert's). Without a `transpose` transform it is
 * the stored tensor; with one, the stored tensor transposed (rows = stored columns). For a tensor
 * stored [in, out] (Conv1D) a transpose gives the logical [out, in] matrix; on a tensor stored
 * [out, in] it gives the [in, out] view (DeepSeek MLA's absorbed W_UKᵀ reads of kv_b_proj).
 * `flipped`: the tile indexes the transpose of the policy's logical [out, in] matrix.
 */
export function segmentMatrix(
  s: StreamSegment,
  p: TensorPolicy,
): { readonly rows: number; readonly cols: number; readonly transposed: boolean; readonly flipped: boolean } {
  const transposed = s.transforms.some((t) => t.kind === "transpose");
  const flipped = transposed !== (p.transposed ?? false);
  const rows = p.rows ?? 1;
  const cols = p.cols ?? 1;
  return flipped ? { rows: cols, cols: rows, transposed, flipped } : { rows, cols, transposed, flipped };
}

function checkShape(s: StreamSegment, p: TensorPolicy): void {
  const step = s.rowStep ?? 1;
  const { rows, cols } = segmentMatrix(s, p);
  const ok =
    int(s.rows.start) &&
    int(s.rows.count) &&
    int(s.cols.start) &&
    int(s.cols.count) &&
    int(s.offset) &&
    int(s.bytes);
  if (!ok || !Number.isSafeInteger(step) || step < 1)
    throw bug(s, "offsets, counts and sizes must be non-negative integers");
  if (s.rows.count === 0 || s.cols.count === 0) throw bug(s, "empty tile");
  if (s.rows.start + (s.rows.count - 1) * step >= rows || s.cols.start + s.cols.count > cols) {
    throw bug(
      s,
      `rows ${s.rows.start}+${s.rows.count}×${step}, cols ${s.cols.start}+${s.cols.count} leave the ` +
        `[${rows}, ${cols}] matrix`,
    );
  }
  if (p.experts !== undefined && (s.expert === undefined || s.expert < 0 || s.expert >= p.experts))
    throw bug(s, `a stacked tensor of ${p.experts} experts needs an expert index in 0..${p.experts - 1}`);
  if (p.experts === undefined && s.expert !== undefined) throw bug(s, "expert index on an unstacked tensor");
  if (s.group !== p.group || s.scaleDtype !== p.scaleDtype) {
    throw bug(
      s,
      `scale format group ${s.group}/${s.scaleDtype} differs from the plan's ${p.group}/${p.scaleDtype}`,
    );
  }
  if (s.order === 1 && s.group !== 0 && s.group !== 32) throw bug(s, "an order-1 tile takes group 32 or 0");
  const expected = tileBytes({
    rows: s.rows.count,
    cols: s.cols.count,
    order: s.order,
    group: s.group,
    scaleDtype: s.scaleDtype,
  });
  if (s.bytes !== expected) throw bug(s, `${s.bytes} bytes, but the tile format takes ${expected}`);
}

function checkTransforms(s: StreamSegment, p: TensorPolicy, folds: ReadonlyMap<string, TensorPolicy>): void {
  const transposed = s.transforms.some((t) => t.kind === "transpose");
  if (!transposed && p.transposed)
    throw bug(s, "the tensor is stored [in, out]: a transpose transform is missing");
  if (s.transforms.filter((t) => t.kind === "transpose").length > 1) throw bug(s, "more than one transpose");
  // A transpose of a tensor stored [out, in] reads its [in, out] view: 2-D tensors only.
  if (
    transposed &&
    !p.transposed &&
    (p.experts !== undefined || (p.shape !== undefined && p.shape.length !== 2))
  )
    throw bug(
      s,
      `a transpose of a tensor stored [out, in] needs a 2-D tensor (shape [${p.shape?.join(", ")}])`,
    );
  for (const t of s.transforms) {
    if (t.kind !== "scale_cols") continue;
    const f = folds.get(t.by);
    if (!f?.foldedInto?.includes(s.tensor) || f.foldOffset !== t.offset) {
      throw bug(s, `scale_cols by ${t.by} (offset ${t.offset}) is not a fold the plan recorded`);
    }
  }
  for (const f of folds.values()) {
    if (!f.foldedInto?.includes(s.tensor)) continue;
    if (!s.transforms.some((t) => t.kind === "scale_cols" && t.by === f.tensor)) {
      throw bug(s, `the plan folds ${f.tensor} into ${s.tensor}, but the segment has no scale_cols by it`);
    }
  }
}

export function checkSegments(
  segments: readonly StreamSegment[],
  plan: LayoutPlan,
  m: LayoutMachine,
): CheckedSegments {
  const policy = new Map(plan.tensors.filter((p) => p.placement === "stream").map((p) => [p.tensor, p]));
  const folds = new Map(plan.tensors.filter((p) => p.placement === "folded").map((p) => [p.tensor, p]));
  // Content keys are only built when two segments share an id or a place (the rare, checked case).
  const byId = new Map<string, StreamSegment>();
  const byPlace = new Map<string, StreamSegment>();
  const stored: StreamSegment[] = [];
  for (const s of segments) {
    if (!m.weightPorts.includes(s.port))
      throw bug(s, `port ${s.port} carries no weights (${m.weightPorts.join(", ")} do)`);
    const p = policy.get(s.tensor);
    if (!p) throw bug(s, "the plan does not stream this tensor");
    checkShape(s, p);
    if (s.transforms.length > 0 || folds.size > 0) checkTransforms(s, p, folds);
    else if (p.transposed) throw bug(s, "the tensor is stored [in, out]: a transpose transform is missing");
    const prev = byId.get(s.id);
    if (prev !== undefined && segmentContentKey(prev) !== segmentContentKey(s))
      throw bug(s, "the same id names two different tiles");
    byId.set(s.id, s);
    const place = `${s.port}@${s.offset}`;
    const same = byPlace.get(place);
    if (same) {
      if (segmentContentKey(same) !== segmentContentKey(s))
        throw bug(s, `overlaps segment ${same.id} at ${s.port} offset ${s.offset}`);
      continue;
    }
    byPlace.set(place, s);
    stored.push(s);
  }
  const portUsed = new Map<string, number>();
  for (const port of m.weightPorts) {
    const tiles = stored.filter((s) => s.port === port).sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < tiles.length; i++) {
      const a = tiles[i - 1]!;
      if (a.offset + a.bytes > tiles[i]!.offset) {
        throw bug(tiles[i], `overlaps segment ${a.id} on ${port} (${a.offset}..${a.offset + a.bytes})`);
      }
    }
    const last = tiles[tiles.length - 1];
    if (last) portUsed.set(port, last.offset + last.bytes);
  }
  return { stored, portUsed, policy };
}
