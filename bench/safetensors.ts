/**
 * The "safetensors" suite: writes a 2 GiB BF16 checkpoint in os.tmpdir() with the streaming
 * writer, then streams every tensor back through TensorIndex.streamRows, decoding to float32, and
 * reports file bytes per second and the peak RSS seen while doing so. The file is deleted after.
 * The file was just written, so reads come mostly from the page cache: the figure measures the
 * reader and the decoder, not the disk.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTensorIndex } from "../src/parser/safetensors/load.js";
import { type TensorToWrite, writeSafetensors } from "../src/parser/safetensors/writer.js";
import type { BenchFigure, BenchSuite } from "./types.js";

const TENSORS = 16;
const ROWS = 8192;
const COLS = 8192; // 16 × 8192 × 8192 × 2 bytes = 2 GiB
const CHUNK = 16 * 1024 * 1024;

function tensorsToWrite(): TensorToWrite[] {
  // One 16 MiB block of BF16 values ±[1, 2), written repeatedly: generation must not dominate.
  const block = new Uint8Array(CHUNK);
  const words = new Uint16Array(block.buffer);
  for (let i = 0; i < words.length; i++) {
    const r = Math.imul(i + 1, 2654435761) >>> 0;
    words[i] = ((r >>> 31) << 15) | 0x3f80 | ((r >>> 16) & 0x7f);
  }
  const bytes = ROWS * COLS * 2;
  return Array.from({ length: TENSORS }, (_, t) => ({
    name: `model.layers.${t}.mlp.down_proj.weight`,
    dtype: "BF16" as const,
    shape: [ROWS, COLS],
    data: async (write) => {
      for (let off = 0; off < bytes; off += CHUNK)
        await write(block.subarray(0, Math.min(CHUNK, bytes - off)));
    },
  }));
}

async function run(): Promise<readonly BenchFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), "pccxc-bench-st-"));
  try {
    const file = join(dir, "model.safetensors");
    const tw = performance.now();
    const written = await writeSafetensors(file, tensorsToWrite(), { format: "pt" });
    const writeSeconds = (performance.now() - tw) / 1000;

    const index = await openTensorIndex({ kind: "single", file, shards: [file] });
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    let checksum = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const name of index.names()) {
      for await (const chunk of index.streamRows(name, undefined, { reuse: true })) {
        checksum += chunk.data[0]! + chunk.data[chunk.data.length - 1]!;
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    await index.close();
    const gb = written.fileSize / 1e9;
    return [
      {
        name: "stream+decode BF16→f32 throughput",
        value: gb / seconds,
        unit: "GB/s of file bytes",
        target: { op: ">=", value: 1 },
        note:
          `${gb.toFixed(2)} GB in ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU ` +
          `(${(gb / cpuSeconds).toFixed(2)} GB per CPU-second), warm page cache, checksum ${checksum.toFixed(1)}`,
      },
      {
        name: "peak RSS while streaming",
        value: peak / 2 ** 20,
        unit: "MiB",
        target: { op: "<=", value: 300 },
        note: `process maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (includes the write phase)`,
      },
      { name: "streaming write throughput", value: gb / writeSeconds, unit: "GB/s" },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const safetensorsSuite: BenchSuite = { name: "safetensors", run };
