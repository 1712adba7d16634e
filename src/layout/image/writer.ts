/**
 * writeWeightImage: quantizes the checkpoint straight into weights.bin, laid out as the WeightPlan
 * says, and writes weights.json. One pass over each checkpoint tensor, in row bands; every job (a
 * bounded block of rows × a column range, with its folded-norm factors) is quantized on the shared
 * worker pool, a bounded number in flight; results are consumed in submission order, so each
 * piece's rows arrive in order and are hashed and queued for writing (positionally) as they come.
 * The main thread only reads, dispatches, hashes and writes; job and result buffers are recycled
 * (buffers.ts). The output is byte-identical for any thread count. Both files appear atomically
 * (temp file + rename).
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { type Diagnostic, ExitCode, invalidInput, isPccxError, PccxError } from "../../diag/index.js";
import { type Logger, silentLogger } from "../../diag/log.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { prettyJson } from "../../util/json.js";
import { segmentContentKey } from "../plan/segments.js";
import {
  defaultThreads,
  groupsPerRow,
  packedRowBytes,
  QuantPool,
  type QuantScheme,
  QuantStats,
} from "../quant/index.js";
import { blockBuffers } from "../quant/source.js";
import { type QuantTask, type QuantTaskResult, runQuantTask } from "../quant/task.js";
import type { StreamSegment, WeightPlan } from "../types.js";
import { BufferPool, type RawReader, rawReader, WriteQueue } from "./buffers.js";
import { TensorReader } from "./extract.js";
import { buildManifest, type WeightManifest } from "./manifest.js";
import { firstNonFinite, nonFiniteError } from "./nonfinite.js";
import { buildPieces, type Job, jobRows, jobsOf, type Piece, tensorFileOffset } from "./pieces.js";
import { findSource, type SourceTensor, sourceLabel, type WeightSource } from "./source.js";
import { type PieceWriter, pieceWriter } from "./tile.js";
import { throwOnCheckpointErrors, validatePlanSources } from "./validate.js";
import { writeVector } from "./vectors.js";

export interface WriteImageOptions {
  /** Worker threads (0: quantize on the calling thread); default: the machine's cores (≤ 8). */
  readonly threads?: number;
  /** A pool shared with other work (not closed here); overrides `threads`. */
  readonly pool?: QuantPool;
  readonly logger?: Logger;
  /** Bytes of checkpoint rows read at once (default 8 MiB). */
  readonly bandBytes?: number;
  /** Weights per quantization job (default 2^20: 2 MiB of BF16). */
  readonly jobElements?: number;
  /** MSE clipping search (docs/layout-quant.md); off by default. */
  readonly quantSearch?: boolean;
}

export interface WeightImageResult {
  readonly digest: string;
  readonly manifest: WeightManifest;
  /** Warnings (unused checkpoint tensors, plan warnings). */
  readonly warnings: readonly Diagnostic[];
}

interface Runner {
  /** Tasks kept in flight: enough that every worker has its next task queued. */
  readonly inflight: number;
  run(t: QuantTask): Promise<QuantTaskResult>;
  close(): Promise<void>;
}

function runner(o: WriteImageOptions): Runner {
  const depth = (p: QuantPool) => p.size * (p.depth + 1);
  if (o.pool) return { inflight: depth(o.pool), run: (t) => o.pool!.run(t), close: async () => {} };
  const threads = o.threads ?? defaultThreads();
  if (threads === 0) return { inflight: 2, run: async (t) => runQuantTask(t), close: async () => {} };
  const pool = new QuantPool(threads);
  return { inflight: depth(pool), run: (t) => pool.run(t), close: () => pool.close() };
}

function checkSegmentsMatch(wp: WeightPlan, segments: readonly StreamSegment[]): void {
  const key = (s: StreamSegment) => `${s.id}\u0000${segmentContentKey(s)}`;
  const planned = new Set(wp.segments.map(key));
  if (segments.length !== wp.segments.length || !segments.every((s) => planned.has(key(s)))) {
    throw new PccxError(
      "layout/segments-changed",
      ExitCode.INTERNAL,
      "the segments given to writeWeightImage differ from the ones finalizeLayout mapped",
    );
  }
}

