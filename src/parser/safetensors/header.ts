/**
 * The safetensors header: an 8-byte little-endian u64 length N, then N bytes of UTF-8 JSON mapping
 * tensor names to {dtype, shape, data_offsets} (plus an optional `__metadata__` string map), then
 * the data section. Every check the format implies is made here, on bytes already read, so the
 * function is pure and can be fuzzed: any malformed input gives a PccxError with exit code 2.
 */
import { invalidInput, type PccxError } from "../../diag/index.js";
import { type DType, dtypeInfo, isDType } from "./dtype.js";

/** Headers larger than this are rejected (the same limit as the reference implementation). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface HeaderTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Offsets relative to the start of the data section, as written in the header. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly file: string;
  /** N, the JSON length. */
  readonly headerLength: number;
  /** Absolute byte offset of the data section: 8 + N. */
  readonly dataStart: number;
  readonly fileSize: number;
  /** Sorted by data offset. */
  readonly tensors: readonly HeaderTensor[];
  readonly metadata: Readonly<Record<string, string>>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads and checks the length prefix; `prefix` holds at least the first 8 bytes of the file. */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize === 0) {
    throw invalidInput("safetensors/empty-file", `${file} is empty (0 bytes), not a safetensors file`, {
      at: { file },
      fix: "re-download the file: it was probably truncated by an interrupted download",
    });
  }
  if (fileSize < 8 || prefix.length < 8) {
    throw invalidInput(
      "safetensors/truncated",
      `${file} is ${fileSize} bytes, shorter than the 8-byte header length field`,
      { at: { file, byteOffset: 0 }, fix: "re-download the file" },
    );
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n === 0n) {
    throw invalidInput("safetensors/header-length", `${file}: header length is 0 (no JSON header)`, {
      at: { file, byteOffset: 0 },
      fix: "the file is not a safetensors file or is corrupt; re-download or re-export it",
    });
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw invalidInput(
      "safetensors/header-length",
      `${file}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`,
      { at: { file, byteOffset: 0 }, fix: "the file is not a safetensors file or is corrupt" },
    );
  }
  const len = Number(n);
  if (8 + len > fileSize) {
    throw invalidInput(
      "safetensors/truncated",
      `${file}: header length ${len} runs past the end of the ${fileSize}-byte file`,
      { at: { file, byteOffset: 0 }, fix: "the file is truncated; re-download it" },
    );
  }
  return len;
}

/** Parses and validates the JSON header (`body` is exactly N bytes) against the file size. */
export function parseHeaderBody(
  body: Uint8Array,
  headerLength: number,
  fileSize: number,
  file: string,
): SafetensorsHeader {
  const text = decodeText(body, file);
  const json = parseJson(text, file);
  const ctx = new HeaderContext(file, text);
  const metadata = readMetadata(json["__metadata__"], ctx);
  const tensors: HeaderTensor[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === "__metadata__") continue;
    tensors.push(readEntry(name, value, ctx));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataEnd = checkContiguous(tensors, ctx);
  const dataStart = 8 + headerLength;
  if (dataStart + dataEnd !== fileSize) {
    const short = dataStart + dataEnd > fileSize;
    throw invalidInput(
      short ? "safetensors/truncated" : "safetensors/size-mismatch",
      `${file}: the header describes ${dataEnd} data bytes after ${dataStart} header bytes ` +
        `(${dataStart + dataEnd} in all) but the file has ${fileSize} bytes` +
        (short ? " (truncated)" : " (trailing bytes)"),
      { at: { file, byteOffset: Math.min(fileSize, dataStart + dataEnd) }, fix: "re-download the file" },
    );
  }
  return { file, headerLength, dataStart, fileSize, tensors, metadata };
}

/** The whole check over an in-memory file (tests, fuzzing, small files). */
export function parseSafetensorsBytes(bytes: Uint8Array, file: string): SafetensorsHeader {
  const n = readHeaderLength(bytes, bytes.length, file);
  return parseHeaderBody(bytes.subarray(8, 8 + n), n, bytes.length, file);
}

function decodeText(body: Uint8Array, file: string): string {
  try {
    return utf8.decode(body);
  } catch {
    throw invalidInput("safetensors/header-utf8", `${file}: the JSON header is not valid UTF-8`, {
      at: { file, byteOffset: 8 + firstInvalidUtf8(body) },
      fix: "the file is corrupt; re-download it",
    });
  }
}

/** Index of the first byte that starts an invalid UTF-8 sequence (error path only). */
function firstInvalidUtf8(body: Uint8Array): number {
  let i = 0;
  while (i < body.length) {
    const b = body[i]!;
    const len =
      b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (len === 0 || i + len > body.length) return i;
    try {
      utf8.decode(body.subarray(i, i + len));
    } catch {
      return i;
    }
    i += len;
  }
  return 0;
}

