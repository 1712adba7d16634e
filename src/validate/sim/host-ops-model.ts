/**
 * Model-level host functions of src/codegen/host-ops: attention over a BF16 ring, KV writes (BF16
 * rows or the NPU's INT4 KV tiles), MoE routing, AltUp, RoPE from a cos/sin table (the table, row
 * gathers and constant fills are in host-ops-tables.ts). Float32 throughout (`f` after every
 * operation), as the list prescribes.
 */

import { fault } from "./faults.js";
import type { HostCall, HostImpl } from "./host-ops.js";
import { TABLE_OPS } from "./host-ops-tables.js";
import { slotsPerBlock, writeKvTiles } from "./kv-tiles.js";

const f = Math.fround;

/** Softmax or sigmoid scores of router logits, float32. */
function scores(logits: Float32Array, scoring: string): Float32Array {
  const out = new Float32Array(logits.length);
  if (scoring === "sigmoid") {
    for (let i = 0; i < logits.length; i++) out[i] = f(1 / f(1 + f(Math.exp(-logits[i]!))));
    return out;
  }
  let m = Number.NEGATIVE_INFINITY;
  for (const v of logits) m = Math.max(m, v);
  let s = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = f(Math.exp(f(logits[i]! - m)));
    s = f(s + out[i]!);
  }
  for (let i = 0; i < out.length; i++) out[i] = f(out[i]! / s);
  return out;
}

/** Indices of the k largest values, largest first, lower index on ties. */
function top(values: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b]! - values[a]! || a - b)
    .slice(0, k);
}

const moeRoute: HostImpl = (c) => {
  const layer = c.num("layer");
  const e = c.num("numExperts");
  const k = c.num("topK");
  const row = c.num("row", 0);
  let next = 1;
  const bias = c.bool("hasBias") ? c.inputs[next++]!.view.row(0) : undefined;
  const perExpert = c.bool("hasExpertScale") ? c.inputs[next++]!.view.row(0) : undefined;
  const logits = c.inputs[0]!.view.row(row).subarray(0, e);
  const s = scores(logits, c.str("scoring"));
  let choice: Float32Array | number[] = bias ? s.map((v, i) => f(v + bias[i]!)) : s;
  const groups = c.attrs["groups"];
  if (Array.isArray(groups)) {
    const [count, keep, score] = groups as readonly number[];
    const size = e / count!;
    const gs = Array.from({ length: count! }, (_, g) => {
      const members = Array.from(choice).slice(g * size, (g + 1) * size);
      if (score === 0) return Math.max(...members);
      const [a, b] = top(members, 2).map((i) => members[i]!);
      return f(a! + b!);
    });
    const kept = new Set(top(gs, keep!));
    choice = Array.from(choice, (v, i) => (kept.has(Math.floor(i / size)) ? v : Number.NEGATIVE_INFINITY));
  }
  const idx = top(choice, k);
  let w = idx.map((i) => s[i]!);
  if (c.bool("normalize")) {
    const total = w.reduce((a, b) => f(a + b), 0);
    w = w.map((v) => f(v / total));
  }
  const rs = c.num("routedScale");
  w = w.map((v, j) => {
    const scaled = f(v * rs);
    return perExpert ? f(scaled * perExpert[idx[j]!]!) : scaled;
  });
  const out = c.outputs[0]!.view;
  const epw = c.state.l2.epw;
  w.forEach((v, j) => {
    if (out.rows >= k) out.set(j, 0, v);
    else out.data[j * epw] = v;
    c.setVariable(`expert[${layer}][${j}]`, idx[j]!);
  });
};

