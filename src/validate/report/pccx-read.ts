/**
 * Reader for `.pccx` 1.x files with a `flatbuf` payload. Compatible where pccx-lab's reader is
 * lenient (any minor version, reserved bytes and unknown header fields ignored, missing
 * `clock_mhz` = 1000), strict where a file could be damaged: header length, `byte_length` against
 * the bytes present, record alignment and the FNV-1a checksum are errors, each with its byte offset.
 */
import { invalidInput, type PccxError, unsupported } from "../../diag/index.js";
import { fnv1a64 } from "../../util/hash.js";
import {
  formatFnv64,
  PCCX_EVENT_TYPES,
  PCCX_MAGIC,
  PCCX_MAJOR,
  PCCX_PREAMBLE_BYTES,
  PCCX_RECORD_BYTES,
} from "./pccx-format.js";

export interface PccxRecord {
  readonly coreId: number;
  readonly startCycle: number;
  readonly duration: number;
  readonly eventTypeId: number;
  /** Name from pccx-lab's table, "UNKNOWN" for ids it does not define. */
  readonly eventType: string;
}

export interface PccxHeader {
  readonly pccxLabVersion: string;
  readonly formatMinor: number;
  readonly arch?: {
    readonly macDims: readonly [number, number];
    readonly isaVersion: string;
    readonly peakTops: number;
  };
  readonly trace: { readonly cycles: number; readonly cores: number; readonly clockMhz: number };
  readonly payload: {
    readonly encoding: string;
    readonly byteLength: number;
    readonly checksumFnv64: bigint | null;
  };
  /** pccxc's names of the core ids (index = core id), when the file came from pccxc. */
  readonly tracks?: readonly string[];
}

export interface PccxTraceFile {
  readonly major: number;
  readonly minor: number;
  readonly header: PccxHeader;
  /** The header exactly as parsed (integers beyond 2^53 kept as decimal strings). */
  readonly rawHeader: Readonly<Record<string, unknown>>;
  /** False only when the header carries no checksum (pccx-lab allows `null`). */
  readonly checksumVerified: boolean;
  readonly records: readonly PccxRecord[];
}

const FIX_DAMAGED = "the file is damaged or not a pccx trace; write it again";

function fail(code: string, message: string, byteOffset: number, fix = FIX_DAMAGED): PccxError {
  return invalidInput(code, message, { at: { byteOffset }, fix });
}

/** Quotes integer literals too large for a double so that JSON.parse keeps every digit. */
export function quoteLargeIntegers(text: string): string {
  let out = "";
  let i = 0;
  const num = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      num.lastIndex = i;
      const m = num.exec(text);
      const tok = m ? m[0] : c;
      const big = /^-?\d+$/.test(tok) && !Number.isSafeInteger(Number(tok));
      out += big ? `"${tok}"` : tok;
      i += tok.length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads typed fields of the header, each failure naming its JSON path. */
class HeaderFields {
  constructor(private readonly at: number) {}

  field(code: string, path: string, msg: string): PccxError {
    return invalidInput(code, `header field ${path} ${msg}`, {
      at: { byteOffset: this.at, jsonPath: path },
      fix: "write the header as pccx-lab's PccxHeader (docs/reports.md)",
    });
  }

  obj(o: Obj, key: string, path: string): Obj {
    const v = o[key];
    if (!isObj(v))
      throw this.field("report/pccx-header-field", `${path}.${key}`, "is missing or not an object");
    return v;
  }

  uint(o: Obj, key: string, path: string, dflt?: number): number {
    const v = o[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
    if (typeof v === "string" && /^\d+$/.test(v)) {
      throw this.field(
        "report/pccx-u64-range",
        `${path}.${key}`,
        `= ${v} is beyond 2^53, which pccxc cannot hold`,
      );
    }
    throw this.field(
      "report/pccx-header-field",
      `${path}.${key}`,
      "is missing or not a non-negative integer",
    );
  }

  string(o: Obj, key: string, path: string): string {
    const v = o[key];
    if (typeof v !== "string")
      throw this.field("report/pccx-header-field", `${path}.${key}`, "is missing or not a string");
    return v;
  }

  checksum(o: Obj, path: string): bigint | null {
    const v = o["checksum_fnv64"];
    if (v === undefined || v === null) return null;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    // A bare integer beyond 2^53 (pccx-lab's form, quoted by quoteLargeIntegers) or "0x" + hex.
    if (typeof v === "string" && /^(\d{1,20}|0x[0-9a-fA-F]{1,16})$/.test(v) && BigInt(v) < 1n << 64n) {
      return BigInt(v);
    }
    throw this.field(
      "report/pccx-header-field",
      `${path}.checksum_fnv64`,
      `is not a u64 (got ${JSON.stringify(v)})`,
    );
  }
}

function parseHeader(bytes: Uint8Array, at: number): { raw: Obj; header: PccxHeader } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fail("report/pccx-header-utf8", "the JSON header is not valid UTF-8", at);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(quoteLargeIntegers(text));
  } catch (e) {
    throw fail("report/pccx-header-json", `the JSON header does not parse: ${(e as Error).message}`, at);
  }
  if (!isObj(raw)) throw fail("report/pccx-header-json", "the JSON header is not a JSON object", at);
  const f = new HeaderFields(at);
  const trace = f.obj(raw, "trace", "$");
  const payload = f.obj(raw, "payload", "$");
  let arch: PccxHeader["arch"];
  if (raw["arch"] !== undefined) {
    const a = f.obj(raw, "arch", "$");
    const dims = a["mac_dims"];
    if (!Array.isArray(dims) || dims.length !== 2 || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw f.field("report/pccx-header-field", "$.arch.mac_dims", "is not a pair of unsigned integers");
    }
    const peak = a["peak_tops"] ?? 0;
    if (typeof peak !== "number")
      throw f.field("report/pccx-header-field", "$.arch.peak_tops", "is not a number");
    arch = { macDims: [dims[0], dims[1]], isaVersion: f.string(a, "isa_version", "$.arch"), peakTops: peak };
  }
  const tracks = raw["pccxc_tracks"];
  const header: PccxHeader = {
    pccxLabVersion: f.string(raw, "pccx_lab_version", "$"),
    formatMinor: f.uint(raw, "format_minor", "$", 0),
    ...(arch ? { arch } : {}),
    trace: {
      cycles: f.uint(trace, "cycles", "$.trace"),
      cores: f.uint(trace, "cores", "$.trace"),
      clockMhz: f.uint(trace, "clock_mhz", "$.trace", 1000),
    },
    payload: {
      encoding: f.string(payload, "encoding", "$.payload"),
      byteLength: f.uint(payload, "byte_length", "$.payload"),
      checksumFnv64: f.checksum(payload, "$.payload"),
    },
    ...(Array.isArray(tracks) && tracks.every((x) => typeof x === "string") ? { tracks } : {}),
  };
  return { raw, header };
}

