/**
 * Benchmark suite "layout": the whole weight-image path on a Llama-3.2-1B-shaped BF16 checkpoint
 * (≈2.47 GB, every tensor of the real config's graph, generated with the streaming safetensors
 * writer in os.tmpdir() and deleted afterwards): planLayout → a reference tiling (one tile per
 * ≤ 512 × 2048 block, round-robin hp2/hp3) → finalizeLayout → writeWeightImage on 2 threads.
 * Reports MB/s of BF16 checkpoint input and the process's peak RSS, for two runs: the plain one,
 * and one with every foldable RMSNorm folded into its projections (what `pccxc compile` does: the
 * q/k/v and gate/up tiles and the LM head are column-scaled on the workers, and the tied embedding
 * table needs its own quantization since its LM-head tiles are now scaled). Also the CPU time per
 * thread (Linux: /proc), so that the main thread's busy fraction and the workers' utilisation can
 * be judged on a shared machine, and the load average during the runs.
 *
 * Run alone: `npx tsx bench/layout.ts` or `npm run bench -- layout`.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  finalizeLayout,
  foldableNorms,
  type LayoutOptions,
  planLayout,
  simpleTiling,
  writeWeightImage,
} from "../src/layout/index.js";
import { parseConfigText } from "../src/parser/config/index.js";
import { openTensorIndex, type TensorToWrite, writeSafetensors } from "../src/parser/safetensors/index.js";
import { GraphBuilder, type ModelGraph } from "../src/resolver/graph/index.js";
import { lookupArchitecture } from "../src/resolver/registry.js";
import { loadTarget } from "../src/target/index.js";
import { f32ToBf16 } from "../src/util/float.js";
import type { BenchFigure, BenchSuite } from "./types.js";

const CONFIG = fileURLToPath(
  new URL("../examples/configs/meta-llama__Llama-3.2-1B/config.json", import.meta.url),
);

/** The Llama-3.2-1B graph from its real config through the llama plugin. */
export function llama1bGraph(): ModelGraph {
  const cfg = parseConfigText(readFileSync(CONFIG, "utf8"), CONFIG).text;
  const plugin = lookupArchitecture({ family: cfg.family, modelType: cfg.model_type });
  const b = new GraphBuilder({
    modelType: cfg.model_type,
    plugin: plugin.id,
    numLayers: cfg.num_hidden_layers,
    hiddenSize: cfg.hidden_size,
    vocabSize: cfg.vocab_size,
  });
  plugin.build(cfg, b);
  return b.finish("logits");
}

/** 16 MiB of BF16 bytes, N(0, 0.02²), fixed seed: windows of it fill every tensor. */
function valuePool(bytes = 16 << 20): Uint8Array {
  const out = new Uint8Array(bytes);
  let s = 0x2545f491;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  for (let i = 0; i < bytes; i += 2) {
    const v = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand()) * 0.02;
    const b = f32ToBf16(v);
    out[i] = b & 0xff;
    out[i + 1] = b >>> 8;
  }
  return out;
}

/** Writes a BF16 checkpoint holding every stored tensor of `g`, streamed in 4 MiB chunks. */
export async function generate(g: ModelGraph, file: string): Promise<number> {
  const pool = valuePool();
  const ones = new Uint8Array(4 << 20);
  for (let i = 0; i < ones.length; i += 2) [ones[i], ones[i + 1]] = [0x80, 0x3f]; // 1.0 in BF16
  let seed = 0;
  const tensors: TensorToWrite[] = g.weights
    .filter((w) => w.tiedTo === undefined)
    .map((w) => {
      const bytes = w.shape.reduce((p, d) => p * d, 1) * 2;
      const src = w.role === "norm" ? ones : pool;
      const start = (seed++ * 1_000_003 * 2) % (pool.length - (4 << 20));
      return {
        name: w.name,
        dtype: "BF16",
        shape: w.shape,
        data: async (write) => {
          for (let done = 0; done < bytes; ) {
            const n = Math.min(4 << 20, bytes - done);
            await write(src.subarray(w.role === "norm" ? 0 : start, (w.role === "norm" ? 0 : start) + n));
            done += n;
          }
        },
      };
    });
  const r = await writeSafetensors(file, tensors);
  return r.fileSize;
}

/**
 * CPU seconds per thread of this process (Linux /proc; empty elsewhere), sampled every 100 ms so
 * that worker threads are counted even after they exit (up to the last sample).
 */
class ThreadCpu {
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private readonly timer?: ReturnType<typeof setInterval>;

  constructor() {
    if (!existsSync("/proc/self/task")) return;
    this.sample(this.first);
    this.timer = setInterval(() => this.sample(this.last), 100);
    this.timer.unref();
  }

  private sample(into: Map<string, number>): void {
    let tids: string[];
    try {
      tids = readdirSync("/proc/self/task");
    } catch {
      return;
    }
    for (const tid of tids) {
      try {
        const st = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
        const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
        into.set(tid, (Number(f[11]) + Number(f[12])) / 100); // utime + stime, in clock ticks
      } catch {
        // the thread exited between the listing and the read
      }
    }
  }

