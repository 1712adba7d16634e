/**
 * Benchmark suite "quant": INT4 quantization throughput of a Llama-3.2-1B-shaped BF16 workload
 * (every linear weight of the model, ≈2.47 GB of BF16, tied embeddings counted once) on the worker
 * pool, and the process's peak RSS. Row blocks are generated on the fly by copying windows of a
 * 16 MiB pool of Gaussian BF16 values (σ 0.02, every 4096th value ×8 for a heavy tail), so the input stays realistic
 * without holding the model in memory; the copy stands in for the safetensors reader's read.
 *
 * Run alone: `npx tsx bench/quant.ts` (or `npm run bench quant` once registered in suites.ts).
 */
import { pathToFileURL } from "node:url";
import {
  DEFAULT_SCHEME,
  QuantPool,
  type QuantScheme,
  QuantStats,
  quantizeRows,
  type RowBlock,
} from "../src/layout/quant/index.js";
import { f32ToBf16 } from "../src/util/float.js";
import type { BenchFigure, BenchSuite } from "./types.js";

/** meta-llama/Llama-3.2-1B config.json: hidden 2048, intermediate 8192, 16 layers, 32/8 heads of 64. */
const LLAMA_1B = {
  hidden: 2048,
  intermediate: 8192,
  layers: 16,
  heads: 32,
  kvHeads: 8,
  headDim: 64,
  vocab: 128256,
};

interface Weight {
  readonly name: string;
  readonly n: number;
  readonly k: number;
}

export function llamaWeights(c = LLAMA_1B): Weight[] {
  const out: Weight[] = [{ name: "model.embed_tokens.weight", n: c.vocab, k: c.hidden }];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      { name: `${p}.self_attn.q_proj.weight`, n: c.heads * c.headDim, k: c.hidden },
      { name: `${p}.self_attn.k_proj.weight`, n: c.kvHeads * c.headDim, k: c.hidden },
      { name: `${p}.self_attn.v_proj.weight`, n: c.kvHeads * c.headDim, k: c.hidden },
      { name: `${p}.self_attn.o_proj.weight`, n: c.hidden, k: c.heads * c.headDim },
      { name: `${p}.mlp.gate_proj.weight`, n: c.intermediate, k: c.hidden },
      { name: `${p}.mlp.up_proj.weight`, n: c.intermediate, k: c.hidden },
      { name: `${p}.mlp.down_proj.weight`, n: c.hidden, k: c.intermediate },
    );
  }
  return out;
}

/** 16 MiB of BF16 bits, N(0, 0.02²) with every 4096th value ×8, from a fixed seed. */
function makeValuePool(values = 8 << 20): Uint16Array {
  const pool = new Uint16Array(values);
  let s = 0x9e3779b9;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  for (let i = 0; i < values; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rand())) * 0.02;
    const t = 2 * Math.PI * rand();
    const o = i % 4096 === 0 ? 8 : 1;
    pool[i] = f32ToBf16(r * Math.cos(t) * o);
    if (i + 1 < values) pool[i + 1] = f32ToBf16(r * Math.sin(t));
  }
  return pool;
}

/** Row blocks of about `blockBytes` of BF16, each a fresh copy of a window of the pool. */
function* bf16Blocks(w: Weight, pool: Uint16Array, blockBytes: number, seed: number): Generator<RowBlock> {
  const rowsPerBlock = Math.max(1, Math.floor(blockBytes / (2 * w.k)));
  let off = (seed * 7919) % pool.length;
  for (let r = 0; r < w.n; r += rowsPerBlock) {
    const n = Math.min(rowsPerBlock, w.n - r) * w.k;
    off = (off + 1_000_003) % (pool.length - n);
    yield { kind: "bf16", bits: pool.slice(off, off + n) };
  }
}

export interface QuantRun {
  readonly bytes: number;
  readonly seconds: number;
  /** CPU time of the whole process (all threads) during the run. */
  readonly cpuSeconds: number;
  readonly minSnrDb: number;
  readonly meanCosine: number;
}

