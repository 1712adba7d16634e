/**
 * GEMV and GEMM (docs/program.md §4.1, §4.3): shape from the fmap_shape entry, tile descriptor from
 * the weight_shape entry, limits from the target, one tile pulled from the ports that feed the
 * engine (rows split over them), activations quantized by the numeric model, results rounded into
 * L2 (accumulated with accm), e_max tracked with findemax.
 */
import type { InstrOf } from "../../isa/index.js";
import { fault } from "./faults.js";
import { tileDot, tileDotGeneral } from "./kernel.js";
import type { SimState, StepCtx } from "./state.js";
import { BEAT_CODES, splitRows, type TileLayout, tileLayout } from "./tile.js";

type MatInstr = InstrOf<"GEMV"> | InstrOf<"GEMM">;

interface Shape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

function checkShape(s: SimState, op: "GEMV" | "GEMM", f: MatInstr["fields"], sh: Shape): void {
  const t = s.target.file;
  const cache = t.activation_cache;
  const at = `${op} (M, N, K) = (${sh.m}, ${sh.n}, ${sh.k}) from fmap_shape entry ${f.shape_ptr_addr}`;
  if (op === "GEMV" && sh.m !== 1) throw fault("shape", `${at}: a GEMV takes one activation row (M = 1)`);
  if (sh.k > cache.elements) {
    throw fault(
      "shape",
      `${at}: K exceeds the activation cache (${cache.elements} elements); split K and merge with accm`,
    );
  }
  if (sh.k > cache.k_accumulation_limit) {
    throw fault(
      "shape",
      `${at}: K exceeds the accumulation limit (${cache.k_accumulation_limit}); split K and merge with accm`,
    );
  }
  if (op === "GEMV") {
    const lanes = f.parallel_lane === 0 ? t.gemv.cores : f.parallel_lane;
    if (lanes > t.gemv.cores) {
      throw fault(
        "shape",
        `GEMV parallel_lane = ${f.parallel_lane}: the target has ${t.gemv.cores} GEMV cores`,
      );
    }
    if (sh.n > t.gemv.max_rows_per_lane * lanes) {
      throw fault(
        "shape",
        `${at}: N exceeds ${t.gemv.max_rows_per_lane} rows per lane × ${lanes} lanes = ${t.gemv.max_rows_per_lane * lanes}`,
      );
    }
  } else {
    const max = t.gemm.max_output_elements_per_instruction;
    if (max !== undefined && sh.m * sh.n > max) {
      throw fault("shape", `${at}: M·N = ${sh.m * sh.n} exceeds the ${max} result elements one GEMM writes`);
    }
  }
}

