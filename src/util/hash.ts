import { createHash } from "node:crypto";

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a 64-bit over bytes (used by the pccx-lab trace container). */
export function fnv1a64(data: Uint8Array, seed: bigint = FNV64_OFFSET): bigint {
  // Split into two 32-bit halves would be faster; bigint keeps it obviously correct.
  let h = seed;
  for (let i = 0; i < data.length; i++) {
    h ^= BigInt(data[i]!);
    h = (h * FNV64_PRIME) & MASK64;
  }
  return h;
}
