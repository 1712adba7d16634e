/**
 * What one NPU instruction costs: the unit it occupies and either a fixed number of cycles (MEMSET,
 * CVO, L2→L2 MEMCPY) or a streaming phase (GEMV/GEMM taking their weight tile from the ports that
 * feed the engine, MEMCPY host↔L2 through the ACP channels) followed by a pipeline tail. Shapes come
 * from the constant cache (docs/program.md §4) the MEMSETs before wrote; rates from the TimingModel.
 *
 *   GEMV cycles = max(N·K / (MAC/clk per core × lanes), weight arrival) + pipeline latency
 *   GEMM cycles = max(M·N·K / (array MAC/clk), weight arrival) + fill latency
 *   CVO  cycles = latency + length / elements per clk
 */
import type { NpuInstr } from "../../codegen/program.js";
import { invalidInput } from "../../diag/index.js";
import { type TileFormat, tileLayout } from "../sim/tile.js";
import type { TimingModel, Unit } from "./resources.js";

export type FieldMap = Readonly<Record<string, unknown>>;

/** One channel's share of a streaming instruction. */
export interface WorkPart {
  readonly channel: string;
  readonly bytes: number;
}

export interface Work {
  readonly unit: Unit;
  readonly async: boolean;
  /** Cycles of the fixed part (the whole cost when there is no streaming phase). */
  readonly fixed: number;
  /** Streaming phase: bytes per channel, and its length at full rate (cycles). */
  readonly parts: readonly WorkPart[];
  readonly streamCycles: number;
  /** Cycles after the streaming phase (pipeline latency, fill). */
  readonly tail: number;
  readonly macs: number;
  readonly l2Read: number;
  readonly l2Write: number;
  /** MEMSET: the constant-cache write it performs. */
  readonly constWrite?: { readonly bank: string; readonly entry: number; readonly values: readonly number[] };
  /** Short description for the trace, e.g. "GEMV 1×2048×2048". */
  readonly what: string;
}

/** The constant cache as the timing simulator tracks it (values only). */
const ZEROS: readonly number[] = [0, 0, 0];
const BANK_INDEX: Readonly<Record<string, number>> = { fmap_shape: 0, weight_shape: 1 };
const key = (bank: string, entry: number) => (BANK_INDEX[bank] ?? 2) * 65536 + entry;

export class ConstCache {
  /** Key: bank index × 65536 + entry (numbers: this is read at every instruction). */
  private readonly vals = new Map<number, readonly number[]>();

  clone(): ConstCache {
    const c = new ConstCache();
    for (const [k, v] of this.vals) c.vals.set(k, v);
    return c;
  }

  write(bank: string, entry: number, values: readonly number[]): void {
    this.vals.set(key(bank, entry), values);
  }

  /** An entry's (a, b, c); an entry never written or a bank the target does not read gives zeros. */
  read(m: TimingModel, bank: string, entry: number): readonly number[] {
    if (m.constBankRead.get(bank) === false) return ZEROS;
    return this.vals.get(key(bank, entry)) ?? ZEROS;
  }
}

/** Memo of tile bytes: format key → rows × 65536 + k → bytes (or the reason the tile is invalid). */
const tileMemo = new Map<string, Map<number, number | string>>();

/**
 * Bytes of a rows × k tile in format `fmt`: the functional simulator's tileLayout (the definition
 * of the formats), memoised — it allocates its offset tables, and this runs for every GEMV.
 */
function tileBytesOf(rows: number, k: number, fmt: TileFormat, fmtKey: string): number | string {
  let byShape = tileMemo.get(fmtKey);
  if (!byShape) {
    byShape = new Map();
    tileMemo.set(fmtKey, byShape);
  }
  const shape = rows * 65536 + k;
  let v = byShape.get(shape);
  if (v === undefined) {
    const lay = tileLayout(rows, k, fmt);
    v = typeof lay === "string" ? lay : lay.bytes;
    if (byShape.size > 65536) byShape.clear();
    byShape.set(shape, v);
  }
  return v;
}

