/**
 * DataMover command words and status bytes as the target file lays them out (PG022 layout with the
 * target's widths): the simulator side decodes what the driver pushes, and the conformance check
 * encodes what the program says it should push. Independent of the C encoder on purpose.
 */
import type { Target } from "../../target/index.js";

export interface DmCommand {
  readonly bytes: number;
  readonly address: bigint;
  readonly tag: number;
}

const field = (w: bigint, lsb: number, bits: number): bigint =>
  (w >> BigInt(lsb)) & ((1n << BigInt(bits)) - 1n);

/** The 72-bit word (lo = bits 63:0, hi = the rest) of a command. */
export function encodeDmCommand(t: Target, c: DmCommand): { lo: bigint; hi: bigint } {
  const f = t.file.datamover.command;
  const put = (lsb: number, bits: number, v: bigint) => (v & ((1n << BigInt(bits)) - 1n)) << BigInt(lsb);
  const w =
    put(f.btt_lsb, f.btt_bits, BigInt(c.bytes)) |
    put(f.incr_bit, 1, 1n) |
    put(f.eof_bit, 1, 1n) |
    put(f.address_lsb, f.address_bits, c.address) |
    put(f.tag_lsb, f.tag_bits, BigInt(c.tag));
  return { lo: w & 0xffff_ffff_ffff_ffffn, hi: w >> 64n };
}

export function decodeDmCommand(t: Target, lo: bigint, hi: bigint): DmCommand {
  const f = t.file.datamover.command;
  const w = (hi << 64n) | lo;
  return {
    bytes: Number(field(w, f.btt_lsb, f.btt_bits)),
    address: field(w, f.address_lsb, f.address_bits),
    tag: Number(field(w, f.tag_lsb, f.tag_bits)),
  };
}

/** The status byte of a completed command: OKAY and the tag. */
export function okayStatus(t: Target, tag: number): number {
  const s = t.file.datamover.status;
  return (1 << s.okay_bit) | ((tag & (2 ** s.tag_bits - 1)) << s.tag_lsb);
}