const attention: HostImpl = (c) => {
  const layer = c.num("layer");
  const heads = c.num("heads");
  const kvHeads = c.num("kvHeads");
  const hd = c.num("headDim");
  const vhd = c.num("vHeadDim");
  const scale = c.num("scale");
  const cap = c.attrs["softcap"];
  const row = c.num("row", 0);
  const len = c.variable(`kv_len[${layer}]`);
  const q = c.inputs[0]!.view.row(row);
  const kd = c.inputs[1]!.view.data;
  const vd = c.inputs[2]!.view.data;
  const sinks = c.inputs[3]?.view.row(0);
  const out = c.outputs[0]!.view;
  const outRow = out.rows > row ? row : 0;
  if (
    (len - 1) * kvHeads * hd + kvHeads * hd > kd.length ||
    (len - 1) * kvHeads * vhd + kvHeads * vhd > vd.length
  ) {
    throw fault("host-op", `host attention: kv_len[${layer}] = ${len} rows exceed the ring operands`);
  }
  const s = new Float32Array(len);
  for (let h = 0; h < heads; h++) {
    const g = Math.floor((h * kvHeads) / heads);
    for (let j = 0; j < len; j++) {
      let dot = 0;
      const kb = (j * kvHeads + g) * hd;
      for (let d = 0; d < hd; d++) dot = f(dot + f(q[h * hd + d]! * kd[kb + d]!));
      const v = f(scale * dot);
      s[j] = typeof cap === "number" ? f(cap * f(Math.tanh(f(v / cap)))) : v;
    }
    const denom = softmaxInPlace(s, sinks ? sinks[h]! : Number.NEGATIVE_INFINITY);
    for (let d = 0; d < vhd; d++) {
      let acc = 0;
      for (let j = 0; j < len; j++) acc = f(acc + f(f(s[j]! / denom) * vd[(j * kvHeads + g) * vhd + d]!));
      out.set(outRow, h * vhd + d, acc);
    }
  }
};

/** Input `i`'s values, which must hold at least `need` elements. */
function operandOf(c: HostCall, i: number, need: number, what: string): Float32Array {
  const d = c.inputs[i]!.view.data;
  if (d.length < need) {
    throw fault(
      "host-op",
      `host ${c.fn}: input ${i} (${what}) holds ${d.length} elements, ${need} are needed`,
    );
  }
  return d;
}

/** Softmax weights of scores in place (max-subtracted, float32); returns their denominator. */
function softmaxInPlace(s: Float32Array, extra = Number.NEGATIVE_INFINITY): number {
  let m = extra;
  for (const v of s) m = Math.max(m, v);
  let denom = 0;
  for (let j = 0; j < s.length; j++) {
    s[j] = f(Math.exp(f(s[j]! - m)));
    denom = f(denom + s[j]!);
  }
  if (extra !== Number.NEGATIVE_INFINITY) denom = f(denom + f(Math.exp(f(extra - m))));
  return denom;
}

/** Sets kv_len / kv_blocks (and, for NPU tiles, kv_rows) of a layer for a token at pos + row (kv_view and kv_write). */
function kvLength(c: HostCall, layer: number, row: number, capacity: number): void {
  const len = Math.min(c.variable("pos") + row + 1, capacity);
  c.setVariable(`kv_len[${layer}]`, len);
  c.setVariable(`kv_blocks[${layer}]`, Math.ceil(len / slotsPerBlock(c.state)));
  // NPU tiles: the K rows of attention chunk ch carried by port j (the chunked Q·Kᵀ GEMVs).
  const chunk = c.attrs["chunk"];
  const ports = c.attrs["ports"];
  if (typeof chunk !== "number" || typeof ports !== "number") return;
  for (let ch = 0; ch < Math.ceil(capacity / chunk); ch++) {
    const n = Math.min(Math.max(len - ch * chunk, 0), chunk);
    const r = Math.ceil(n / ports);
    for (let j = 0; j < ports; j++)
      c.setVariable(`kv_rows[${layer}][${ch}][${j}]`, Math.min(Math.max(n - j * r, 0), r));
  }
}

const kvView: HostImpl = (c) => kvLength(c, c.num("layer"), c.num("row", 0), c.num("capacity"));

const kvWrite: HostImpl = (c) => {
  const layer = c.num("layer");
  const row = c.num("row", 0);
  const capacity = c.num("capacity");
  const slot = (c.variable("pos") + row) % capacity;
  const format = c.str("format");
  if (format === "bf16_rows") {
    const kScale = c.num("kScale");
    for (const [i, scaleBy] of [
      [0, kScale],
      [1, 1],
    ] as const) {
      const x = c.inputs[i]!.view.row(row);
      const o = c.outputs[i]!;
      const at = o.op.offset + slot * x.length * 2;
      const vals = x.map((v) => c.bf16(f(scaleBy * v)));
      c.state.ddr.writeTyped(
        c.state.ddr.at(o.op.region, at, x.length * 2, "host kv_write"),
        at,
        vals,
        "bf16",
      );
    }
  } else if (format === "int4_tiles") {
    writeKvTiles(c, slot, row);
  } else throw fault("host-op", `host kv_write: format "${format}" is not int4_tiles or bf16_rows`);
  c.setVariable(`kv_slot[${layer}]`, slot);
  kvLength(c, layer, row, capacity);
};

