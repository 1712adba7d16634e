/**
 * The safetensors element types as data: bit width, kind, and whether pccxc decodes them to
 * float32. The list follows the safetensors `Dtype` enum (including the sub-byte MX formats F4,
 * F6_E2M3, F6_E3M2 and the E8M0 scale type); spans are computed from bits, so packed 4- and
 * 6-bit types are validated exactly even though they are not decoded.
 */

export type DTypeKind = "float" | "int" | "uint" | "bool" | "complex";

export interface DTypeInfo {
  readonly name: string;
  /** Bits per element (F4 is 4: two E2M1 values per byte). */
  readonly bits: number;
  readonly kind: DTypeKind;
  /** True when `readRows` can decode it to float32. */
  readonly decodable: boolean;
}

const TABLE = [
  { name: "BOOL", bits: 8, kind: "bool", decodable: false },
  { name: "F4", bits: 4, kind: "float", decodable: false },
  { name: "F6_E2M3", bits: 6, kind: "float", decodable: false },
  { name: "F6_E3M2", bits: 6, kind: "float", decodable: false },
  { name: "U8", bits: 8, kind: "uint", decodable: false },
  { name: "I8", bits: 8, kind: "int", decodable: false },
  { name: "F8_E5M2", bits: 8, kind: "float", decodable: false },
  { name: "F8_E4M3", bits: 8, kind: "float", decodable: true },
  { name: "F8_E8M0", bits: 8, kind: "float", decodable: false },
  { name: "I16", bits: 16, kind: "int", decodable: false },
  { name: "U16", bits: 16, kind: "uint", decodable: false },
  { name: "F16", bits: 16, kind: "float", decodable: true },
  { name: "BF16", bits: 16, kind: "float", decodable: true },
  { name: "I32", bits: 32, kind: "int", decodable: false },
  { name: "U32", bits: 32, kind: "uint", decodable: false },
  { name: "F32", bits: 32, kind: "float", decodable: true },
  { name: "C64", bits: 64, kind: "complex", decodable: false },
  { name: "F64", bits: 64, kind: "float", decodable: false },
  { name: "I64", bits: 64, kind: "int", decodable: false },
  { name: "U64", bits: 64, kind: "uint", decodable: false },
] as const satisfies readonly DTypeInfo[];

export type DType = (typeof TABLE)[number]["name"];

export const DTYPES: ReadonlyMap<string, DTypeInfo> = new Map(TABLE.map((d) => [d.name, d]));

/** All known dtype names, in the safetensors enum order. */
export const DTYPE_NAMES: readonly DType[] = TABLE.map((d) => d.name);

export function isDType(name: unknown): name is DType {
  return typeof name === "string" && DTYPES.has(name);
}

export function dtypeInfo(d: DType): DTypeInfo {
  return DTYPES.get(d)!;
}

export function isDecodable(d: DType): boolean {
  return dtypeInfo(d).decodable;
}