/** Source tensors in checkpoint order (file, then offset): each file is read front to back. */
function sourceOrder(names: Iterable<string>, src: WeightSource): { name: string; source: SourceTensor }[] {
  const out = [...new Set(names)].map((name) => ({ name, source: findSource(src, name)! }));
  const pos = (s: SourceTensor) => (s.kind === "mxfp4" ? s.blocks : s.entry);
  return out.sort((a, b) => {
    const x = pos(a.source);
    const y = pos(b.source);
    return x.file < y.file ? -1 : x.file > y.file ? 1 : x.dataOffset - y.dataOffset;
  });
}

class ImageJob {
  readonly stats = new Map<string, { source: string; stats: QuantStats }>();
  readonly segmentSha = new Map<string, string>();
  readonly tensorSha = new Map<string, string>();
  private readonly writers = new Map<Piece, PieceWriter>();
  private readonly factors = new Map<string, Float32Array>();
  private readonly segmentById: ReadonlyMap<string, StreamSegment>;
  readonly buffers = new BufferPool();
  readonly out: WriteQueue;
  readonly raw: RawReader;

  constructor(
    readonly wp: WeightPlan,
    readonly src: WeightSource,
    fh: FileHandle,
    readonly opts: WriteImageOptions,
  ) {
    this.segmentById = new Map(wp.segments.map((x) => [x.id, x]));
    this.out = new WriteQueue(fh);
    this.raw = rawReader(src);
  }

  /** Recycled output buffers for a job's result (see QuantTask.output). */
  output(job: Job, scheme: QuantScheme): QuantTask["output"] {
    const p = job.piece;
    return {
      packed: this.buffers.take(job.n * packedRowBytes(p.kc)),
      scales: this.buffers.take(job.n * groupsPerRow(scheme, p.kc) * 4),
    };
  }

  /**
   * Column factors of a piece's folded norms (product over folds), indexed by logical column (the
   * `in` axis: the piece's rows when it is flipped).
   */
  async colScale(p: Piece): Promise<Float32Array | undefined> {
    if (p.folds.length === 0) return undefined;
    const key = p.folds.map((f) => `${f.by}:${f.offset}`).join("|");
    const hit = this.factors.get(key);
    if (hit) return hit;
    const out = new Float32Array(p.flipped ? p.matrix.rows : p.matrix.cols).fill(1);
    for (const f of p.folds) {
      const source = findSource(this.src, f.by)!;
      const v = await new TensorReader(this.src, f.by, source, 1 << 20).storedRowsF32(0, 1);
      if (v.length !== out.length) {
        throw new PccxError(
          "layout/fold-shape",
          ExitCode.INTERNAL,
          `norm ${f.by} has ${v.length} values, ${p.tensor} has ${out.length} columns`,
        );
      }
      for (let c = 0; c < v.length; c++) {
        if (!Number.isFinite(v[c]!)) throw nonFiniteError(f.by, source, 0, c, v[c]!);
        out[c] = out[c]! * (f.offset + v[c]!);
      }
    }
    this.factors.set(key, out);
    return out;
  }

  /** Table pieces filled from each tile's results (Piece.mirrorOf). */
  private readonly mirrors = new Map<Piece, Piece>();

  linkMirrors(pieces: readonly Piece[]): void {
    for (const t of pieces) for (const tile of t.mirrorOf ?? []) this.mirrors.set(tile, t);
  }

  async consume(job: Job, r: QuantTaskResult): Promise<void> {
    const m = this.mirrors.get(job.piece);
    // The result's buffers are recycled once every piece fed from it has written them.
    let users = m ? 2 : 1;
    const release = () => {
      if (--users > 0) return;
      this.buffers.give(r.packed.buffer);
      this.buffers.give(r.scales.buffer);
    };
    await this.add(job.piece, job.i0, job.n, r, release);
    if (m) await this.add(m, job.piece.first + job.i0, job.n, r, release);
  }