const rope: HostImpl = (c) => {
  const heads = c.num("heads");
  const hd = c.num("headDim");
  const offset = c.num("offset");
  const rd = c.num("rotaryDim");
  const style = c.str("style");
  const row0 = c.num("row");
  const rowBytes = c.num("tableRowBytes");
  const x = c.inputs[0]!.view;
  const table = c.inputs[1]!.view.data;
  const y = c.outputs[0]!.view;
  const half = rd / 2;
  const epw = c.state.l2.epw;
  const sinAt = Math.ceil(half / epw) * epw;
  const pos = c.variable("pos");
  for (let t = 0; t < y.rows; t++) {
    const base = ((pos + row0 + t) * rowBytes) / 2;
    if (base + sinAt + half > table.length) {
      throw fault(
        "host-op",
        `host rope: position ${pos + row0 + t} is past the rope table (${table.length} elements)`,
      );
    }
    const src = x.row(t);
    const dst = Float32Array.from(src);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const a = h * hd + offset + (style === "half" ? i : 2 * i);
        const b = h * hd + offset + (style === "half" ? i + half : 2 * i + 1);
        const cs = table[base + i]!;
        const sn = table[base + sinAt + i]!;
        dst[a] = f(f(src[a]! * cs) - f(src[b]! * sn));
        dst[b] = f(f(src[b]! * cs) + f(src[a]! * sn));
      }
    }
    y.setRow(t, dst);
  }
};

const altupPredict: HostImpl = (c) => {
  const n = c.num("n");
  const xs = c.inputs.slice(0, n).map((b) => b.view);
  const mods = c.inputs[n]!.view;
  const coefs = operandOf(c, n + 1, n * n * n, "coefs [N², N]");
  const rows = c.outputs[0]!.view.rows;
  for (let t = 0; t < rows; t++) {
    const m = mods.row(t);
    const co = Array.from({ length: n * n }, (_, k) => {
      let acc = 0;
      for (let i = 0; i < n; i++) acc = f(acc + f(coefs[k * n + i]! * m[i]!));
      return acc;
    });
    const rowsX = xs.map((x) => x.row(t));
    for (let j = 0; j < n; j++) {
      const out = Float32Array.from(rowsX[j]!);
      for (let e = 0; e < out.length; e++) {
        let acc = out[e]!;
        for (let i = 0; i < n; i++) acc = f(acc + f(co[j * n + i]! * rowsX[i]![e]!));
        out[e] = acc;
      }
      c.outputs[j]!.view.setRow(t, out);
    }
  }
};

const altupCorrect: HostImpl = (c) => {
  const n = c.num("n");
  const active = c.num("activeIndex");
  const clip = c.attrs["coefClip"];
  const preds = c.inputs.slice(0, n).map((b) => b.view);
  const activated = c.inputs[n]!.view;
  const mods = c.inputs[n + 1]!.view;
  const coefs = operandOf(c, n + 2, n * n, "coefs [N, N]");
  const rows = c.outputs[0]!.view.rows;
  for (let t = 0; t < rows; t++) {
    const m = mods.row(t);
    const co = Array.from({ length: n }, (_, j) => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        let w = coefs[j * n + i]!;
        if (typeof clip === "number") w = Math.min(Math.max(w, -clip), clip);
        acc = f(acc + f(w * m[i]!));
      }
      return f(acc + 1);
    });
    const act = activated.row(t);
    const pa = preds[active]!.row(t);
    const innov = act.map((v, e) => f(v - pa[e]!));
    for (let j = 0; j < n; j++) {
      const p = preds[j]!.row(t);
      c.outputs[j]!.view.setRow(
        t,
        p.map((v, e) => f(v + f(co[j]! * innov[e]!))),
      );
    }
  }
};

export const MODEL_OPS: Readonly<Record<string, HostImpl>> = {
  altup_correct: altupCorrect,
  altup_predict: altupPredict,
  attention,
  ...TABLE_OPS,
  kv_view: kvView,
  kv_write: kvWrite,
  moe_route: moeRoute,
  rope,
};

/** Host functions that write their outputs byte by byte (their operands are not read back). */
export const RAW_OUTPUT_OPS: ReadonlySet<string> = new Set(["kv_write", "rope_table"]);
/** Host functions that read their inputs byte by byte (tables in a layout of their own). */
export const RAW_INPUT_OPS: ReadonlySet<string> = new Set(["gather_rows"]);
