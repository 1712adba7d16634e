/**
 * What the image writer produces, as pieces: one per stored stream tile (segments sharing a port
 * and offset are one tile) and one per INT4 table; and the jobs that quantize them, a bounded
 * number of rows each, ordered so that each checkpoint tensor is read once from top to bottom
 * (all column tiles and both ports' halves of a row band are cut from the same band).
 */
import { ExitCode, PccxError } from "../../diag/index.js";
import { streamRegionName } from "../plan/place.js";
import { segmentMatrix } from "../plan/segments.js";
import type { PlacedTensor, StreamSegment, TensorPolicy, WeightPlan } from "../types.js";
import type { JobRows } from "./extract.js";
import type { PieceFormat } from "./tile.js";

export interface Piece {
  /** Segment id (the first one naming the tile) or placed-tensor id. */
  readonly key: string;
  /** The policy whose error statistics this piece adds to. */
  readonly statsKey: string;
  readonly tensor: string;
  readonly expert: number;
  /** The [rows, cols] matrix the piece's rows and columns index (one expert's; see segmentMatrix). */
  readonly matrix: { readonly rows: number; readonly cols: number };
  /** `matrix` is the stored tensor transposed. */
  readonly transposed: boolean;
  /** `matrix` is the transpose of the logical [out, in] matrix: folded norms scale its rows. */
  readonly flipped: boolean;
  readonly first: number;
  readonly step: number;
  readonly c0: number;
  readonly kc: number;
  /** Folded norms: columns scaled by (offset + norm). */
  readonly folds: readonly { readonly by: string; readonly offset: 0 | 1 }[];
  /** A `dequant` transform codegen attached: checked against the checkpoint's actual format. */
  readonly dequant?: "fp8_block" | "mxfp4";
  readonly format: PieceFormat;
  /**
   * A table whose rows are exactly the rows of this tensor's stream tiles (a tied embedding whose
   * LM head tiles hold whole unscaled rows with the same scale format): it is filled from the
   * tiles' results instead of being quantized again. Set on the table; its jobs are skipped.
   */
  mirrorOf?: readonly Piece[];
}

export interface Job {
  readonly piece: Piece;
  /** First row of the job inside the piece, and its row count. */
  readonly i0: number;
  readonly n: number;
}

const bug = (m: string) => new PccxError("layout/image-plan", ExitCode.INTERNAL, m);

/** The stored tiles and INT4 tables of a weight plan. */
export function buildPieces(wp: WeightPlan): Piece[] {
  const regions = new Map(wp.regions.map((r) => [r.name, r]));
  const streamPolicy = new Map<string, TensorPolicy>();
  for (const p of wp.layout.tensors) if (p.placement === "stream") streamPolicy.set(p.tensor, p);
  const pieces: Piece[] = [];
  const places = new Set<string>();
  for (const s of wp.segments) {
    const place = `${s.port}@${s.offset}`;
    if (places.has(place)) continue;
    places.add(place);
    const p = streamPolicy.get(s.tensor);
    const region = regions.get(streamRegionName(s.port));
    if (!p || region?.fileOffset === undefined) throw bug(`segment ${s.id} has no stream policy or region`);
    const m = segmentMatrix(s, p);
    pieces.push({
      key: s.id,
      statsKey: p.id ?? p.tensor,
      tensor: s.tensor,
      expert: s.expert ?? 0,
      matrix: { rows: m.rows, cols: m.cols },
      transposed: m.transposed,
      flipped: m.flipped,
      first: s.rows.start,
      step: s.rowStep ?? 1,
      c0: s.cols.start,
      kc: s.cols.count,
      folds: s.transforms.flatMap((t) => (t.kind === "scale_cols" ? [{ by: t.by, offset: t.offset }] : [])),
      ...dequantOf(s),
      format: {
        layout: s.order === 0 ? "tile0" : "tile1",
        rows: s.rows.count,
        cols: s.cols.count,
        group: s.group,
        scaleDtype: s.scaleDtype,
        fileOffset: region.fileOffset + s.offset,
        bytes: s.bytes,
      },
    });
  }
  for (const t of wp.tensors) {
    if (t.format !== "int4") continue;
    const base = tensorFileOffset(wp, t) - t.offset;
    pieces.push({
      key: t.id,
      statsKey: t.id,
      tensor: t.tensor,
      expert: 0,
      matrix: { rows: t.rows, cols: t.cols },
      transposed: false,
      flipped: false,
      first: 0,
      step: 1,
      c0: 0,
      kc: t.cols,
      folds: [],
      format: {
        layout: "table",
        rows: t.rows,
        cols: t.cols,
        group: t.group,
        scaleDtype: t.scaleDtype,
        fileOffset: base + t.offset,
        bytes: t.bytes,
      },
    });
  }
  linkMirrors(pieces);
  return pieces;
}

