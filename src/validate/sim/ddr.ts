/**
 * The modelled DDR: one byte array per program region (docs/program.md §3), allocated on first
 * touch. Image-backed regions (kind weights, embedding, table) start with the weight image's bytes;
 * the others (KV rings, host buffers, logits) start at zero. Every access is bounds-checked against
 * its region.
 *
 * Exact mode keeps BF16 data exact: beside the bytes, a region may hold a float32 "wide" copy of
 * every 2-byte slot, written by BF16 stores and read by BF16 loads, so values that travel
 * L2 → DDR → host → DDR → L2 are never rounded. Byte-level writes refresh the wide copy.
 */
import type { DdrRegion } from "../../codegen/program.js";
import { invalidInput } from "../../diag/index.js";
import { f32ToBf16 } from "../../util/float.js";
import { fault } from "./faults.js";
import type { WeightImage } from "./types.js";

export type ElemType = "bf16" | "f32" | "i32" | "int4";

export const ELEM_BYTES: Readonly<Record<ElemType, number>> = { bf16: 2, f32: 4, i32: 4, int4: 0.5 };

/** The off-DDR part of the weight file, as host steps name it (src/codegen/host-ops gather_rows). */
export const OFF_DDR = "offddr";

const IMAGE_KINDS: ReadonlySet<DdrRegion["kind"]> = new Set(["weights", "embedding", "table"]);

export class RegionMem {
  private buf?: Uint8Array;
  wide?: Float32Array;
  /**
   * Exact mode: the unrounded code (value / scale) of each INT4 nibble that a host KV write
   * quantized (NaN where none), so engines reading the KV tiles see the exact values.
   */
  exactCodes?: Float32Array;
  /** The element type last written by a typed store (what a read without a dtype returns). */
  lastType?: ElemType;

  constructor(
    readonly def: DdrRegion,
    private readonly init?: Uint8Array,
  ) {}

  get bytes(): Uint8Array {
    if (!this.buf) {
      this.buf = new Uint8Array(this.def.bytes);
      if (this.init) this.buf.set(this.init);
    }
    return this.buf;
  }

  /** The wide copy, created from the bytes on first use. */
  wideCopy(): Float32Array {
    if (!this.wide) {
      const b = this.bytes;
      const w = new Float32Array(b.length >>> 1);
      const u = new Uint32Array(w.buffer);
      for (let i = 0; i < w.length; i++) u[i] = ((b[2 * i]! | (b[2 * i + 1]! << 8)) << 16) >>> 0;
      this.wide = w;
    }
    return this.wide;
  }

  /** The exact-code shadow, created on first use (all NaN: no exact value yet). */
  codes(): Float32Array {
    if (!this.exactCodes) this.exactCodes = new Float32Array(this.def.bytes * 2).fill(Number.NaN);
    return this.exactCodes;
  }

  /** After a byte-level write to [off, off+len): bring the wide copy back in line with the bytes. */
  refreshWide(off: number, len: number): void {
    const w = this.wide;
    if (!w) return;
    const b = this.bytes;
    const u = new Uint32Array(w.buffer);
    for (let h = off >>> 1, end = Math.min(w.length, (off + len + 1) >>> 1); h < end; h++) {
      u[h] = ((b[2 * h]! | (b[2 * h + 1]! << 8)) << 16) >>> 0;
    }
  }
}

export class DdrMemory {
  private readonly regions = new Map<string, RegionMem>();

  constructor(
    regions: readonly DdrRegion[],
    image: WeightImage,
    /** Keep BF16 values exact (exact mode). */
    private readonly exact: boolean,
  ) {
    for (const r of regions) {
      const init = IMAGE_KINDS.has(r.kind) ? image.region(r) : undefined;
      if (init && init.length > r.bytes) {
        throw invalidInput(
          "sim/image-size",
          `the weight image holds ${init.length} bytes for region "${r.name}", which has ${r.bytes}`,
          { fix: "simulate the program with the weight image written for it" },
        );
      }
      this.regions.set(r.name, new RegionMem(r, init));
    }
    if (image.offDdr && !this.regions.has(OFF_DDR)) {
      const def: DdrRegion = { name: OFF_DDR, offset: 0, bytes: image.offDdr.length, kind: "table" };
      this.regions.set(OFF_DDR, new RegionMem(def, image.offDdr));
    }
  }

