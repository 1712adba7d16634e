/**
 * `kv_write` in the `int4_tiles` format (src/codegen/host-ops, docs/program.md §4.3 KV tiles): one
 * token's K and V rows quantized into the layer's ring so that the attention GEMVs stream them as
 * weight tiles.
 *
 * - K, per KV head g (area g·kHeadBytes of the K part): row `slot` of a row-major tile (headDim
 *   INT4 values, beat padded) and its scale beat at kScaleOffset + slot·beat (S = beat/scaleBytes
 *   groups of headDim/S elements): x = kScale·k, s = scale(max|x|/7), q = clamp(rne(x/s), −8, 7).
 * - V, per KV head and per GEMV port j (the features vParts[j] it carries): lane `slot mod 32` of
 *   block ⌊slot/32⌋ of port j's K-block-major sub-tile at vBase + g·vHeadBytes + vPortOffsets[j]
 *   (vParts[j] beats, then their scales padded to a beat); for each feature the block's 32 values
 *   (old nibbles dequantized, the new lane replaced) are requantized with s' = scale(max|values|/7).
 *
 * Exact mode keeps the unrounded codes (value / scale) beside the nibbles, so the engines see
 * exact K and V: KV quantization is activation quantization, which exact mode leaves out.
 */
import { encodeScales, roundScale } from "../../layout/quant/rounding.js";
import type { RegionMem } from "./ddr.js";
import { fault } from "./faults.js";
import type { HostCall } from "./host-ops.js";
import type { SimState } from "./state.js";

const f = Math.fround;

/** KV slots per V block: the INT4 values of one beat of the GEMV's ports. */
export function slotsPerBlock(s: SimState): number {
  const t = s.target;
  const port = t.derived.gemv.feed.ports[0]!;
  return (t.derived.ports[port]!.bytes_per_beat * 8) / t.derived.numeric.weight_bits;
}
const rne = (v: number) => v + 6755399441055744 - 6755399441055744;
const clamp = (q: number) => (q > 7 ? 7 : q < -8 ? -8 : q);

interface Writer {
  readonly r: RegionMem;
  readonly exact: boolean;
  readonly scaleBytes: number;
  readonly dtype: "bf16" | "f16" | "f32";
}

function setNibble(w: Writer, byteAt: number, odd: boolean, q: number, code: number): void {
  const b = w.r.bytes;
  const v = q & 15;
  b[byteAt] = odd ? (b[byteAt]! & 0x0f) | (v << 4) : (b[byteAt]! & 0xf0) | v;
  if (w.exact) w.r.codes()[2 * byteAt + (odd ? 1 : 0)] = code;
}

function nibble(w: Writer, byteAt: number, odd: boolean): { q: number; code: number } {
  const byte = w.r.bytes[byteAt]!;
  const q = (((odd ? byte >>> 4 : byte) & 15) ^ 8) - 8;
  const ex = w.r.exactCodes?.[2 * byteAt + (odd ? 1 : 0)];
  return { q, code: ex === undefined || Number.isNaN(ex) ? q : ex };
}

function setScale(w: Writer, at: number, s: number): void {
  w.r.bytes.set(encodeScales(Float32Array.of(s), w.dtype), at);
  w.r.refreshWide(at, w.scaleBytes);
}

function getScale(w: Writer, at: number, read: (b: Uint8Array, at: number) => number): number {
  return read(w.r.bytes, at);
}

/** Quantizes values with one scale: writes nibbles through `put(i, q, exactCode)`; returns the scale. */
function quantize(
  vals: ArrayLike<number>,
  dtype: Writer["dtype"],
  put: (i: number, q: number, code: number) => void,
): number {
  let m = 0;
  for (let i = 0; i < vals.length; i++) m = Math.max(m, Math.abs(vals[i]!));
  const s = roundScale(f(m / 7), dtype);
  for (let i = 0; i < vals.length; i++) {
    if (s === 0) put(i, 0, 0);
    else put(i, clamp(rne(f(vals[i]! / s))), vals[i]! / s);
  }
  return s;
}