/** Where a placed tensor starts in weights.bin (off-DDR tensors follow the DDR part). */
export function tensorFileOffset(wp: WeightPlan, t: PlacedTensor): number {
  const base =
    t.placement === "off-ddr"
      ? wp.image.offDdr?.fileOffset
      : wp.regions.find((r) => r.name === t.region)?.fileOffset;
  if (base === undefined) throw bug(`tensor ${t.id} has no place in the image`);
  return base + t.offset;
}

function dequantOf(s: StreamSegment): { dequant?: "fp8_block" | "mxfp4" } {
  for (const t of s.transforms) if (t.kind === "dequant") return { dequant: t.from };
  return {};
}

/** Marks tables that can be filled from their tensor's stream tiles (see Piece.mirrorOf). */
function linkMirrors(pieces: Piece[]): void {
  for (const t of pieces) {
    if (t.format.layout !== "table") continue;
    const tiles = pieces
      .filter((p) => p.tensor === t.tensor && p.format.layout !== "table")
      .sort((a, b) => a.first - b.first);
    const same = (p: Piece) =>
      !p.transposed &&
      !p.flipped &&
      p.step === 1 &&
      p.c0 === 0 &&
      p.kc === t.kc &&
      p.folds.length === 0 &&
      p.format.group === t.format.group &&
      p.format.scaleDtype === t.format.scaleDtype &&
      p.matrix.rows === t.format.rows;
    let next = 0;
    for (const p of tiles) {
      if (!same(p) || p.first !== next) break;
      next += p.format.rows;
    }
    if (tiles.length > 0 && next === t.format.rows && tiles.every(same)) t.mirrorOf = tiles;
  }
}

/**
 * Jobs of one tensor's pieces in read order: by stored row band, then column. A job has at most
 * `jobElements` weights and, unless transposed, at most `maxRows` stored rows (so that the band a
 * narrow column tile needs stays within the band size).
 */
export function jobsOf(
  pieces: readonly Piece[],
  jobElements: number,
  maxRows = Number.MAX_SAFE_INTEGER,
): Job[] {
  const jobs: { job: Job; a: number; b: number }[] = [];
  for (const p of pieces) {
    if (p.mirrorOf) continue;
    const byRows = p.transposed ? Number.MAX_SAFE_INTEGER : Math.floor(maxRows / p.step);
    const per = Math.max(1, Math.min(Math.floor(jobElements / p.kc), byRows));
    for (let i0 = 0; i0 < p.format.rows; i0 += per) {
      const n = Math.min(per, p.format.rows - i0);
      const row = p.first + i0 * p.step;
      const a = p.transposed ? p.expert * p.matrix.cols + p.c0 : p.expert * p.matrix.rows + row;
      const b = p.transposed ? row : p.c0;
      jobs.push({ job: { piece: p, i0, n }, a, b });
    }
  }
  return jobs.sort((x, y) => x.a - y.a || x.b - y.b).map((x) => x.job);
}

/** The reader's view of a job. */
export function jobRows(j: Job): JobRows {
  const p = j.piece;
  return {
    expert: p.expert,
    matrix: p.matrix,
    transposed: p.transposed,
    ...(p.flipped ? { flipped: true } : {}),
    first: p.first + j.i0 * p.step,
    step: p.step,
    n: j.n,
    c0: p.c0,
    kc: p.kc,
  };
}
