/**
 * Choosing a checkpoint's safetensors set, the way transformers does: the sharded index
 * `model.safetensors.index.json` first, then `model.safetensors`; never every `*.safetensors`
 * in the directory (repos ship `consolidated.safetensors` beside the shards). `--weights` selects
 * a file or an index explicitly. Shard names from an index are checked before any path is built.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve, sep } from "node:path";
import { invalidInput, usageError } from "../../diag/index.js";
import { fsError } from "./io.js";

export const INDEX_FILE = "model.safetensors.index.json";
export const SINGLE_FILE = "model.safetensors";

export interface WeightSet {
  readonly kind: "index" | "single";
  /** The index file (kind "index") or the one safetensors file (kind "single"), absolute. */
  readonly file: string;
  /** Absolute shard paths, sorted, each once. */
  readonly shards: readonly string[];
  /** For an index: tensor name → absolute shard path. */
  readonly weightMap?: ReadonlyMap<string, string>;
  /** For an index: its `metadata` object (e.g. total_size). */
  readonly indexMetadata?: Readonly<Record<string, unknown>>;
}

export type WeightLookup =
  | { readonly found: true; readonly set: WeightSet }
  | { readonly found: false; readonly dir: string; readonly seen: readonly string[] };

export interface ParsedWeightIndex {
  /** Tensor name → shard name as written (relative to the index's directory). */
  readonly weightMap: ReadonlyMap<string, string>;
  /** Distinct shard names, sorted. */
  readonly shardNames: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Parses an index's text and checks every shard name; pure (used before downloading too). */
export function parseWeightIndexText(text: string, file: string): ParsedWeightIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalidInput("weights/index-json", `${file} is not valid JSON: ${(e as Error).message}`, {
      at: { file },
      fix: "re-download the index file",
    });
  }
  const obj = json as Record<string, unknown> | null;
  const wm = obj && typeof obj === "object" && !Array.isArray(obj) ? obj["weight_map"] : undefined;
  if (!wm || typeof wm !== "object" || Array.isArray(wm)) {
    throw invalidInput("weights/index-json", `${file} has no "weight_map" object`, {
      at: { file, jsonPath: "$.weight_map" },
    });
  }
  const weightMap = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(wm)) {
    checkShardName(shard, file, `$.weight_map[${JSON.stringify(tensor)}]`);
    weightMap.set(tensor, shard as string);
  }
  if (weightMap.size === 0) {
    throw invalidInput("weights/index-empty", `${file} maps no tensors (empty weight_map)`, { at: { file } });
  }
  const meta = obj!["metadata"];
  const metadata =
    meta && typeof meta === "object" && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {};
  return { weightMap, shardNames: [...new Set(weightMap.values())].sort(), metadata };
}

/** A shard name must be a plain relative path that stays inside the index's directory. */
export function checkShardName(name: unknown, file: string, jsonPath: string): void {
  const bad = (why: string) =>
    invalidInput("weights/bad-shard-name", `${file}: shard name ${JSON.stringify(name)} ${why}`, {
      at: { file, jsonPath },
      fix: "shard names must be plain file names relative to the index (e.g. model-00001-of-00002.safetensors)",
    });
  if (typeof name !== "string" || name.length === 0) throw bad("is not a non-empty string");
  if (name.includes("\\")) throw bad("contains a backslash");
  if (name.includes("\0")) throw bad("contains a NUL character");
  if (name.startsWith("/") || isAbsolute(name) || /^[A-Za-z]:/.test(name)) throw bad("is an absolute path");
  if (name.split("/").some((s) => s === "..")) throw bad("contains a '..' segment");
  const base = resolve(dirname(file));
  if (!resolve(base, name).startsWith(base + sep)) throw bad("leaves the index's directory");
}

/** Reads an index file into a WeightSet (shard existence is checked by openTensorIndex). */
export async function readWeightIndex(indexFile: string): Promise<WeightSet> {
  let text: string;
  try {
    text = await readFile(indexFile, "utf8");
  } catch (e) {
    throw fsError(e, indexFile, "reading the weight index");
  }
  const parsed = parseWeightIndexText(text, indexFile);
  const dir = dirname(indexFile);
  const weightMap = new Map([...parsed.weightMap].map(([t, s]) => [t, resolve(dir, s)]));
  return {
    kind: "index",
    file: indexFile,
    shards: parsed.shardNames.map((s) => resolve(dir, s)),
    weightMap,
    indexMetadata: parsed.metadata,
  };
}

/** A weight set named explicitly (`--weights`): an `*.index.json` or a `*.safetensors` file. */
export async function weightSetFromFile(path: string): Promise<WeightSet> {
  if (path.endsWith(".index.json")) return readWeightIndex(path);
  if (path.endsWith(".safetensors")) return { kind: "single", file: path, shards: [path] };
  throw usageError(
    "weights/override-kind",
    `--weights ${path}: expected a *.safetensors file or a *.safetensors.index.json index`,
  );
}

/** Looks for the standard set in `dir`: the index first, then model.safetensors. */
export async function findWeights(dir: string): Promise<WeightLookup> {
  const index = resolve(dir, INDEX_FILE);
  if (await isFile(index)) return { found: true, set: await readWeightIndex(index) };
  const single = resolve(dir, SINGLE_FILE);
  if (await isFile(single)) return { found: true, set: { kind: "single", file: single, shards: [single] } };
  let seen: string[] = [];
  try {
    seen = (await readdir(dir)).sort();
  } catch (e) {
    throw fsError(e, dir, "listing the model directory");
  }
  return { found: false, dir, seen };
}

/** The error for a directory without a standard safetensors set, listing what is there. */
export function noWeightsError(dir: string, seen: readonly string[]) {
  const weightish = seen.filter((f) =>
    /\.(safetensors|bin|pt|pth|gguf|h5|msgpack|ckpt)$|\.index\.json$/.test(f),
  );
  const alt = seen.filter((f) => f.endsWith(".safetensors") || f.endsWith(".safetensors.index.json"));
  const shown = seen.length > 20 ? [...seen.slice(0, 20), `... (${seen.length - 20} more)`] : seen;
  return invalidInput(
    "weights/not-found",
    `no ${INDEX_FILE} or ${SINGLE_FILE} in ${dir}` +
      (weightish.length ? `; weight-like files found: ${weightish.join(", ")}` : "; no weight files found"),
    {
      at: { file: dir },
      notes: [`directory contents: ${shown.length ? shown.join(", ") : "(empty)"}`],
      fix: alt.length
        ? `select a set explicitly, e.g. --weights ${basename(alt[0]!)}`
        : "download the safetensors weights, or convert a PyTorch checkpoint to safetensors",
    },
  );
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
