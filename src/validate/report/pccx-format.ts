/**
 * The pccx-lab `.pccx` container, version 1.1, `flatbuf` payload: the constants and the writer.
 * Layout and field order follow pccx-lab's own reader/writer (`crates/core/src/pccx_format.rs` and
 * `crates/core/src/trace.rs` in github.com/hwkim-dev/pccx-lab); docs/reports.md gives it byte by byte.
 */
import { invalidInput } from "../../diag/index.js";
import { fnv1a64 } from "../../util/hash.js";
import { VERSION } from "../../version.js";
import { checkTimeline, type EventKind, type Timeline } from "./timeline.js";

export const PCCX_MAGIC = "PCCX";
export const PCCX_MAJOR = 1;
export const PCCX_MINOR = 1;
/** magic(4) + major(1) + minor(1) + reserved(2) + header length u64(8). */
export const PCCX_PREAMBLE_BYTES = 16;
/** u32 core_id, u64 start_cycle, u64 duration, u32 event_type_id, little-endian. */
export const PCCX_RECORD_BYTES = 24;

/** pccx-lab's `event_type_id` table (trace.rs); index = id. */
export const PCCX_EVENT_TYPES = [
  "UNKNOWN",
  "MAC_COMPUTE",
  "DMA_READ",
  "DMA_WRITE",
  "SYSTOLIC_STALL",
  "BARRIER_SYNC",
  "API_CALL",
] as const;
export type PccxEventType = (typeof PCCX_EVENT_TYPES)[number];

/**
 * Timeline kinds → pccx-lab event ids. Host operations are computation on their own core id (the
 * host track), so they are MAC_COMPUTE; API_CALL stays for driver-API crossings (MMIO issue).
 */
export const KIND_TO_PCCX_EVENT: Readonly<Record<EventKind, number>> = {
  compute: 1,
  dma_read: 2,
  dma_write: 3,
  stall: 4,
  barrier: 5,
  api: 6,
  host: 1,
};

/** The `arch` object of the JSON header (pccx-lab `ArchConfig`); comes from the target. */
export interface PccxArch {
  /** Systolic MAC array [rows, cols]. */
  readonly macDims: readonly [number, number];
  readonly isaVersion: string;
  /** Informational peak, tera-ops per second. */
  readonly peakTops: number;
}

export interface PccxWriteOptions {
  readonly arch: PccxArch;
  /** Written as `pccx_lab_version` (informational); default `pccxc <version>`. */
  readonly producer?: string;
}

/** `0x` + 16 lowercase hex digits, the form used in messages and accepted by the reader. */
export function formatFnv64(h: bigint): string {
  return `0x${h.toString(16).padStart(16, "0")}`;
}

function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw invalidInput("report/pccx-range", `${what} must be a u32, got ${value}`, {
      fix: "the .pccx header stores it as an unsigned 32-bit integer",
    });
  }
  return value;
}

/** Encodes the timeline's events as 24-byte records, sorted by start cycle (pccx-lab's viewport
 * binary-searches start_cycle), then core id, then input order. Core id = track index. */
export function encodePccxRecords(t: Timeline): Uint8Array {
  const trackIndex = checkTimeline(t);
  const recs = t.events.map((e, i) => ({ core: trackIndex.get(e.track)!, e, i }));
  recs.sort((a, b) => a.e.startCycle - b.e.startCycle || a.core - b.core || a.i - b.i);
  const out = new Uint8Array(recs.length * PCCX_RECORD_BYTES);
  const view = new DataView(out.buffer);
  recs.forEach(({ core, e }, n) => {
    const off = n * PCCX_RECORD_BYTES;
    view.setUint32(off, core, true);
    view.setBigUint64(off + 4, BigInt(e.startCycle), true);
    view.setBigUint64(off + 12, BigInt(e.durationCycles), true);
    view.setUint32(off + 20, KIND_TO_PCCX_EVENT[e.kind], true);
  });
  return out;
}

/**
 * The JSON header, compact and in pccx-lab's serde field order. `checksum_fnv64` is a bare JSON
 * integer because pccx-lab declares it `Option<u64>` (a string would fail its parser);
 * `pccxc_tracks` (ignored by pccx-lab) names each core id.
 */
export function pccxHeaderJson(
  t: Timeline,
  payload: Uint8Array,
  opts: PccxWriteOptions,
  checksum: bigint,
): string {
  if (!Number.isInteger(t.clockMhz)) {
    throw invalidInput(
      "report/pccx-clock",
      `the .pccx header needs an integer clock, got ${t.clockMhz} MHz`,
      {
        at: { jsonPath: "$.clockMhz" },
        fix: "pccx-lab stores clock_mhz as a u32; give the timeline an integer MHz clock",
      },
    );
  }
  const s = JSON.stringify;
  const [rows, cols] = opts.arch.macDims;
  const arch = `{"mac_dims":[${u32(rows, "arch.macDims[0]")},${u32(cols, "arch.macDims[1]")}],"isa_version":${s(opts.arch.isaVersion)},"peak_tops":${s(opts.arch.peakTops)}}`;
  const trace = `{"cycles":${t.cycles},"cores":${u32(t.tracks.length, "track count")},"clock_mhz":${u32(t.clockMhz, "clockMhz")}}`;
  const pay = `{"encoding":"flatbuf","byte_length":${payload.length},"checksum_fnv64":${checksum.toString()}}`;
  const tracks = s(t.tracks.map((tr) => tr.name));
  const producer = s(opts.producer ?? `pccxc ${VERSION}`);
  return `{"pccx_lab_version":${producer},"arch":${arch},"trace":${trace},"payload":${pay},"format_minor":${PCCX_MINOR},"pccxc_tracks":${tracks}}`;
}

/** The whole `.pccx` file for a timeline. */
export function encodePccxTrace(t: Timeline, opts: PccxWriteOptions): Uint8Array {
  const payload = encodePccxRecords(t);
  const checksum = fnv1a64(payload);
  const header = new TextEncoder().encode(pccxHeaderJson(t, payload, opts, checksum));
  const out = new Uint8Array(PCCX_PREAMBLE_BYTES + header.length + payload.length);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(PCCX_MAGIC), 0);
  view.setUint8(4, PCCX_MAJOR);
  view.setUint8(5, PCCX_MINOR);
  // bytes 6..7 reserved, left zero
  view.setBigUint64(8, BigInt(header.length), true);
  out.set(header, PCCX_PREAMBLE_BYTES);
  out.set(payload, PCCX_PREAMBLE_BYTES + header.length);
  return out;
}