function readU64(view: DataView, off: number): number {
  const v = view.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw fail(
      "report/pccx-u64-range",
      `u64 ${v} at byte ${off} is beyond 2^53, which pccxc cannot hold`,
      off,
    );
  }
  return Number(v);
}

/** Decodes and checks a `.pccx` file; throws a PccxError (exit 2, or 3 for other versions/encodings). */
export function readPccxTrace(bytes: Uint8Array): PccxTraceFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < PCCX_PREAMBLE_BYTES) {
    throw fail(
      "report/pccx-truncated",
      `file is ${bytes.length} bytes, shorter than the 16-byte preamble`,
      0,
    );
  }
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== PCCX_MAGIC) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw fail("report/pccx-magic", `bad magic: expected "PCCX" (50 43 43 58), found ${hex}`, 0);
  }
  const major = bytes[4]!;
  const minor = bytes[5]!;
  if (major !== PCCX_MAJOR) {
    throw unsupported(
      "report/pccx-version",
      `unsupported .pccx major version ${major} (this reader reads ${PCCX_MAJOR}.x)`,
      {
        at: { byteOffset: 4 },
        fix: "convert the file with a pccx-lab release that writes major version 1",
      },
    );
  }
  const headerLen = view.getBigUint64(8, true);
  const room = bytes.length - PCCX_PREAMBLE_BYTES;
  if (headerLen > BigInt(room)) {
    throw fail(
      "report/pccx-header-length",
      `header length ${headerLen} exceeds the ${room} bytes after the preamble`,
      8,
    );
  }
  const payloadAt = PCCX_PREAMBLE_BYTES + Number(headerLen);
  const { raw, header } = parseHeader(bytes.subarray(PCCX_PREAMBLE_BYTES, payloadAt), PCCX_PREAMBLE_BYTES);
  const present = bytes.length - payloadAt;
  if (header.payload.byteLength !== present) {
    const how =
      present < header.payload.byteLength ? "the file is truncated" : "extra bytes follow the payload";
    throw fail(
      "report/pccx-byte-length",
      `payload.byte_length is ${header.payload.byteLength} but ${present} bytes follow the header: ${how}`,
      payloadAt,
    );
  }
  if (header.payload.encoding !== "flatbuf") {
    throw unsupported(
      "report/pccx-encoding",
      `payload encoding "${header.payload.encoding}" is not supported`,
      {
        at: { byteOffset: PCCX_PREAMBLE_BYTES, jsonPath: "$.payload.encoding" },
        fix: 'pccxc reads the "flatbuf" encoding (24-byte records); re-export the trace with it',
      },
    );
  }
  if (present % PCCX_RECORD_BYTES !== 0) {
    throw fail(
      "report/pccx-alignment",
      `payload of ${present} bytes is not a whole number of ${PCCX_RECORD_BYTES}-byte records ` +
        `(${present % PCCX_RECORD_BYTES} bytes left over; pccxc does not read the optional "PCC2" name trailer)`,
      payloadAt + present - (present % PCCX_RECORD_BYTES),
    );
  }
  const payload = bytes.subarray(payloadAt);
  const expected = header.payload.checksumFnv64;
  if (expected !== null) {
    const actual = fnv1a64(payload);
    if (actual !== expected) {
      throw fail(
        "report/pccx-checksum",
        `payload checksum mismatch: header says ${formatFnv64(expected)}, payload hashes to ${formatFnv64(actual)}`,
        payloadAt,
      );
    }
  }
  const records: PccxRecord[] = [];
  for (let off = payloadAt; off < bytes.length; off += PCCX_RECORD_BYTES) {
    const eventTypeId = view.getUint32(off + 20, true);
    records.push({
      coreId: view.getUint32(off, true),
      startCycle: readU64(view, off + 4),
      duration: readU64(view, off + 12),
      eventTypeId,
      eventType: PCCX_EVENT_TYPES[eventTypeId] ?? "UNKNOWN",
    });
  }
  return { major, minor, header, rawHeader: raw, checksumVerified: expected !== null, records };
}