export function writeKvTiles(c: HostCall, slot: number, row: number): void {
  const s = c.state;
  const kvHeads = c.num("kvHeads");
  const hd = c.num("headDim");
  const vhd = c.num("vHeadDim");
  const kScale = c.num("kScale");
  const kHeadBytes = c.num("kHeadBytes");
  const kScaleOffset = c.num("kScaleOffset");
  const vHeadBytes = c.num("vHeadBytes");
  const vParts = c.nums("vParts");
  const vPortOffsets = c.nums("vPortOffsets");
  const dtype = s.numeric.scaleDtype;
  const scaleBytes = s.numeric.scaleBytes;
  const codesPerBeat = slotsPerBlock(s);
  const beat = (codesPerBeat * s.target.derived.numeric.weight_bits) / 8;
  const perBeat = beat / scaleBytes;
  if (hd % perBeat !== 0) {
    throw fault("host-op", `host kv_write: headDim ${hd} does not split into ${perBeat} scale groups`);
  }
  if (vParts.length !== vPortOffsets.length || vParts.reduce((a, b) => a + b, 0) !== vhd) {
    throw fault(
      "host-op",
      `host kv_write: vParts [${vParts}] do not split vHeadDim ${vhd} over [${vPortOffsets}]`,
    );
  }
  const g = hd / perBeat;
  const kRowBytes = Math.ceil(hd / codesPerBeat) * beat;
  const kx = c.inputs[0]!.view.row(row);
  const vx = c.inputs[1]!.view.row(row);
  const [kc, vc] = [c.outputs[0]!.op, c.outputs[1]!.op];
  const vBase = typeof c.attrs["vBase"] === "number" ? c.attrs["vBase"] : vc.offset;
  const exact = s.mode === "exact";
  for (let h = 0; h < kvHeads; h++) {
    const base = kc.offset + h * kHeadBytes;
    const w: Writer = {
      r: s.ddr.at(kc.region, base, kHeadBytes, "host kv_write K"),
      exact,
      scaleBytes,
      dtype,
    };
    const x = Array.from({ length: hd }, (_, e) => f(kScale * kx[h * hd + e]!));
    for (let q0 = 0; q0 < perBeat; q0++) {
      const sc = quantize(x.slice(q0 * g, (q0 + 1) * g), dtype, (i, q, code) => {
        const e = q0 * g + i;
        setNibble(w, base + slot * kRowBytes + (e >>> 1), (e & 1) === 1, q, code);
      });
      setScale(w, base + kScaleOffset + slot * beat + scaleBytes * q0, sc);
    }
  }
  const lane = slot % codesPerBeat;
  const block = Math.floor(slot / codesPerBeat);
  for (let h = 0; h < kvHeads; h++) {
    let d0 = 0;
    for (const [j, n] of vParts.entries()) {
      const blockBytes = n * beat + Math.ceil((n * scaleBytes) / beat) * beat;
      const base = vBase + h * vHeadBytes + vPortOffsets[j]! + block * blockBytes;
      if (n > 0) {
        const w: Writer = {
          r: s.ddr.at(vc.region, base, blockBytes, "host kv_write V"),
          exact,
          scaleBytes,
          dtype,
        };
        for (let dl = 0; dl < n; dl++)
          requantizeLane(
            c,
            w,
            base + dl * beat,
            base + n * beat + scaleBytes * dl,
            lane,
            vx[h * vhd + d0 + dl]!,
          );
      }
      d0 += n;
    }
  }
}

/** One V feature's beat of a block: the 32 lane values with `lane` replaced, requantized together. */
function requantizeLane(
  c: HostCall,
  w: Writer,
  beatAt: number,
  scaleAt: number,
  lane: number,
  v: number,
): void {
  const old = getScale(w, scaleAt, c.state.numeric.readScale);
  const codesPerBeat = slotsPerBlock(c.state);
  const vals = Array.from({ length: codesPerBeat }, (_, l) => {
    if (l === lane) return v;
    const { q, code } = nibble(w, beatAt + (l >>> 1), (l & 1) === 1);
    return w.exact ? code * old : f(q * old);
  });
  const sc = quantize(vals, w.dtype, (l, q, code) =>
    setNibble(w, beatAt + (l >>> 1), (l & 1) === 1, q, code),
  );
  setScale(w, scaleAt, sc);
}