const FMT_KEYS = new Map<number, string>();
/** A short key of a tile format (memoised per order/group/scales combination). */
function fmtKeyOf(order: number, group: number, scales: boolean, dtype: string): string {
  const code =
    ((order * 2 + (scales ? 1 : 0)) * 65536 + group) * 4 + (dtype === "f32" ? 1 : dtype === "f16" ? 2 : 0);
  let k = FMT_KEYS.get(code);
  if (k === undefined) {
    k = `${order}/${group}/${scales ? 1 : 0}/${dtype}`;
    FMT_KEYS.set(code, k);
  }
  return k;
}

const n = (v: unknown): number => (typeof v === "number" ? v : 0);
const flag = (f: FieldMap, name: string, bit: string): number => {
  const v = f[name];
  return typeof v === "object" && v !== null ? n((v as Record<string, unknown>)[bit]) : 0;
};

const NO_PARTS: readonly WorkPart[] = [];

/** A Work with every field given (one object literal: this runs once per instruction). */
function mk(
  unit: Unit,
  what: string,
  o: {
    async?: boolean;
    fixed?: number;
    parts?: readonly WorkPart[];
    streamCycles?: number;
    tail?: number;
    macs?: number;
    l2Read?: number;
    l2Write?: number;
  },
): Work {
  return {
    unit,
    async: o.async ?? false,
    fixed: o.fixed ?? 0,
    parts: o.parts ?? NO_PARTS,
    streamCycles: o.streamCycles ?? 0,
    tail: o.tail ?? 0,
    macs: o.macs ?? 0,
    l2Read: o.l2Read ?? 0,
    l2Write: o.l2Write ?? 0,
    what,
  };
}

function bad(message: string): Error {
  return invalidInput("timing/instruction", message, {
    fix: "the program breaks the execution contract; run the functional simulator (pccxc simulate --functional) for the exact fault",
  });
}

function matmul(m: TimingModel, op: "GEMV" | "GEMM", f: FieldMap, cc: ConstCache, describe: boolean): Work {
  const engine = op === "GEMV" ? "gemv" : "gemm";
  const [mm = 0, nn = 0, k = 0] = cc.read(m, "fmap_shape", n(f.shape_ptr_addr));
  const [order = 0, group = 0] = cc.read(m, "weight_shape", n(f.size_ptr_addr));
  const what = describe ? `${op} ${mm}×${nn}×${k}` : op;
  if (mm === 0 || nn === 0 || k === 0) return mk(engine, what, {});
  const ports = m.feeds[engine];
  const scales = flag(f, "flags", "w_scale") === 1;
  const fmt: TileFormat = { order: order === 1 ? 1 : 0, group, scales, scaleDtype: m.scaleDtype };
  const fk = fmtKeyOf(fmt.order, group, scales, m.scaleDtype);
  const parts: WorkPart[] = [];
  // the rows split over the feeding ports as the functional simulator's splitRows does
  const per = Math.ceil(nn / ports.length);
  for (let j = 0; j < ports.length; j++) {
    const start = Math.min(nn, j * per);
    const count = Math.min(nn, start + per) - start;
    if (count === 0) continue;
    const bytes = tileBytesOf(count, k, fmt, fk);
    if (typeof bytes === "string") throw bad(`${op} weight tile ${count}×${k}: ${bytes}`);
    parts.push({ channel: ports[j]!, bytes });
  }
  const macs = mm * nn * k;
  const lanes = n(f.parallel_lane) || m.gemv.cores;
  const rate = op === "GEMV" ? m.gemv.macsPerCycleCore * Math.min(lanes, m.gemv.cores) : m.gemm.macsPerCycle;
  const act = m.l2.activationBytes;
  return mk(engine, what, {
    parts,
    streamCycles: macs / rate,
    tail: op === "GEMV" ? m.gemv.latency : m.gemm.fillLatency,
    macs,
    l2Read: mm * k * act + (flag(f, "flags", "accm") ? mm * nn * act : 0),
    l2Write: mm * nn * act,
  });
}

