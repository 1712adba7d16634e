/**
 * The low-level reading side of program.bin: header and directory validation (magic, version,
 * sizes, checksum, section bounds) and bounds-checked accessors for records, integers and strings.
 * Every failure is a PccxError (exit 2) with the byte offset of the offending bytes; nothing here
 * throws anything else on any input.
 */
import { invalidInput, type PccxError } from "../../diag/index.js";
import {
  DIR_ENTRY_BYTES,
  H,
  HEADER_BYTES,
  MAGIC,
  NONE,
  OLDER_RECORD_BYTES,
  SECTIONS,
  type SectionName,
  VERSION_MAJOR,
} from "./bin-layout.js";
import { crc32 } from "./crc32.js";

export interface BinReadOptions {
  /** File name used in error locations (default "program.bin"). */
  readonly file?: string;
  /** Check the header's CRC-32 (default true; the fuzz tests turn it off to reach deeper checks). */
  readonly verifyChecksum?: boolean;
}

interface Section {
  readonly offset: number;
  readonly count: number;
  readonly stride: number;
}

export class BinReader {
  readonly file: string;
  readonly dv: DataView;
  readonly versionMinor: number;
  private readonly sections = new Map<SectionName, Section>();
  private readonly strings = new Map<number, string>();
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true });

  constructor(
    readonly bytes: Uint8Array,
    opts: BinReadOptions = {},
  ) {
    this.file = opts.file ?? "program.bin";
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length;
    if (n < HEADER_BYTES) {
      throw this.fail(
        "artifacts/bin-truncated",
        n,
        `the file has ${n} bytes, less than the ${HEADER_BYTES}-byte header`,
      );
    }
    const magic = new TextDecoder("latin1").decode(bytes.subarray(0, MAGIC.length));
    if (magic !== MAGIC) {
      throw this.fail(
        "artifacts/bin-magic",
        H.magic,
        `magic is ${JSON.stringify(magic)}, not "${MAGIC}": not a pccxc program.bin`,
      );
    }
    const major = this.u16(H.versionMajor);
    this.versionMinor = this.u16(H.versionMinor);
    if (major !== VERSION_MAJOR) {
      throw this.fail(
        "artifacts/bin-version",
        H.versionMajor,
        `container version ${major}.${this.versionMinor} is not supported (this pccxc reads ${VERSION_MAJOR}.x)`,
      );
    }
    const headerBytes = this.u32(H.headerBytes);
    if (headerBytes < HEADER_BYTES || headerBytes % 8 !== 0 || headerBytes > n) {
      throw this.fail(
        "artifacts/bin-header",
        H.headerBytes,
        `header size ${headerBytes} is invalid (expected ${HEADER_BYTES} or more, a multiple of 8)`,
      );
    }
    const fileBytes = this.u32(H.fileBytes);
    if (fileBytes !== n) {
      throw this.fail(
        "artifacts/bin-truncated",
        H.fileBytes,
        `the header says ${fileBytes} bytes but the file has ${n}: it is truncated or padded`,
      );
    }
    if (opts.verifyChecksum ?? true) {
      const stored = this.u32(H.crc32);
      const copy = bytes.slice();
      new DataView(copy.buffer).setUint32(H.crc32, 0, true);
      const actual = crc32(copy);
      if (stored !== actual) {
        throw this.fail(
          "artifacts/bin-checksum",
          H.crc32,
          `CRC-32 is 0x${actual.toString(16).padStart(8, "0")} but the header stores 0x${stored.toString(16).padStart(8, "0")}: the file is damaged`,
        );
      }
    }
    this.readDirectory(headerBytes);
  }

  fail(code: string, byteOffset: number, message: string): PccxError {
    return invalidInput(code, `${this.file} (byte ${byteOffset}): ${message}`, {
      at: { file: this.file, byteOffset },
      fix: "the file is damaged or was not written by pccxc: write it again with pccxc compile",
    });
  }

  private readDirectory(at: number): void {
    const count = this.u32(H.sectionCount);
    const dirEnd = at + count * DIR_ENTRY_BYTES;
    if (dirEnd > this.bytes.length) {
      throw this.fail(
        "artifacts/bin-directory",
        H.sectionCount,
        `${count} directory entries do not fit in the file`,
      );
    }
    const spans: { start: number; end: number; where: number }[] = [];
    for (let i = 0; i < count; i++) {
      const d = at + i * DIR_ENTRY_BYTES;
      const id = this.u32(d);
      const stride = this.u32(d + 4);
      const n = this.u32(d + 8);
      const offset = this.u32(d + 12);
      const spec = SECTIONS.find((s) => s.id === id);
      if (!spec) continue; // a section a later minor version added: skipped
      if (this.sections.has(spec.name))
        throw this.fail("artifacts/bin-directory", d, `section ${spec.name} (id ${id}) appears twice`);
      const older = OLDER_RECORD_BYTES[spec.name] ?? [];
      if (
        (stride < spec.size && !older.includes(stride)) ||
        (spec.size === 1 ? stride !== 1 : stride % 4 !== 0)
      ) {
        throw this.fail(
          "artifacts/bin-directory",
          d + 4,
          `section ${spec.name} records are ${stride} bytes; version 1 needs ${spec.size} or more${older.length ? ` (or ${older.join(", ")}, as an older minor version wrote)` : ""}`,
        );
      }
      const end = offset + n * stride;
      if (offset % 8 !== 0 || offset < dirEnd || end > this.bytes.length) {
        throw this.fail(
          "artifacts/bin-directory",
          d + 12,
          `section ${spec.name} at ${offset} with ${n} × ${stride} bytes is outside the file's sections (${dirEnd}..${this.bytes.length}) or not 8-byte aligned`,
        );
      }
      spans.push({ start: offset, end, where: d });
      this.sections.set(spec.name, { offset, count: n, stride });
    }
    for (const s of SECTIONS) {
      if (!this.sections.has(s.name))
        throw this.fail("artifacts/bin-directory", at, `section ${s.name} (id ${s.id}) is missing`);
    }
    spans.sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i]!.start < spans[i - 1]!.end)
        throw this.fail("artifacts/bin-directory", spans[i]!.where, "sections overlap");
    }
  }

  count(name: SectionName): number {
    return this.sections.get(name)!.count;
  }

  /** Record size of `name` in this file: fields past it are absent (an older minor version). */
  stride(name: SectionName): number {
    return this.sections.get(name)!.stride;
  }

  /** Byte offset of record `i` of `name` (the caller checks `i` against `count`). */
  rec(name: SectionName, i: number): number {
    const s = this.sections.get(name)!;
    return s.offset + i * s.stride;
  }

  /** Check that records [first, first + n) exist in `name`; `where` is the offset of the reference. */
  range(name: SectionName, first: number, n: number, where: number): void {
    if (first + n > this.count(name)) {
      throw this.fail(
        "artifacts/bin-bounds",
        where,
        `records ${first}..${first + n - 1} of section ${name} do not exist (it has ${this.count(name)})`,
      );
    }
  }

  u8(o: number): number {
    return this.dv.getUint8(o);
  }
  u16(o: number): number {
    return this.dv.getUint16(o, true);
  }
  u32(o: number): number {
    return this.dv.getUint32(o, true);
  }
  word(o: number): bigint {
    return this.dv.getBigUint64(o, true);
  }
  f64(o: number): number {
    const v = this.dv.getFloat64(o, true);
    if (!Number.isFinite(v)) throw this.fail("artifacts/bin-value", o, `${v} is not a finite number`);
    return v;
  }
  /** An unsigned 64-bit integer that must be a safe JS integer. */
  u64(o: number): number {
    const v = this.dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw this.fail("artifacts/bin-value", o, `${v} is larger than 2^53 - 1`);
    return Number(v);
  }
  i64(o: number): number {
    const v = this.dv.getBigInt64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.fail("artifacts/bin-value", o, `${v} is outside ±(2^53 - 1)`);
    }
    return Number(v);
  }
  /** A u32 that is not NONE. */
  index(o: number, what: string): number {
    const v = this.u32(o);
    if (v === NONE) throw this.fail("artifacts/bin-value", o, `${what} is absent (0xFFFFFFFF) but required`);
    return v;
  }
  enumOf<T extends string>(o: number, list: readonly T[], what: string): T {
    const v = this.u8(o);
    const name = list[v];
    if (name === undefined)
      throw this.fail("artifacts/bin-value", o, `${what} code ${v} is not one of 0..${list.length - 1}`);
    return name;
  }
  zero(o: number, n: number, what: string): void {
    for (let i = 0; i < n; i++) {
      if (this.bytes[o + i] !== 0) throw this.fail("artifacts/bin-reserved", o + i, `${what} must be zero`);
    }
  }

  /** The string at table offset `ref` (stored at byte `o`). */
  str(o: number): string {
    const ref = this.u32(o);
    const hit = this.strings.get(ref);
    if (hit !== undefined) return hit;
    const s = this.sections.get("strings")!;
    if (ref >= s.count)
      throw this.fail(
        "artifacts/bin-string",
        o,
        `string offset ${ref} is outside the string table (${s.count} bytes)`,
      );
    const start = s.offset + ref;
    const end = this.bytes.indexOf(0, start);
    if (end < 0 || end >= s.offset + s.count)
      throw this.fail("artifacts/bin-string", o, `the string at offset ${ref} has no terminating NUL`);
    let text: string;
    try {
      text = this.utf8.decode(this.bytes.subarray(start, end));
    } catch {
      throw this.fail("artifacts/bin-string", start, `the string at offset ${ref} is not valid UTF-8`);
    }
    this.strings.set(ref, text);
    return text;
  }
  optStr(o: number): string | undefined {
    return this.u32(o) === NONE ? undefined : this.str(o);
  }
}