  /** { main, workers: the two busiest other threads, others: the rest } in CPU seconds. */
  stop(): { main: number; workers: number[]; others: number } | undefined {
    if (!this.timer) return undefined;
    clearInterval(this.timer);
    this.sample(this.last);
    const used = [...this.last].map(([tid, t]) => ({ tid, t: t - (this.first.get(tid) ?? 0) }));
    const main = used.find((u) => u.tid === String(process.pid))?.t ?? 0;
    const rest = used.filter((u) => u.tid !== String(process.pid)).sort((a, b) => b.t - a.t);
    const workers = rest.slice(0, 2).map((u) => u.t);
    return { main, workers, others: rest.slice(2).reduce((a, u) => a + u.t, 0) };
  }
}

interface Run {
  readonly seconds: number;
  /** CPU time of the whole process (main thread and workers) during the run. */
  readonly cpuSeconds: number;
  readonly threads?: { main: number; workers: number[]; others: number };
  readonly load: number;
  readonly inputBytes: number;
  readonly imageBytes: number;
  readonly summary: string;
  readonly minCosine: number;
}

async function imageRun(g: ModelGraph, file: string, out: string, options: LayoutOptions): Promise<Run> {
  const target = loadTarget("kv260-v002");
  const index = await openTensorIndex({ kind: "single", file, shards: [file] });
  try {
    const threadCpu = new ThreadCpu();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const plan = planLayout(g, target, options);
    const segments = simpleTiling(plan, { rows: 512, cols: 2048, ports: ["hp2", "hp3"] });
    const wp = finalizeLayout(plan, segments);
    const { manifest } = await writeWeightImage(wp, segments, index, out, { threads: 2 });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const threads = threadCpu.stop();
    return {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      ...(threads ? { threads } : {}),
      load: loadavg()[0]!,
      inputBytes: index.totalBytes(),
      imageBytes: wp.image.bytes,
      summary: wp.summary,
      minCosine: Math.min(...manifest.quantization.map((q) => Number(q.error["cosine"]))),
    };
  } finally {
    await index.close();
  }
}

/** The figures of one run: throughput, CPU per second of input, and where the CPU time went. */
function runFigures(r: Run, label: string, target: boolean): BenchFigure[] {
  const t = r.threads;
  const split = t
    ? `; CPU-s main ${t.main.toFixed(2)} (busy ${((100 * t.main) / r.seconds).toFixed(0)} % of the run), ` +
      `workers ${t.workers.map((w) => w.toFixed(2)).join(" + ")} ` +
      `(${t.workers.map((w) => ((100 * w) / r.seconds).toFixed(0)).join(" / ")} % busy), ` +
      `I/O and GC threads ${t.others.toFixed(2)}`
    : "";
  return [
    {
      name: `weight image throughput, ${label}`,
      value: r.inputBytes / 1e6 / r.seconds,
      unit: "MB/s of BF16 input",
      ...(target ? { target: { op: ">=" as const, value: 400 } } : {}),
      note:
        `${(r.inputBytes / 1e9).toFixed(2)} GB checkpoint → ${(r.imageBytes / 1e9).toFixed(3)} GB image ` +
        `in ${r.seconds.toFixed(2)} s at load average ${r.load.toFixed(1)}; ${r.summary}`,
    },
    {
      name: `weight image throughput per CPU-second, ${label}`,
      value: r.inputBytes / 1e6 / r.cpuSeconds,
      unit: "MB/CPU-s",
      note: `${r.cpuSeconds.toFixed(2)} CPU-s over all threads (×2 ≈ the rate two free cores give)${split}`,
    },
  ];
}

export const layoutSuite: BenchSuite = {
  name: "layout",
  async run(): Promise<readonly BenchFigure[]> {
    const dir = mkdtempSync(join(tmpdir(), "pccxc-bench-layout-"));
    try {
      const g = llama1bGraph();
      const file = join(dir, "model.safetensors");
      const tg = performance.now();
      const size = await generate(g, file);
      const genSeconds = (performance.now() - tg) / 1000;
      const plain = await imageRun(g, file, join(dir, "out"), {});
      rmSync(join(dir, "out"), { recursive: true, force: true });
      const folded = await imageRun(g, file, join(dir, "out-folded"), {
        folded: new Set(foldableNorms(g).map((c) => c.norm)),
      });
      const rssMb = process.resourceUsage().maxRSS / 1024;
      return [
        ...runFigures(plain, "2 threads, per-row BF16 scales", true),
        ...runFigures(folded, "norms folded (as pccxc compile)", true),
        {
          name: "peak RSS",
          value: rssMb,
          unit: "MB",
          target: { op: "<=", value: 512 },
          note: "whole process over both runs, checkpoint generation included",
        },
        { name: "min tensor cosine", value: Math.min(plain.minCosine, folded.minCosine), unit: "" },
        {
          name: "checkpoint generation",
          value: size / 1e6 / genSeconds,
          unit: "MB/s",
          note: `${(size / 1e9).toFixed(2)} GB written to ${tmpdir()} (deleted afterwards)`,
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const f of await layoutSuite.run()) {
    const tgt = f.target ? ` (target ${f.target.op} ${f.target.value})` : "";
    process.stdout.write(`${f.name}: ${f.value.toFixed(3)} ${f.unit}${tgt}${f.note ? ` — ${f.note}` : ""}\n`);
  }
}
