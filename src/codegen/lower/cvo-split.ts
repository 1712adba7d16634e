/**
 * One logical SFU call over a vector longer than one CVO instruction takes (the target's
 * `cvo_max_length_elements` and the ISA's `length` field width, both in `Machine.cvoMaxLength`),
 * split into word-aligned pieces. Element-wise functions (unary, binary_dst) advance src and dst
 * together; REDUCE_SUM advances src only and accumulates every piece after the first into dst
 * (`accm`); SCALE (scalar_first) needs its scalar in the word just before each piece's vector,
 * which `Lower.cvo` arranges by saving that word, copying the scalar there and restoring the word.
 * A relocated length splits into relocated pieces `clamp(length − k·C, 0, C)`.
 */
import type { Val } from "../draft.js";
import { isReloc } from "../draft.js";
import { internalError } from "../errors.js";
import type { CvoOperands, Machine } from "../machine.js";

/** One instruction of a split SFU call: its vector starts `word` words after the call's. */
export interface CvoPiece {
  readonly word: number;
  readonly length: Val;
  /** Accumulate into dst: the call's own accm, or a REDUCE_SUM piece after the first. */
  readonly accm: boolean;
}

/** Elements per piece: the longest whole-word length one CVO instruction accepts. */
export function cvoPieceElements(m: Machine): number {
  const c = Math.floor(m.cvoMaxLength / m.elemsPerWord) * m.elemsPerWord;
  if (c <= 0) throw internalError(`CVO max length ${m.cvoMaxLength} is below one L2 word`);
  return c;
}

/** Upper bound of a length (a relocated length must state its maximum). */
function boundOf(func: string, length: Val): number {
  if (!isReloc(length)) return length;
  if (length.max === undefined) throw internalError(`CVO ${func} has a relocated length without a maximum`);
  return length.max;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Piece k of a length split in pieces of `c` elements: clamp(length − k·c, 0, c). */
function pieceLength(length: Val, k: number, c: number): Val {
  if (!isReloc(length)) return clamp(length - k * c, 0, c);
  // clamp(clamp(x, lo, hi) − kc, 0, c) = clamp(x − kc, clamp(lo − kc, 0, c), clamp(hi − kc, 0, c)).
  return {
    base: length.base - k * c,
    terms: length.terms,
    min: clamp((length.min ?? Number.NEGATIVE_INFINITY) - k * c, 0, c),
    max: clamp((length.max ?? Number.POSITIVE_INFINITY) - k * c, 0, c),
  };
}

/**
 * The instructions of one SFU call of `length` elements. A call within the limit is one piece,
 * unchanged. Throws an internal error for a function whose operands cannot be split (rope_pairs).
 */
export function splitCvo(
  m: Machine,
  func: string,
  operands: CvoOperands,
  length: Val,
  accm: boolean,
): CvoPiece[] {
  const c = cvoPieceElements(m);
  const bound = boundOf(func, length);
  if (bound <= m.cvoMaxLength) return [{ word: 0, length, accm }];
  if (operands === "rope_pairs")
    throw internalError(
      `CVO ${func} length ${bound} exceeds ${m.cvoMaxLength} and RoPE pairs cannot be split`,
    );
  const pieces: CvoPiece[] = [];
  const wordsPer = c / m.elemsPerWord;
  for (let k = 0; k * c < bound; k++)
    pieces.push({
      word: k * wordsPer,
      length: pieceLength(length, k, c),
      accm: accm || (operands === "reduce" && k > 0),
    });
  return pieces;
}
