/**
 * src/isa — the pccx v002 instruction table and everything derived from it.
 * Consumes: typed instructions (from codegen), words (from .memh/.bin files), assembly text.
 * Produces: 64-bit words (bigint, or Uint32Array lo/hi pairs in bulk), typed instructions, listings,
 * .memh/.bin files, the C header pccx_isa.h and the field table of docs/isa.md.
 * The table (table.ts) is the only place a bit position is written.
 */
export { type AsmLabel, type AsmOptions, type AsmProgram, assemble, assembleLine } from "./asm.js";
export {
  allocColumns,
  BulkStatus,
  columnsOf,
  decodeBulk,
  encodeBulk,
  type InstrColumns,
  instrAt,
} from "./bulk.js";
export { C_HEADER_BANNER, cEncodeName, cFieldPrefix, cGetterName, renderCHeader } from "./cheader.js";
export {
  bitRange,
  type DecodeMode,
  type DecodeResult,
  decode,
  encode,
  type IsaProblem,
} from "./codec.js";
export {
  type CompiledField,
  type CompiledIsa,
  type CompiledOpcode,
  compiledIsa,
  type EnumExtensions,
  type IsaOptions,
} from "./compiled.js";
export { type DisasmOptions, disassemble, formatInstr } from "./disasm.js";
export { FIELD_DOC_MARKER, renderFieldDoc, spliceGenerated } from "./fielddoc.js";
export { GENERATED_FILES, type GeneratedFile, regenerate } from "./generated-files.js";
export type {
  Bit,
  FieldsOf,
  FieldValueAny,
  FlagsValue,
  Instr,
  InstrOf,
  LooseInstr,
  Mnemonic,
} from "./instr.js";
export {
  type EnumFieldSpec,
  type FieldKind,
  type FieldSpec,
  type FlagBitSpec,
  type FlagsFieldSpec,
  type IsaTable,
  type OpcodeSpec,
  type ReservedFieldSpec,
  type UintFieldSpec,
  V002,
} from "./table.js";
export { checkTable } from "./table-check.js";
export {
  formatBin,
  formatFromPath,
  formatMemh,
  memhHeaderFor,
  parseBin,
  parseMemh,
  readWordFile,
  resolveFormat,
  type WordFile,
  type WordFormat,
  writeWordFile,
} from "./wordfile.js";
export {
  formatWord,
  makeWord,
  pairsToWords,
  parseWordLiteral,
  type Word,
  wordHi,
  wordLo,
  wordsToPairs,
} from "./words.js";
