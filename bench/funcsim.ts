/**
 * `npm run bench funcsim`: functional simulation throughput on a GEMV-heavy program — a sequence of
 * 2048 × 2048 GEMVs (per-row BF16 scales, the rows split over HP2/HP3) with their weight image, in
 * hardware and exact mode. Target: ≥ 50 M MAC/s. The figure counts only the MACs the program
 * does; DMA bookkeeping, activation quantization and result rounding are included in the time.
 */

import type { Program, Step } from "../src/codegen/program.js";
import { loadTarget } from "../src/target/index.js";
import { mulberry32 } from "../src/util/random.js";
import {
  imageFromRegions,
  type NumericMode,
  packTile,
  runFunctional,
  splitRows,
} from "../src/validate/sim/index.js";
import type { BenchFigure, BenchSuite } from "./types.js";

const N = 2048;
const K = 2048;
const MATRICES = 4;
const CALLS = 8;
const REPEATS = 3;

/** Seeded, so every run simulates the same weights. */
const prng = mulberry32;

const npu = (
  opcode: "GEMV" | "MEMSET",
  fields: Record<string, number | Record<string, number>>,
  label: string,
): Step => ({
  kind: "npu",
  instr: { opcode, fields },
  origin: { label },
});

/** The program and image: MATRICES weight matrices, each used CALLS / MATRICES times. */
export function gemvBenchProgram(): { program: Program; regions: Record<string, Uint8Array> } {
  const rnd = prng(7);
  const parts = splitRows(N, 2);
  const regions: Record<string, Uint8Array> = {};
  for (let w = 0; w < MATRICES; w++) {
    parts.forEach((part, j) => {
      const codes = Int8Array.from({ length: part.count * K }, () => Math.floor(rnd() * 16) - 8);
      const scales = Float32Array.from({ length: part.count }, () => 2 ** -6);
      regions[`w${w}p${j}`] = packTile(codes, scales, part.count, K, {
        order: 0,
        group: 0,
        scales: true,
        scaleDtype: "bf16",
      });
    });
  }
  const steps: Step[] = [
    npu("MEMSET", { dest_cache: 0, dest_addr: 1, a_value: 1, b_value: N, c_value: K }, "shape"),
    npu("MEMSET", { dest_cache: 1, dest_addr: 2, a_value: 0, b_value: 0, c_value: 0 }, "tile"),
  ];
  for (let c = 0; c < CALLS; c++) {
    const w = c % MATRICES;
    for (const [j, port] of (["hp2", "hp3"] as const).entries()) {
      const r = `w${w}p${j}`;
      steps.push({
        kind: "dma",
        port,
        region: r,
        offset: 0,
        bytes: regions[r]!.length,
        tag: c % 16,
        origin: { label: r },
      });
    }
    const fields = {
      dest_reg: 1024 + (c % 2) * 512,
      src_addr: 0,
      flags: { findemax: 0, accm: 0, w_scale: 1 },
      size_ptr_addr: 2,
      shape_ptr_addr: 1,
      parallel_lane: 0,
    };
    steps.push(npu("GEMV", fields, `gemv ${c}`));
  }
  const program: Program = {
    schemaVersion: 1,
    target: "kv260-v002",
    targetFingerprint: "",
    model: "bench",
    segments: [{ name: "decode", kind: "decode", steps }],
    relocations: [],
    variables: [],
    allocations: [],
    ddr: Object.entries(regions).map(([name, b]) => ({
      name,
      offset: 0,
      bytes: b.length,
      kind: "weights" as const,
    })),
  };
  return { program, regions };
}

function measure(mode: NumericMode): number {
  const target = loadTarget("kv260-v002");
  const { program, regions } = gemvBenchProgram();
  const image = imageFromRegions(regions);
  let best = Number.POSITIVE_INFINITY;
  let macs = 0;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = process.hrtime.bigint();
    const res = runFunctional(
      program,
      image,
      target,
      { runs: [{ segment: "decode", variables: {} }] },
      { mode },
    );
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    if (res.faults.length) throw new Error(`bench program faulted: ${res.faults[0]!.message}`);
    macs = res.stats.macs;
  }
  return macs / best;
}

async function run(): Promise<readonly BenchFigure[]> {
  const target = { op: ">=", value: 50e6 } as const;
  const note = `${CALLS} GEMVs of ${N}×${K} (${MATRICES} weight matrices, per-row BF16 scales), best of ${REPEATS}`;
  return [
    { name: "GEMV throughput, hardware mode", value: measure("hardware"), unit: "MAC/s", target, note },
    { name: "GEMV throughput, exact mode", value: measure("exact"), unit: "MAC/s", target, note },
  ];
}

export const funcsimSuite: BenchSuite = { name: "funcsim", run };