/** Quantize `weights` with `threads` workers; returns BF16 input bytes, wall time and error figures. */
export async function runWorkload(
  weights: readonly Weight[],
  threads: number,
  scheme: QuantScheme = DEFAULT_SCHEME,
  blockBytes = 2 << 20,
): Promise<QuantRun> {
  const pool = makeValuePool();
  const workers = new QuantPool(threads);
  let bytes = 0;
  let minSnrDb = Number.POSITIVE_INFINITY;
  let cosSum = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  // Two tensors in flight on the shared pool, so that one tensor's last blocks overlap the next
  // tensor's first ones instead of leaving the workers idle while a tensor drains.
  let next = 0;
  const lane = async () => {
    while (next < weights.length) {
      const i = next++;
      const w = weights[i]!;
      const stats = new QuantStats();
      const blocks = bf16Blocks(w, pool, blockBytes, i);
      for await (const c of quantizeRows(blocks, { k: w.k, scheme, pool: workers, tensor: w.name })) {
        stats.merge(c.stats);
      }
      const s = stats.summary();
      minSnrDb = Math.min(minSnrDb, s.snrDb);
      cosSum += s.cosine;
      bytes += w.n * w.k * 2;
    }
  };
  try {
    await Promise.all([lane(), lane()]);
  } finally {
    await workers.close();
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    bytes,
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    minSnrDb,
    meanCosine: cosSum / weights.length,
  };
}

export const quantSuite: BenchSuite = {
  name: "quant",
  async run(): Promise<readonly BenchFigure[]> {
    const all = llamaWeights();
    const full = await runWorkload(all, 2);
    const rssMb = process.resourceUsage().maxRSS / 1024;
    // Smaller runs for scaling and the clipping search: the first two layers.
    const two = all.slice(1, 15);
    const one = await runWorkload(two, 1);
    const search = await runWorkload(two.slice(0, 7), 2, { ...DEFAULT_SCHEME, quantSearch: true });
    const g128 = await runWorkload(two, 2, { ...DEFAULT_SCHEME, scaleGroup: 128 });
    const mbps = (r: QuantRun) => r.bytes / 1e6 / r.seconds;
    return [
      {
        name: "throughput (2 threads, per-row BF16 scales)",
        value: mbps(full),
        unit: "MB/s of BF16 input",
        target: { op: ">=", value: 400 },
        note: `${(full.bytes / 1e9).toFixed(2)} GB in ${full.seconds.toFixed(2)} s`,
      },
      {
        name: "throughput per CPU-second (2 threads)",
        value: full.bytes / 1e6 / full.cpuSeconds,
        unit: "MB/CPU-s",
        note: "all threads' CPU time; ×2 is the rate two uncontended cores would give",
      },
      { name: "peak RSS", value: rssMb, unit: "MB", target: { op: "<=", value: 512 } },
      { name: "throughput (1 thread)", value: mbps(one), unit: "MB/s of BF16 input", note: "layers 0-1" },
      {
        name: "throughput (2 threads, group 128)",
        value: mbps(g128),
        unit: "MB/s of BF16 input",
        note: "layers 0-1",
      },
      {
        name: "throughput (2 threads, quantSearch)",
        value: mbps(search),
        unit: "MB/s of BF16 input",
        note: "layer 0",
      },
      { name: "min tensor SNR", value: full.minSnrDb, unit: "dB", note: "Gaussian weights, per-row scales" },
      { name: "mean tensor cosine", value: full.meanCosine, unit: "" },
    ];
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const f of await quantSuite.run()) {
    const tgt = f.target ? ` (target ${f.target.op} ${f.target.value})` : "";
    process.stdout.write(`${f.name}: ${f.value.toFixed(3)} ${f.unit}${tgt}${f.note ? ` — ${f.note}` : ""}\n`);
  }
}