function parseJson(text: string, file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const byteOffset = 8 + (pos ? Buffer.byteLength(text.slice(0, Number(pos[1]))) : 0);
    throw invalidInput("safetensors/header-json", `${file}: the header is not valid JSON: ${msg}`, {
      at: { file, byteOffset },
      fix: "the file is corrupt or not a safetensors file; re-download it",
    });
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw invalidInput("safetensors/header-json", `${file}: the header must be a JSON object`, {
      at: { file, byteOffset: 8, jsonPath: "$" },
    });
  }
  return v as Record<string, unknown>;
}

/** Locates a tensor's entry in the JSON text for error messages (the first occurrence of its key). */
class HeaderContext {
  constructor(
    readonly file: string,
    private readonly text: string,
  ) {}

  error(code: string, name: string, field: string, message: string): PccxError {
    const idx = this.text.indexOf(JSON.stringify(name));
    const byteOffset = 8 + (idx >= 0 ? Buffer.byteLength(this.text.slice(0, idx)) : 0);
    const jsonPath = `$[${JSON.stringify(name)}]${field ? `.${field}` : ""}`;
    return invalidInput(code, `${this.file}: entry "${name}": ${message}`, {
      at: { file: this.file, jsonPath, byteOffset },
      fix: "the header is corrupt or was written by a broken exporter; re-download or re-export the file",
    });
  }
}

function readMetadata(v: unknown, ctx: HeaderContext): Record<string, string> {
  if (v === undefined) return {};
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw ctx.error(
      "safetensors/metadata",
      "__metadata__",
      "",
      "__metadata__ must be a string-to-string map",
    );
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string") {
      throw ctx.error(
        "safetensors/metadata",
        "__metadata__",
        k,
        `__metadata__ value for "${k}" is not a string`,
      );
    }
    out[k] = x;
  }
  return out;
}

function readEntry(name: string, v: unknown, ctx: HeaderContext): HeaderTensor {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw ctx.error(
      "safetensors/header-entry",
      name,
      "",
      "entry must be an object {dtype, shape, data_offsets}",
    );
  }
  const e = v as Record<string, unknown>;
  const dtype = e["dtype"];
  if (!isDType(dtype)) {
    throw ctx.error("safetensors/dtype", name, "dtype", `unknown dtype ${JSON.stringify(dtype)}`);
  }
  const shape = readIntArray(e["shape"], ctx, name, "shape");
  const offsets = readIntArray(e["data_offsets"], ctx, name, "data_offsets");
  if (offsets.length !== 2) {
    throw ctx.error("safetensors/offsets", name, "data_offsets", "data_offsets must be [begin, end]");
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) {
    throw ctx.error("safetensors/offsets", name, "data_offsets", `end ${end} is before begin ${begin}`);
  }
  checkSpan(name, dtype, shape, end - begin, ctx);
  return { name, dtype, shape, begin, end };
}

function readIntArray(v: unknown, ctx: HeaderContext, name: string, field: string): number[] {
  if (!Array.isArray(v))
    throw ctx.error("safetensors/header-entry", name, field, `${field} must be an array`);
  for (const [i, x] of v.entries()) {
    if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0) {
      throw ctx.error(
        field === "shape" ? "safetensors/shape" : "safetensors/offsets",
        name,
        `${field}[${i}]`,
        `${field}[${i}] = ${JSON.stringify(x)} is not a non-negative integer up to 2^53-1`,
      );
    }
  }
  return v as number[];
}

/** span = numel × bits / 8, exactly, with BigInt so that huge shapes cannot overflow silently. */
function checkSpan(name: string, dtype: DType, shape: readonly number[], span: number, ctx: HeaderContext) {
  const bits = BigInt(dtypeInfo(dtype).bits);
  const numel = shape.reduce((p, d) => p * BigInt(d), 1n);
  const totalBits = numel * bits;
  if (totalBits % 8n !== 0n) {
    throw ctx.error(
      "safetensors/span",
      name,
      "shape",
      `${numel} elements of ${dtype} (${bits} bits each) do not fill a whole number of bytes`,
    );
  }
  const want = totalBits / 8n;
  if (want !== BigInt(span)) {
    throw ctx.error(
      "safetensors/span",
      name,
      "data_offsets",
      `shape [${shape.join(", ")}] of ${dtype} needs ${want} bytes but data_offsets span ${span}`,
    );
  }
}

/** Offsets must tile [0, end) without gaps or overlaps; returns the data section length. */
function checkContiguous(sorted: readonly HeaderTensor[], ctx: HeaderContext): number {
  let pos = 0;
  for (const t of sorted) {
    if (t.begin > pos) {
      throw ctx.error(
        "safetensors/gap",
        t.name,
        "data_offsets",
        `gap: data bytes ${pos}..${t.begin} belong to no tensor`,
      );
    }
    if (t.begin < pos) {
      throw ctx.error(
        "safetensors/overlap",
        t.name,
        "data_offsets",
        `overlap: data starts at ${t.begin} but the previous tensor ends at ${pos}`,
      );
    }
    pos = t.end;
  }
  return pos;
}