  private async add(p: Piece, i0: number, n: number, r: QuantTaskResult, release: () => void): Promise<void> {
    let w = this.writers.get(p);
    if (!w) {
      w = pieceWriter(this.out, p.format);
      this.writers.set(p, w);
    }
    await w.add(i0, n, r.packed, r.scales, release);
    this.stats.get(p.statsKey)!.stats.merge(new QuantStats(r.stats));
    if (i0 + n < p.format.rows) return;
    const sha = await w.finish();
    this.writers.delete(p);
    if (p.format.layout === "table") this.tensorSha.set(p.key, sha);
    else {
      const s = this.segmentById.get(p.key)!;
      this.segmentSha.set(`${s.port}@${s.offset}`, sha);
    }
  }
}

async function quantizeAll(img: ImageJob, pieces: readonly Piece[], run: Runner, log: Logger): Promise<void> {
  const o = img.opts;
  const byTensor = new Map<string, Piece[]>();
  for (const p of pieces) {
    const list = byTensor.get(p.tensor);
    if (list) list.push(p);
    else byTensor.set(p.tensor, [p]);
  }
  const total = pieces.reduce((s, p) => s + (p.mirrorOf ? 0 : p.format.rows * p.kc), 0);
  const progress = log.progress("quantize weights", total);
  const limit = Math.max(2, run.inflight);
  const io = { raw: img.raw, pool: img.buffers };
  const inflight: {
    job: Job;
    reader: TensorReader;
    result: Promise<QuantTaskResult>;
    block: readonly ArrayBufferLike[];
  }[] = [];
  const settle = async () => {
    const head = inflight.shift()!;
    let r: QuantTaskResult;
    try {
      r = await head.result;
      for (const b of head.block) img.buffers.give(b); // the worker is done reading it
    } catch (e) {
      if (isPccxError(e) && e.code === "layout/quant-nonfinite") {
        throw (
          (await firstNonFinite(new TensorReader(img.src, head.reader.name, head.reader.source, 8 << 20))) ??
          e
        );
      }
      throw e;
    }
    await img.consume(head.job, r);
    progress.tick(head.job.n * head.job.piece.kc);
  };
  try {
    for (const { name, source } of sourceOrder(byTensor.keys(), img.src)) {
      checkDequant(name, source, byTensor.get(name)!);
      const bandBytes = o.bandBytes ?? 8 << 20;
      const reader = new TensorReader(img.src, name, source, bandBytes, io);
      for (const p of byTensor.get(name)!) {
        if (!img.stats.has(p.statsKey))
          img.stats.set(p.statsKey, { source: sourceLabel(source), stats: new QuantStats() });
      }
      const maxRows = Math.floor(bandBytes / Math.max(1, reader.rowBytes()));
      for (const job of jobsOf(byTensor.get(name)!, o.jobElements ?? 1 << 20, maxRows)) {
        const p = job.piece;
        const block = await reader.block(jobRows(job));
        const scheme: QuantScheme = {
          scaleGroup: p.format.group === 0 ? "row" : p.format.group,
          scaleDtype: p.format.scaleDtype,
          quantSearch: o.quantSearch ?? false,
        };
        const result = run.run({
          block,
          ...foldFactors(job, await img.colScale(p)),
          k: p.kc,
          firstRow: p.first + job.i0 * p.step,
          scheme,
          tensor: name,
          output: img.output(job, scheme),
        });
        result.catch(() => undefined); // observed when its turn comes
        inflight.push({ job, reader, result, block: blockBuffers(block) });
        while (inflight.length >= limit) await settle();
      }
      reader.release(); // every job's block is a copy or its own read
    }
    while (inflight.length > 0) await settle();
    await img.out.drain();
  } finally {
    progress.done();
  }
}

/**
 * A job's folded-norm factors for the quant task (its own copies, cloned with it): the factors of
 * its column range, or for a flipped tile (whose rows are logical columns) one per row.
 */