  /** The region, after checking that [off, off+len) lies inside it. */
  at(name: string, off: number, len: number, what: string): RegionMem {
    const r = this.regions.get(name);
    if (!r) throw fault("addr-range", `${what}: the program has no DDR region "${name}"`);
    if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > r.def.bytes) {
      throw fault(
        "addr-range",
        `${what}: bytes ${off}..${off + len - 1} (${len} bytes) are outside region "${name}" (${r.def.bytes} bytes)`,
      );
    }
    return r;
  }

  region(name: string): RegionMem | undefined {
    return this.regions.get(name);
  }

  readBf16(r: RegionMem, off: number, n: number, out: Float32Array, outOff: number): void {
    if (this.exact && r.wide) {
      out.set(r.wide.subarray(off >>> 1, (off >>> 1) + n), outOff);
      return;
    }
    const b = r.bytes;
    const u = new Uint32Array(out.buffer, out.byteOffset + outOff * 4, n);
    for (let i = 0, p = off; i < n; i++, p += 2) u[i] = ((b[p]! | (b[p + 1]! << 8)) << 16) >>> 0;
  }

  /** Stores n values as BF16 (RNE); exact mode also keeps them exact in the wide copy. */
  writeBf16(r: RegionMem, off: number, src: ArrayLike<number>, start: number, n: number): void {
    const b = r.bytes;
    for (let i = 0, p = off; i < n; i++, p += 2) {
      const h = f32ToBf16(src[start + i]!);
      b[p] = h & 0xff;
      b[p + 1] = h >>> 8;
    }
    if (this.exact) {
      const w = r.wideCopy();
      for (let i = 0; i < n; i++) w[(off >>> 1) + i] = Math.fround(src[start + i]!);
    }
    r.lastType = "bf16";
  }

  readTyped(r: RegionMem, off: number, n: number, type: ElemType): Float32Array {
    const out = new Float32Array(n);
    if (type === "bf16") {
      this.readBf16(r, off, n, out, 0);
      return out;
    }
    const b = r.bytes;
    if (type === "int4") {
      for (let i = 0; i < n; i++) {
        const byte = b[off + (i >>> 1)]!;
        out[i] = ((((i & 1 ? byte >>> 4 : byte) & 15) ^ 8) - 8) as number;
      }
      return out;
    }
    const dv = new DataView(b.buffer, b.byteOffset + off, n * 4);
    for (let i = 0; i < n; i++)
      out[i] = type === "f32" ? dv.getFloat32(i * 4, true) : dv.getInt32(i * 4, true);
    return out;
  }

  writeTyped(r: RegionMem, off: number, src: ArrayLike<number>, type: ElemType): void {
    const n = src.length;
    if (type === "bf16") {
      this.writeBf16(r, off, src, 0, n);
      return;
    }
    const b = r.bytes;
    if (type === "int4") {
      for (let i = 0; i < n; i++) {
        const p = off + (i >>> 1);
        const v = src[i]! & 15;
        b[p] = i & 1 ? (b[p]! & 0x0f) | (v << 4) : (b[p]! & 0xf0) | v;
      }
      r.refreshWide(off, Math.ceil(n / 2));
    } else {
      const dv = new DataView(b.buffer, b.byteOffset + off, n * 4);
      for (let i = 0; i < n; i++) {
        if (type === "f32") dv.setFloat32(i * 4, src[i]!, true);
        else dv.setInt32(i * 4, src[i]!, true);
      }
      r.refreshWide(off, n * 4);
    }
    r.lastType = type;
  }
}
