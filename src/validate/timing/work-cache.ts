/**
 * Works of one segment's instructions, kept across the runs of a TimingSession. A Work is a pure
 * function of the instruction, its (relocated) fields, the constant-cache entries it reads and the
 * timing model (work.ts), and every run replays the same steps — so a step whose fields and
 * constant entries hold the same values as in an earlier run gets that run's Work back instead of a
 * new one (plan times a segment several times; a prefill chunk has ~10⁵ instructions).
 *
 * The key is what workOf reads: the fields (the step's own object, or a relocated copy compared key
 * by key — its nested objects such as `flags` are the step's own) and the values of the constant
 * entries a GEMV/GEMM/MEMCPY reads. One entry per step: the last inputs seen.
 */
import type { NpuInstr } from "../../codegen/program.js";
import type { TimingModel } from "./resources.js";
import { type ConstCache, type FieldMap, type Work, workOf } from "./work.js";

interface Entry {
  readonly fields: FieldMap;
  readonly a: readonly number[] | undefined;
  readonly b: readonly number[] | undefined;
  readonly work: Work;
}

/** Same constant entry values (workOf reads only the values). */
function sameValues(x: readonly number[] | undefined, y: readonly number[] | undefined): boolean {
  if (x === y) return true;
  if (x === undefined || y === undefined || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Same fields: the same object, or the same keys with identical values (a relocated copy of the
 * step's fields from another run: its nested objects, e.g. `flags`, are the step's own).
 */
function sameFields(x: FieldMap, y: FieldMap): boolean {
  if (x === y) return true;
  let n = 0;
  for (const k in y) {
    if (!Object.hasOwn(x, k) || x[k] !== y[k]) return false;
    n++;
  }
  for (const k in x) if (Object.hasOwn(x, k)) n--;
  return n === 0;
}

const ptr = (v: unknown): number => (typeof v === "number" ? v : 0);

export class WorkCache {
  private readonly entries: (Entry | undefined)[] = [];

  constructor(
    readonly m: TimingModel,
    /** Whether the Works carry their full description (runs collecting a timeline). */
    readonly describe: boolean,
  ) {}

  /** The Work of step `index` (workOf's result for these inputs, reused when they are the same objects). */
  work(index: number, instr: NpuInstr, fields: FieldMap, cc: ConstCache): Work {
    const m = this.m;
    let a: readonly number[] | undefined;
    let b: readonly number[] | undefined;
    const op = instr.opcode;
    // the constant entries costOf reads (work.ts: matmul reads both banks, memcpy the fmap shape)
    if (op === "GEMV" || op === "GEMM" || op === "MEMCPY")
      a = cc.read(m, "fmap_shape", ptr(fields.shape_ptr_addr));
    if (op === "GEMV" || op === "GEMM") b = cc.read(m, "weight_shape", ptr(fields.size_ptr_addr));
    const e = this.entries[index];
    if (e !== undefined && sameValues(e.a, a) && sameValues(e.b, b) && sameFields(e.fields, fields))
      return e.work;
    const work = workOf(m, instr, fields, cc, this.describe);
    this.entries[index] = { fields, a, b, work };
    return work;
  }
}
