/**
 * The layout of program.bin, version 1.1 (specified byte by byte in docs/artifacts.md): a 64-byte
 * header, a directory of sections, then the sections, each 8-byte aligned. All integers are
 * little-endian; every record is fixed-size; a string is a u32 byte offset into the string table
 * (NUL-terminated UTF-8) and NONE (0xFFFFFFFF) means absent. The writer and the reader both take
 * their offsets from here, so the two cannot drift apart.
 */

export const MAGIC = "PCCXPROG";
export const VERSION_MAJOR = 1;
/** 1.1 grew the segment record from 16 to 32 bytes (max_pos); 1.0 files still read. */
export const VERSION_MINOR = 1;
export const HEADER_BYTES = 64;
export const DIR_ENTRY_BYTES = 16;
export const ALIGN = 8;
/** An absent string or index. */
export const NONE = 0xffffffff;

/** Header field offsets. */
export const H = {
  magic: 0,
  versionMajor: 8,
  versionMinor: 10,
  headerBytes: 12,
  fileBytes: 16,
  sectionCount: 20,
  fingerprintHash: 24,
  target: 32,
  fingerprint: 36,
  model: 40,
  compilerVersion: 44,
  isaTable: 48,
  schemaVersion: 52,
  crc32: 56,
  /** The context the program supports (positions 0 … context−1); NONE when the program does not say. */
  context: 60,
} as const;

/** Sections, in file order; `size` is the record size in bytes the writer uses (version 1.1). */
export const SECTIONS = [
  { id: 1, name: "strings", size: 1 },
  { id: 2, name: "cvo_ext", size: 8 },
  { id: 3, name: "segments", size: 32 },
  { id: 4, name: "steps", size: 32 },
  { id: 5, name: "origins", size: 24 },
  { id: 6, name: "tensors", size: 4 },
  { id: 7, name: "operands", size: 40 },
  { id: 8, name: "blocks", size: 4 },
  { id: 9, name: "attrs", size: 16 },
  { id: 10, name: "numbers", size: 8 },
  { id: 11, name: "relocs", size: 48 },
  { id: 12, name: "terms", size: 16 },
  { id: 13, name: "variables", size: 16 },
  { id: 14, name: "allocations", size: 40 },
  { id: 15, name: "ddr", size: 24 },
] as const;

export type SectionName = (typeof SECTIONS)[number]["name"];

/**
 * Record sizes of earlier minor versions that a reader accepts besides `size` and larger (the
 * fields past such a stride are absent): 1.0 segments were 16 bytes, without max_pos.
 */
export const OLDER_RECORD_BYTES: Partial<Record<SectionName, readonly number[]>> = { segments: [16] };

/** Record field offsets per section. */
export const SEG = { name: 0, kind: 4, firstStep: 8, stepCount: 12, maxPos: 16, flags: 24 } as const;
/** Segment flag: max_pos is present (version 1.1). */
export const SEG_HAS_MAX_POS = 1;
export const STEP = {
  kind: 0,
  a: 1,
  b: 2,
  c: 3,
  origin: 4,
  p0: 8,
  p4: 12,
  p8: 16,
  p12: 20,
  p16: 24,
  p20: 28,
} as const;
export const ORIGIN = { label: 0, op: 4, layer: 8, firstTensor: 12, tensorCount: 16, flags: 20 } as const;
export const ORIGIN_HAS_TENSORS = 1;
export const OPERAND = {
  region: 0,
  dtype: 4,
  flags: 5,
  offset: 8,
  elements: 16,
  rows: 24,
  firstBlock: 28,
  blockCount: 32,
} as const;
export const OPERAND_HAS_ROWS = 1;
export const OPERAND_HAS_BLOCKS = 2;
export const ATTR = { key: 0, type: 4, value: 8, count: 12 } as const;
export const RELOC = {
  segment: 0,
  step: 4,
  field: 8,
  fieldId: 12,
  lsb: 14,
  width: 15,
  base: 16,
  min: 24,
  max: 32,
  firstTerm: 40,
  termCount: 44,
  flags: 46,
} as const;
export const RELOC_HAS_MIN = 1;
export const RELOC_HAS_MAX = 2;
export const TERM = { variable: 0, stride: 8 } as const;
export const VAR = { name: 0, doc: 4, setBy: 8 } as const;
export const ALLOC = {
  space: 0,
  flags: 1,
  name: 4,
  offset: 8,
  size: 16,
  segment: 24,
  liveLo: 28,
  liveHi: 32,
} as const;
export const ALLOC_HAS_LIVE = 1;
export const DDR = { name: 0, kind: 4, port: 5, offset: 8, bytes: 16 } as const;
export const CVO_EXT = { name: 0, code: 4 } as const;

export const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