function foldFactors(
  job: Job,
  f: Float32Array | undefined,
): { colScale?: Float32Array; rowScale?: Float32Array } {
  if (!f) return {};
  const p = job.piece;
  if (!p.flipped) return { colScale: f.slice(p.c0, p.c0 + p.kc) };
  const rowScale = new Float32Array(job.n);
  const first = p.first + job.i0 * p.step;
  for (let i = 0; i < job.n; i++) rowScale[i] = f[first + i * p.step]!;
  return { rowScale };
}

/**
 * The checkpoint's own format decides how a tensor is read (a dequant transform is not needed); a
 * dequant transform that names another format means the config and the checkpoint disagree.
 */
function checkDequant(name: string, source: SourceTensor, pieces: readonly Piece[]): void {
  const actual = source.kind === "fp8" ? "fp8_block" : source.kind === "mxfp4" ? "mxfp4" : undefined;
  const said = pieces.find((p) => p.dequant !== undefined && p.dequant !== actual);
  if (!said) return;
  throw invalidInput(
    "layout/source-format",
    `tensor ${name}: the program expects ${said.dequant} weights but the checkpoint stores ${sourceLabel(source)}`,
    {
      fix: "the config's quantization_config and the weights disagree: download both from the same revision",
    },
  );
}

/**
 * Writes `<out>/weights.bin` and `<out>/weights.json` for a finalized plan. `segments` must be the
 * ones given to finalizeLayout. Runs validateCheckpoint's checks on the plan's tensors first.
 */
export async function writeWeightImage(
  wp: WeightPlan,
  segments: readonly StreamSegment[],
  source: WeightSource,
  out: string,
  opts: WriteImageOptions = {},
): Promise<WeightImageResult> {
  checkSegmentsMatch(wp, segments);
  const checked = throwOnCheckpointErrors(validatePlanSources(wp.layout.tensors, source));
  const used = usedNames(wp, source);
  const unused = source
    .names()
    .filter((n) => !used.has(n))
    .sort();
  const warnings = [...(wp.layout.warnings ?? []), ...(wp.warnings ?? []), ...checked];
  await mkdir(out, { recursive: true });
  const final = join(out, "weights.bin");
  const tmp = join(out, `.weights.bin.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  const fh = await open(tmp, "w+");
  const run = runner(opts);
  const log = opts.logger ?? silentLogger;
  try {
    await fh.truncate(wp.image.bytes);
    const img = new ImageJob(wp, source, fh, opts);
    for (const t of wp.tensors) {
      if (t.format === "int4") continue;
      img.tensorSha.set(t.id, await writeVector(fh, source, t, tensorFileOffset(wp, t)));
    }
    const pieces = buildPieces(wp);
    img.linkMirrors(pieces);
    try {
      await quantizeAll(img, pieces, run, log);
    } finally {
      await img.out.drain().catch(() => undefined);
      await img.raw.close();
    }
    await fh.close();
    const errors = new Map(
      [...img.stats].map(([k, v]) => [k, { source: v.source, summary: v.stats.summary() }]),
    );
    const manifest = buildManifest({
      plan: wp,
      segmentSha: img.segmentSha,
      tensorSha: img.tensorSha,
      errors,
      unused,
      warnings,
    });
    await rename(tmp, final);
    await writeFileAtomic(join(out, "weights.json"), prettyJson(manifest));
    log.info(`weights.bin ${wp.image.bytes} bytes, digest ${manifest.digest.slice(0, 16)}; ${wp.summary}`);
    return { digest: manifest.digest, manifest, warnings };
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  } finally {
    await run.close();
  }
}

/** Checkpoint tensors the image reads (sources of every planned tensor and folded norm). */
function usedNames(wp: WeightPlan, src: WeightSource): Set<string> {
  const out = new Set<string>();
  for (const p of wp.layout.tensors) {
    const s = findSource(src, p.tensor);
    if (!s) continue;
    if (s.kind === "float") out.add(s.entry.name);
    else if (s.kind === "fp8") out.add(s.entry.name).add(s.scale.name);
    else out.add(s.blocks.name).add(s.scales.name);
  }
  return out;
}
