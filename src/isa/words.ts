/**
 * 64-bit instruction words: `bigint` in the public API, hi/lo 32-bit halves inside the codecs, and
 * `Uint32Array` pairs (lo at 2i, hi at 2i+1, the little-endian memory layout of a BigUint64Array)
 * for the bulk paths.
 */
import { endianness } from "node:os";
import { invalidInput } from "../diag/index.js";

export type Word = bigint;

const MASK32 = 0xffffffffn;
const MAX_WORD = (1n << 64n) - 1n;
const LITTLE_ENDIAN = endianness() === "LE";

/** True when `w` is a bigint in [0, 2^64). */
export function isWord(w: unknown): w is bigint {
  return typeof w === "bigint" && w >= 0n && w <= MAX_WORD;
}

export function checkWord(w: unknown): bigint {
  if (isWord(w)) return w;
  throw invalidInput("isa/word-range", `instruction word ${String(w)} is not a 64-bit unsigned value`, {
    fix: "pass a bigint in [0, 2^64)",
  });
}

export function wordHi(w: bigint): number {
  return Number(w >> 32n);
}

export function wordLo(w: bigint): number {
  return Number(w & MASK32);
}

export function makeWord(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** `0x` and 16 lower-case hex digits. */
export function formatWord(w: bigint): string {
  return `0x${w.toString(16).padStart(16, "0")}`;
}

/**
 * A word written by a person: `0x`-prefixed hex, exactly 16 hex digits without prefix (the .memh
 * form), or decimal. Throws `isa/bad-word` naming the text.
 */
export function parseWordLiteral(text: string): bigint {
  const t = text.trim().replaceAll("_", "");
  let w: bigint | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) w = BigInt(t);
  else if (/^[0-9a-fA-F]{16}$/.test(t)) w = BigInt(`0x${t}`);
  else if (/^[0-9]+$/.test(t)) w = BigInt(t);
  if (w === undefined || w > MAX_WORD) {
    throw invalidInput("isa/bad-word", `"${text}" is not a 64-bit instruction word`, {
      fix: "write 0x followed by up to 16 hex digits (e.g. 0x3030001000100090), 16 hex digits, or a decimal number",
    });
  }
  return w;
}

/** A view (little-endian hosts) or copy of `words` as lo/hi pairs. */
export function wordsToPairs(words: BigUint64Array): Uint32Array {
  if (LITTLE_ENDIAN) return new Uint32Array(words.buffer, words.byteOffset, words.length * 2);
  const out = new Uint32Array(words.length * 2);
  for (let i = 0; i < words.length; i++) {
    out[2 * i] = wordLo(words[i]!);
    out[2 * i + 1] = wordHi(words[i]!);
  }
  return out;
}

/** A view (little-endian hosts) or copy of lo/hi pairs as words. */
export function pairsToWords(pairs: Uint32Array): BigUint64Array {
  if (pairs.length % 2 !== 0) throw new RangeError("pairs must hold an even number of halves");
  if (LITTLE_ENDIAN && pairs.byteOffset % 8 === 0) {
    return new BigUint64Array(pairs.buffer, pairs.byteOffset, pairs.length / 2);
  }
  const out = new BigUint64Array(pairs.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = makeWord(pairs[2 * i + 1]!, pairs[2 * i]!);
  return out;
}

export function toWordArray(words: readonly bigint[] | BigUint64Array): BigUint64Array {
  return words instanceof BigUint64Array ? words : BigUint64Array.from(words.map(checkWord));
}