export function execMatmul(s: SimState, instr: MatInstr, ctx: StepCtx): void {
  const op = instr.opcode;
  const f = instr.fields;
  const [m = 0, n = 0, k = 0] = s.readConst("fmap_shape", f.shape_ptr_addr, `${op} shape_ptr_addr`);
  const sh = { m, n, k };
  checkShape(s, op, f, sh);
  const [order = 0, group = 0, reserved = 0] = s.readConst(
    "weight_shape",
    f.size_ptr_addr,
    `${op} size_ptr_addr`,
  );
  if (order > 1 || reserved !== 0) {
    throw fault(
      "shape",
      `${op} size_ptr_addr = ${f.size_ptr_addr}: weight_shape entry (${order}, ${group}, ${reserved}) is not a tile ` +
        `descriptor (order 0 or 1, group, 0)`,
    );
  }
  if (m === 0 || n === 0 || k === 0) return; // an empty tile is a no-op (docs/program.md §2)
  const cls = op === "GEMV" ? "gemv" : "gemm";
  const epw = s.l2.epw;
  const kRow = s.l2.words(k) * epw;
  const nRow = s.l2.words(n) * epw;
  const src = s.l2.vector(cls, "src_addr", f.src_addr, (m - 1) * kRow + k);
  const dst = s.l2.vector(cls, "dest_reg", f.dest_reg, (m - 1) * nRow + n);
  const what = `${op} ${ctx.label}`;
  s.hazards.checkRead("l2", src.w0, src.w1, what);
  if (f.flags.accm) s.hazards.checkRead("l2", dst.w0, dst.w1, what);
  s.hazards.checkWrite("l2", dst.w0, dst.w1, what);

  // The tile: rows split over the feeding ports (§4.3); check every port before consuming any.
  const fmt = {
    order: order as 0 | 1,
    group,
    scales: f.flags.w_scale === 1,
    scaleDtype: s.numeric.scaleDtype,
  };
  const ports = s.feeds[cls];
  const parts = splitRows(n, ports.length);
  const layouts: (TileLayout | undefined)[] = [];
  for (const [j, part] of parts.entries()) {
    if (part.count === 0) {
      layouts.push(undefined);
      continue;
    }
    const lay = tileLayout(part.count, k, fmt);
    if (typeof lay === "string") throw fault("shape", `${op} weight_shape entry ${f.size_ptr_addr}: ${lay}`);
    const port = ports[j]!;
    if (port.available < lay.bytes) {
      throw fault(
        "stream-underrun",
        `${op} needs ${lay.bytes} bytes on ${port.name} (rows ${part.start}..${part.start + part.count - 1} of ` +
          `${n} × ${k}) but only ${port.available} were DMA'd before it`,
      );
    }
    layouts.push(lay);
  }

  const blocks = Math.ceil(k / BEAT_CODES);
  const kPad = blocks * BEAT_CODES;
  s.scratch(m * kPad, m * n);
  const xv = s.xv;
  const l2 = s.l2.data;
  for (let r = 0; r < m; r++) {
    const row = xv.subarray(r * kPad, (r + 1) * kPad);
    s.numeric.quantizeRow(l2, src.el + r * kRow, k, row);
    row.fill(0, k);
  }
  const y = s.y;
  const readScale = fmt.scales ? s.numeric.readScale : undefined;
  // Groups that are whole beats take the fast path; others (and exact KV codes) the general one.
  const beatGroups = !fmt.scales || group === 0 || group % BEAT_CODES === 0;
  for (const [j, part] of parts.entries()) {
    const lay = layouts[j];
    if (!lay) continue;
    const port = ports[j]!;
    const { buf, base, codes } = port.take(lay.bytes, s.mode === "exact");
    s.counters.streamBytes[port.name] = (s.counters.streamBytes[port.name] ?? 0) + lay.bytes;
    const sub = { buf, base, rowStart: part.start, rows: part.count, layout: lay };
    if (beatGroups && !codes) tileDot(sub, xv, kPad, m, n, y, readScale);
    else tileDotGeneral(sub, xv, kPad, m, n, k, y, readScale, group, codes);
  }
  writeResults(s, f, dst.el, nRow, sh, y);
  s.counters.macs += m * n * k;
}

/** r(y) (or r(dest + y) with accm) into M rows at dest; e_max over the written values. */
function writeResults(
  s: SimState,
  f: MatInstr["fields"],
  dstEl: number,
  nRow: number,
  sh: Shape,
  y: Float64Array,
): void {
  const l2 = s.l2.data;
  const store = s.numeric.store;
  const accm = f.flags.accm === 1;
  const track = f.flags.findemax === 1;
  if (track && s.emaxResetPending) {
    s.emax = Number.NEGATIVE_INFINITY;
    s.emaxResetPending = false;
  }
  let emax = s.emax;
  for (let r = 0; r < sh.m; r++) {
    const o = dstEl + r * nRow;
    for (let i = 0; i < sh.n; i++) {
      const v32 = Math.fround(y[r * sh.n + i]!);
      const v = store(accm ? Math.fround(l2[o + i]! + v32) : v32);
      l2[o + i] = v;
      if (v > emax) emax = v;
    }
  }
  if (track) {
    s.emax = emax;
    s.emaxSet = true;
  }
}