function cvo(m: TimingModel, f: FieldMap, describe: boolean): Work {
  const raw = f.cvo_func;
  const name = typeof raw === "number" ? m.cvoByCode.get(raw) : String(raw);
  const fn = name !== undefined ? m.cvo.get(name) : undefined;
  if (!fn || name === undefined)
    throw bad(`CVO function ${String(raw)} is not one target ${m.target.file.name} declares`);
  const len = n(f.length);
  const act = m.l2.activationBytes;
  const reduce = name === "REDUCE_SUM";
  return mk("sfu", describe ? `CVO ${name} ${len}` : name, {
    async: n(f.async) === 1 && m.control.asyncSupported,
    fixed: len === 0 ? 0 : fn.latency + len / fn.elementsPerCycle,
    l2Read: len * act * (flag(f, "flags", "accm") ? 2 : 1),
    l2Write: reduce ? act : len * act,
  });
}

function memcpy(m: TimingModel, f: FieldMap, cc: ConstCache, describe: boolean): Work {
  const [a = 0, b = 0, c = 0] = cc.read(m, "fmap_shape", n(f.shape_ptr_addr));
  const words = Math.ceil((a * b * c) / m.l2.elementsPerWord);
  const bytes = words * m.l2.wordBytes;
  const from = n(f.from_device);
  const to = n(f.to_device);
  const dir = from === 1 && to === 0 ? "host→L2" : from === 0 && to === 1 ? "L2→host" : "L2→L2";
  const what = describe ? `MEMCPY ${dir} ${words}w` : "MEMCPY";
  const async = n(f.async) === 1 && m.control.asyncSupported;
  if (words === 0) return mk("dma", what, { async });
  if (dir === "L2→L2")
    return mk("dma", what, { async, fixed: words / m.l2.l2ToL2WordsPerCycle, l2Read: bytes, l2Write: bytes });
  const channel = dir === "host→L2" ? m.l2In : m.l2Out;
  if (!channel) throw bad(`MEMCPY ${dir}: target ${m.target.file.name} has no ACP channel for it`);
  const into = dir === "host→L2";
  return mk("dma", what, {
    async,
    parts: [{ channel, bytes }],
    streamCycles: words / m.l2.npuWordsPerCycle,
    l2Write: into ? bytes : 0,
    l2Read: into ? 0 : bytes,
  });
}

function memset(m: TimingModel, f: FieldMap, describe: boolean): Work {
  const raw = f.dest_cache;
  const bank = typeof raw === "number" ? m.constBanks.get(raw) : String(raw);
  if (!bank) throw bad(`MEMSET dest_cache ${String(raw)} names no constant-cache bank`);
  return {
    ...mk("const_cache", describe ? `MEMSET ${bank}[${n(f.dest_addr)}]` : "MEMSET", {
      fixed: m.control.memset,
    }),
    constWrite: { bank, entry: n(f.dest_addr), values: [n(f.a_value), n(f.b_value), n(f.c_value)] },
  };
}

/**
 * The work of one instruction with its (relocated) fields, given the constant cache now.
 * `describe`: give `what` its full text (for trace events; skipped otherwise, it costs time).
 */
export function workOf(
  m: TimingModel,
  instr: NpuInstr,
  fields: FieldMap,
  cc: ConstCache,
  describe = true,
): Work {
  const unit = m.unitOf.get(instr.opcode);
  if (!unit) throw bad(`target ${m.target.file.name} has no ${instr.opcode} instruction`);
  // The unit comes from the target's opcode table; the cost model from the opcode.
  const w = costOf(m, instr, fields, cc, describe);
  return w.unit === unit ? w : { ...w, unit };
}

function costOf(m: TimingModel, instr: NpuInstr, fields: FieldMap, cc: ConstCache, describe: boolean): Work {
  switch (instr.opcode) {
    case "GEMV":
    case "GEMM":
      return matmul(m, instr.opcode, fields, cc, describe);
    case "CVO":
      return cvo(m, fields, describe);
    case "MEMCPY":
      return memcpy(m, fields, cc, describe);
    case "MEMSET":
      return memset(m, fields, describe);
  }
}
