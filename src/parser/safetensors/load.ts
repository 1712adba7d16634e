/**
 * Building a TensorIndex from a WeightSet: every shard's header is read and validated, and for a
 * sharded checkpoint the index's weight_map and the shard headers are checked against each other
 * (a mapped tensor missing from its shard is an error; a tensor in a shard but not in the map is a
 * warning, and the tensor is still indexed unless another shard holds the mapped copy).
 */
import { stat } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { type DiagnosticSink, invalidInput } from "../../diag/index.js";
import { readSafetensorsHeader } from "./file.js";
import type { SafetensorsHeader } from "./header.js";
import { type TensorEntry, TensorIndex } from "./tensor-index.js";
import type { WeightSet } from "./weights.js";

export interface OpenIndexOptions {
  /** Receives warnings (unmapped tensors, total_size mismatch). */
  readonly diag?: DiagnosticSink;
  readonly weightBlockSize?: readonly [number, number];
  /** Shard headers read in parallel. */
  readonly concurrency?: number;
}

export async function openTensorIndex(set: WeightSet, opts: OpenIndexOptions = {}): Promise<TensorIndex> {
  await checkShardsExist(set);
  const headers = await mapLimited(set.shards, opts.concurrency ?? 8, readSafetensorsHeader);
  const entries = set.weightMap ? crossCheck(set, headers, opts.diag) : allEntries(headers);
  checkTotalSize(set, entries, opts.diag);
  return new TensorIndex(entries, {
    files: set.shards,
    metadata: new Map(headers.map((h) => [h.file, h.metadata])),
    weightBlockSize: opts.weightBlockSize,
  });
}

function toEntry(h: SafetensorsHeader, t: SafetensorsHeader["tensors"][number]): TensorEntry {
  return {
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    file: h.file,
    dataOffset: h.dataStart + t.begin,
    byteLength: t.end - t.begin,
  };
}

function allEntries(headers: readonly SafetensorsHeader[]): TensorEntry[] {
  return headers.flatMap((h) => h.tensors.map((t) => toEntry(h, t)));
}

async function checkShardsExist(set: WeightSet): Promise<void> {
  const missing: string[] = [];
  for (const s of set.shards) {
    try {
      await stat(s);
    } catch {
      missing.push(s);
    }
  }
  if (missing.length === 0) return;
  const names = missing.map((m) => (set.kind === "index" ? relative(dirname(set.file), m) : m));
  throw invalidInput(
    "weights/shard-missing",
    `${missing.length} of ${set.shards.length} safetensors file(s) named by ${set.file} are missing: ` +
      names.join(", "),
    { at: { file: set.file }, fix: "download the missing shards (the checkpoint is incomplete)" },
  );
}

function crossCheck(
  set: WeightSet,
  headers: readonly SafetensorsHeader[],
  diag?: DiagnosticSink,
): TensorEntry[] {
  const map = set.weightMap!;
  const header = new Map(headers.map((h) => [h.file, h]));
  const byFile = new Map(headers.map((h) => [h.file, new Map(h.tensors.map((t) => [t.name, t]))]));
  const missing: string[] = [];
  const entries: TensorEntry[] = [];
  for (const [name, shard] of map) {
    const t = byFile.get(shard)?.get(name);
    if (!t) missing.push(`${name} (→ ${relative(dirname(set.file), shard)})`);
    else entries.push(toEntry(header.get(shard)!, t));
  }
  if (missing.length) {
    const shown =
      missing.length > 10 ? [...missing.slice(0, 10), `... (${missing.length - 10} more)`] : missing;
    throw invalidInput(
      "weights/missing-tensor",
      `${missing.length} tensor(s) of the weight_map are not in the shard the map names: ${shown.join(", ")}`,
      {
        at: { file: set.file, jsonPath: "$.weight_map" },
        fix: "the index and the shards disagree; re-download both",
      },
    );
  }
  const unmapped = new Set<string>();
  for (const h of headers) {
    for (const t of h.tensors) {
      const mapped = map.get(t.name);
      if (mapped === h.file) continue;
      const where = relative(dirname(set.file), h.file);
      if (mapped === undefined && !unmapped.has(t.name)) {
        unmapped.add(t.name);
        diag?.warn(
          "weights/unmapped-tensor",
          `tensor "${t.name}" is in ${where} but not in the weight_map; indexed`,
          {
            at: { file: h.file },
          },
        );
        entries.push(toEntry(h, t));
      } else {
        diag?.warn(
          "weights/duplicate-tensor",
          `tensor "${t.name}" is also in ${where}; the first indexed copy is used`,
          { at: { file: h.file } },
        );
      }
    }
  }
  return entries;
}

function checkTotalSize(set: WeightSet, entries: readonly TensorEntry[], diag?: DiagnosticSink): void {
  const declared = set.indexMetadata?.["total_size"];
  if (typeof declared !== "number") return;
  const actual = entries.reduce((s, e) => s + e.byteLength, 0);
  if (declared !== actual) {
    diag?.warn(
      "weights/total-size",
      `the index declares total_size ${declared} but the tensors hold ${actual} bytes`,
      { at: { file: set.file, jsonPath: "$.metadata.total_size" } },
    );
  }
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
