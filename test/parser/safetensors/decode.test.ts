import { describe, expect, it } from "vitest";
import { PccxError } from "../../../src/diag/index.js";
import { decodeToF32 } from "../../../src/parser/safetensors/decode.js";
import { bf16ToF32, f8e4m3ToF32, f16ToF32 } from "../../../src/util/float.js";

/** Every 16-bit pattern, little-endian, starting at byte `shift` of the buffer. */
function allU16(shift: number): Uint8Array {
  const buf = new Uint8Array(65536 * 2 + shift);
  for (let i = 0; i < 65536; i++) {
    buf[shift + 2 * i] = i & 0xff;
    buf[shift + 2 * i + 1] = i >>> 8;
  }
  return buf.subarray(shift);
}

function sameBits(a: Float32Array, expected: (i: number) => number): void {
  const want = Float32Array.from({ length: a.length }, (_, i) => expected(i));
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(want.buffer);
  for (let i = 0; i < a.length; i++) {
    // NaN payloads may differ between paths; everything else must be bit-exact
    if (Number.isNaN(a[i]!) && Number.isNaN(want[i]!)) continue;
    if (x[i] !== y[i]) throw new Error(`element ${i}: ${a[i]} != ${want[i]}`);
  }
}

describe("bulk decoders match the scalar definitions for every bit pattern", () => {
  it.each([0, 1, 2])("BF16 (source offset %i, odd counts included)", (shift) => {
    const src = allU16(shift);
    const out = new Float32Array(65535); // odd count: exercises the tail after the pair loop
    decodeToF32("BF16", src, 65535, out);
    sameBits(out, bf16ToF32);
  });

  it.each([0, 1])("F16 (source offset %i)", (shift) => {
    const out = new Float32Array(65536);
    decodeToF32("F16", allU16(shift), 65536, out);
    sameBits(out, f16ToF32);
  });

  it("F8_E4M3, including NaN and subnormals", () => {
    const src = Uint8Array.from({ length: 256 }, (_, i) => i);
    const out = new Float32Array(256);
    decodeToF32("F8_E4M3", src, 256, out);
    sameBits(out, f8e4m3ToF32);
    expect(out[0x7e]).toBe(448);
    expect(out[0x01]).toBe(2 ** -9);
    expect(Number.isNaN(out[0x7f]!)).toBe(true);
  });

  it("F32 from an unaligned source, into an offset destination", () => {
    const vals = [1.5, -2, 3.25e-8, Number.POSITIVE_INFINITY];
    const buf = new Uint8Array(1 + 16);
    const dv = new DataView(buf.buffer);
    for (const [i, v] of vals.entries()) dv.setFloat32(1 + 4 * i, v, true);
    const out = new Float32Array(6);
    decodeToF32("F32", buf.subarray(1), 4, out, 2);
    expect([...out]).toEqual([0, 0, 1.5, -2, Math.fround(3.25e-8), Number.POSITIVE_INFINITY]);
  });

  it("refuses integer and packed dtypes with an error naming the dtype", () => {
    for (const d of ["I32", "U8", "BOOL", "F4", "F8_E5M2"] as const) {
      try {
        decodeToF32(d, new Uint8Array(8), 1, new Float32Array(1));
        throw new Error("no error");
      } catch (e) {
        expect(e).toBeInstanceOf(PccxError);
        expect((e as PccxError).message).toContain(d);
        expect((e as PccxError).exitCode).toBe(2);
      }
    }
  });
});
