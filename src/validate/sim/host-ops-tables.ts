/**
 * Host functions that build or read tables in DDR (src/codegen/host-ops): `gather_rows` (embedding
 * rows by token, BF16 or INT4 table rows), `rope_table` (the cos/sin table the load segment fills),
 * `fill` (constant words) and `spread_words` (one value per L2 word). Float32, `bf16(·)` through the
 * call (identity in exact mode).
 */
import { fault } from "./faults.js";
import type { HostImpl } from "./host-ops.js";
import { slotsPerBlock } from "./kv-tiles.js";

const f = Math.fround;

/**
 * Table rows by token: row r at table + r·rowStride, BF16, or an INT4 table row (codes padded to a
 * beat, then its scales in the target's scale dtype, one per `group` elements or per row).
 */
const gatherRows: HostImpl = (c) => {
  const width = c.num("width");
  const scale = c.num("scale");
  const stride = c.num("rowStride");
  const format = c.str("format");
  const group = c.num("group");
  const names = c
    .str("tokens")
    .split(",")
    .map((s) => s.trim());
  const table = c.inputs[0]!;
  const bytes = table.region.bytes;
  const out = c.outputs[0]!.view;
  const codesPerBeat = slotsPerBlock(c.state);
  const beatBytes = (codesPerBeat * c.state.target.derived.numeric.weight_bits) / 8;
  const codeBytes = Math.ceil(width / codesPerBeat) * beatBytes;
  const sb = c.state.numeric.scaleBytes;
  names.forEach((name, t) => {
    const tok = c.variable(name);
    const row = table.op.offset + tok * stride;
    const len = format === "bf16" ? 2 * width : codeBytes + sb * (group === 0 ? 1 : Math.ceil(width / group));
    c.state.ddr.at(table.op.region, row, len, `host gather_rows ${name} = ${tok}`);
    for (let j = 0; j < width; j++) {
      let x: number;
      if (format === "bf16") x = bf16At(bytes, row + 2 * j);
      else if (format === "int4_table") {
        const byte = bytes[row + (j >>> 1)]!;
        const q = (((j & 1 ? byte >>> 4 : byte) & 15) ^ 8) - 8;
        const g = group === 0 ? 0 : Math.floor(j / group);
        x = f(q * c.state.numeric.readScale(bytes, row + codeBytes + sb * g));
      } else throw fault("host-op", `host gather_rows: format "${format}" is not int4_table or bf16`);
      out.set(t, j, c.bf16(f(scale * x)));
    }
  });
};

const bf16Bits = new Uint32Array(1);
const bf16Val = new Float32Array(bf16Bits.buffer);
function bf16At(b: Uint8Array, at: number): number {
  bf16Bits[0] = ((b[at]! | (b[at + 1]! << 8)) << 16) >>> 0;
  return bf16Val[0]!;
}

/** A RoPE cos/sin table, one row per position (the load segment fills it). */
const ropeTable: HostImpl = (c) => {
  const mode = c.str("mode");
  const d = c.num("rotaryDim");
  const positions = c.num("positions");
  const half = c.num("halfBytes");
  const af = c.num("attentionFactor");
  const inv = c.nums("invFreq");
  const out = c.outputs[0]!;
  const r = c.state.ddr.at(out.op.region, out.op.offset, positions * 2 * half, "host rope_table");
  const freq = (p: number, i: number): number => {
    if (mode === "switch" && p + 1 > c.num("switchAt")) return c.nums("invFreqLong")[i]!;
    if (mode !== "dynamic") return inv[i]!;
    const theta = c.num("theta");
    const factor = c.num("factor");
    const maxPos = c.num("maxPos");
    const len = Math.max(p + 1, maxPos);
    const base = f(theta * f(f(f(f(factor * len) / maxPos) - f(factor - 1)) ** f(d / (d - 2))));
    return f(base ** f((-2 * i) / d));
  };
  const cos = new Float32Array(d / 2);
  const sin = new Float32Array(d / 2);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < d / 2; i++) {
      const a = f(p * f(freq(p, i)));
      cos[i] = c.bf16(f(f(Math.cos(a)) * af));
      sin[i] = c.bf16(f(f(Math.sin(a)) * af));
    }
    const at = out.op.offset + p * 2 * half;
    c.state.ddr.writeBf16(r, at, cos, 0, d / 2);
    c.state.ddr.writeBf16(r, at + half, sin, 0, d / 2);
  }
};

/** Zeros, then runs (first element, count, value) of one value each. */
const fill: HostImpl = (c) => {
  const runs = c.nums("runs");
  const out = c.outputs[0]!.view.data;
  if (runs.length % 3 !== 0)
    throw fault("host-op", `host fill: runs holds ${runs.length} numbers, not triples`);
  out.fill(0);
  for (let k = 0; k < runs.length; k += 3) {
    const [first, count, value] = [runs[k]!, runs[k + 1]!, runs[k + 2]!];
    if (first + count > out.length) {
      throw fault(
        "host-op",
        `host fill: run ${first}..${first + count - 1} is past the ${out.length}-element output`,
      );
    }
    out.fill(c.bf16(value), first, first + count);
  }
};

const spreadWords: HostImpl = (c) => {
  const fillWith = c.str("fill") === "-inf" ? Number.NEGATIVE_INFINITY : 0;
  const v = c.inputs[0]!.view.data;
  const out = c.outputs[0]!.view.data;
  const epw = c.state.l2.epw;
  for (let i = 0; i < v.length; i++) {
    out[i * epw] = v[i]!;
    for (let e = 1; e < epw; e++) out[i * epw + e] = fillWith;
  }
};

export const TABLE_OPS: Readonly<Record<string, HostImpl>> = {
  fill,
  gather_rows: gatherRows,
  rope_table: ropeTable,
  spread_words: spreadWords,
};
