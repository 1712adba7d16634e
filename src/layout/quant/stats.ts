/**
 * Quantization error statistics of one tensor, accumulated in a single streaming pass. The kernel
 * sums each row in float64 (a row is never split between blocks or threads) and adds the row sums to
 * exact accumulators, so merging partial statistics in any grouping or order gives bit-identical
 * results to one pass over the whole tensor.
 */
import { ExactSum } from "./exact-sum.js";

/** Per-row sums produced by the kernel. */
export interface RowSums {
  /** Elements in the row. */
  readonly n: number;
  /** Σ w² */
  readonly sumSq: number;
  /** Σ (w − ŵ)² */
  readonly sumErrSq: number;
  /** Σ ŵ² */
  readonly sumDeqSq: number;
  /** Σ w·ŵ */
  readonly sumCross: number;
  /** max |w − ŵ| */
  readonly maxAbsError: number;
  /** max |w| */
  readonly maxAbsWeight: number;
  /** Elements whose code was clamped to the INT4 range (only with clipping or tiny F16 scales). */
  readonly clamped: number;
}

/** Plain-data form of QuantStats, for postMessage and JSON dumps. */
export interface QuantStatsData {
  readonly count: number;
  readonly clamped: number;
  readonly maxAbsError: number;
  readonly maxAbsWeight: number;
  readonly sumSq: readonly number[];
  readonly sumErrSq: readonly number[];
  readonly sumDeqSq: readonly number[];
  readonly sumCross: readonly number[];
}

/** What a report shows for one tensor. */
export interface ErrorSummary {
  readonly count: number;
  readonly rmse: number;
  readonly maxAbsError: number;
  /** 10·log10(Σw² / Σ(w−ŵ)²); +Infinity when the quantization is exact. */
  readonly snrDb: number;
  /** Cosine similarity of w and ŵ (1 when both are all zero, 0 when only one is). */
  readonly cosine: number;
  readonly maxAbsWeight: number;
  readonly clamped: number;
}

export class QuantStats {
  count = 0;
  clamped = 0;
  maxAbsError = 0;
  maxAbsWeight = 0;
  readonly sumSq: ExactSum;
  readonly sumErrSq: ExactSum;
  readonly sumDeqSq: ExactSum;
  readonly sumCross: ExactSum;

  constructor(data?: QuantStatsData) {
    this.sumSq = new ExactSum(data?.sumSq);
    this.sumErrSq = new ExactSum(data?.sumErrSq);
    this.sumDeqSq = new ExactSum(data?.sumDeqSq);
    this.sumCross = new ExactSum(data?.sumCross);
    if (data) {
      this.count = data.count;
      this.clamped = data.clamped;
      this.maxAbsError = data.maxAbsError;
      this.maxAbsWeight = data.maxAbsWeight;
    }
  }

  addRow(r: RowSums): void {
    this.count += r.n;
    this.clamped += r.clamped;
    if (r.maxAbsError > this.maxAbsError) this.maxAbsError = r.maxAbsError;
    if (r.maxAbsWeight > this.maxAbsWeight) this.maxAbsWeight = r.maxAbsWeight;
    this.sumSq.add(r.sumSq);
    this.sumErrSq.add(r.sumErrSq);
    this.sumDeqSq.add(r.sumDeqSq);
    this.sumCross.add(r.sumCross);
  }

  merge(o: QuantStats): this {
    this.count += o.count;
    this.clamped += o.clamped;
    if (o.maxAbsError > this.maxAbsError) this.maxAbsError = o.maxAbsError;
    if (o.maxAbsWeight > this.maxAbsWeight) this.maxAbsWeight = o.maxAbsWeight;
    this.sumSq.merge(o.sumSq);
    this.sumErrSq.merge(o.sumErrSq);
    this.sumDeqSq.merge(o.sumDeqSq);
    this.sumCross.merge(o.sumCross);
    return this;
  }

  toData(): QuantStatsData {
    return {
      count: this.count,
      clamped: this.clamped,
      maxAbsError: this.maxAbsError,
      maxAbsWeight: this.maxAbsWeight,
      sumSq: this.sumSq.toJSON(),
      sumErrSq: this.sumErrSq.toJSON(),
      sumDeqSq: this.sumDeqSq.toJSON(),
      sumCross: this.sumCross.toJSON(),
    };
  }

  summary(): ErrorSummary {
    return summarize(
      this.count,
      this.sumSq.value(),
      this.sumErrSq.value(),
      this.sumDeqSq.value(),
      this.sumCross.value(),
      this,
    );
  }
}

function summarize(
  count: number,
  sumSq: number,
  sumErrSq: number,
  sumDeqSq: number,
  sumCross: number,
  s: { maxAbsError: number; maxAbsWeight: number; clamped: number },
): ErrorSummary {
  const rmse = count > 0 ? Math.sqrt(sumErrSq / count) : 0;
  const snrDb = sumErrSq === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(sumSq / sumErrSq);
  let cosine: number;
  if (sumSq === 0 && sumDeqSq === 0) cosine = 1;
  else if (sumSq === 0 || sumDeqSq === 0) cosine = 0;
  else cosine = Math.min(1, Math.max(-1, sumCross / (Math.sqrt(sumSq) * Math.sqrt(sumDeqSq))));
  return {
    count,
    rmse,
    maxAbsError: s.maxAbsError,
    snrDb,
    cosine,
    maxAbsWeight: s.maxAbsWeight,
    clamped: s.clamped,
  };
}

/** JSON-safe form of a summary: an infinite SNR (exact quantization) becomes the string "inf". */
export function summaryToJson(s: ErrorSummary): Record<string, number | string> {
  return { ...s, snrDb: Number.isFinite(s.snrDb) ? s.snrDb : "inf" };
}
