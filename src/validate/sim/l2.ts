/**
 * L2: the software-managed scratchpad, modelled as float32 elements (BF16 values in hardware mode,
 * any float32 in exact mode), `l2.word_bytes / 2` elements per word. Every access goes through
 * `vector()`, which applies the instruction class's addressing from the target (word or element
 * unit, alignment, reach) and the backed range, and faults outside them.
 */
import type { Target } from "../../target/index.js";
import { fault } from "./faults.js";

export type AddrClass = "gemv" | "gemm" | "memcpy" | "cvo";

/** A vector in L2: its first element and the words it touches [w0, w1). */
export interface L2Vec {
  readonly el: number;
  readonly n: number;
  readonly w0: number;
  readonly w1: number;
}

export class L2Memory {
  readonly data: Float32Array;
  /** The same buffer as raw bits (BF16 rounding in place). */
  readonly bits: Uint32Array;
  readonly epw: number;
  private readonly first: number;

  constructor(private readonly target: Target) {
    this.epw = target.derived.l2.elements_per_word;
    this.first = target.file.l2.backed_first_word;
    this.data = new Float32Array(target.derived.l2.backed_end_word * this.epw);
    this.bits = new Uint32Array(this.data.buffer);
  }

  /** Words a vector of `elements` elements occupies (whole words). */
  words(elements: number): number {
    return Math.ceil(elements / this.epw);
  }

  /**
   * The vector of `elements` elements that address field `field` (value `addr`) of a `cls`
   * instruction names. Faults when it is misaligned or leaves the usable words.
   */
  vector(cls: AddrClass, field: string, addr: number, elements: number): L2Vec {
    const a = this.target.file.l2.addressing[cls];
    const el = a.unit === "word" ? addr * this.epw : addr;
    const w0 = Math.floor(el / this.epw);
    const w1 = Math.ceil((el + elements) / this.epw);
    if (elements === 0) return { el, n: 0, w0, w1: w0 };
    if (el % a.alignment_elements !== 0) {
      throw fault(
        "addr-range",
        `${field} = ${addr} (element ${el}) is not aligned to ${a.alignment_elements} elements`,
      );
    }
    const end = this.target.derived.l2.usable_end_word[cls];
    if (w0 < this.first || w1 > end) {
      throw fault(
        "addr-range",
        `${field} = ${addr}: ${elements} elements span L2 words ${w0}..${w1 - 1}, outside the words ` +
          `${cls.toUpperCase()} can use (${this.first}..${end - 1})`,
      );
    }
    return { el, n: elements, w0, w1 };
  }
}
