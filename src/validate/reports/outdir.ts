/**
 * Reading a compiled output directory (what `pccxc compile` writes) for `pccxc simulate`:
 * program.json (required, read by codegen's validating reader), and when present layout.json (the
 * WeightPlan's figures), ledger.json (the feature ledger), manifest.json (the model label),
 * weights.bin + weights.json (the weight image, for the functional simulation). Errors name the file
 * and say how to fix it.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseProgramJson } from "../../codegen/artifacts/json-read.js";
import type { Program } from "../../codegen/program.js";
import { invalidInput, ioError } from "../../diag/index.js";
import { ledgerFromJson } from "../../features/ledger.js";
import type { FeatureLedger } from "../../features/types.js";
import { WEIGHTS_FORMAT, type WeightManifest } from "../../layout/image/manifest.js";
import type { ReportInputs } from "./build.js";

export const OUT_FILES = {
  program: "program.json",
  layout: "layout.json",
  ledger: "ledger.json",
  manifest: "manifest.json",
  weights: "weights.bin",
  weightsManifest: "weights.json",
} as const;

export interface CompiledDir {
  readonly dir: string;
  readonly program: Program;
  readonly cvoExtensions: Readonly<Record<string, number>>;
  readonly layout?: NonNullable<ReportInputs["layout"]>;
  readonly ledger?: FeatureLedger;
  readonly modelLabel?: string;
  /** weights.json's per-tensor quantization error, when the directory holds it. */
  readonly quantization?: NonNullable<ReportInputs["quantization"]>;
}

async function readText(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : (e as Error).message;
    throw ioError("simulate/read", `cannot read ${path}: ${why}`, {
      at: { file: path },
      fix: "give the output directory of `pccxc compile` (it holds program.json)",
    });
  }
}

function parseJson(text: string, path: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (e) {
    throw invalidInput("simulate/json", `${path} is not valid JSON: ${(e as Error).message}`, {
      at: { file: path },
      fix: "recompile the model, or remove the damaged file",
    });
  }
  throw invalidInput("simulate/json", `${path} is not a JSON object`, {
    at: { file: path },
    fix: "recompile the model",
  });
}

function layoutOf(v: Record<string, unknown>, path: string): CompiledDir["layout"] {
  const usage = v.usage as Record<string, unknown> | undefined;
  const keys = [
    "onChipBytes",
    "l2Words",
    "streamedPerToken",
    "streamBytes",
    "offDdrBytes",
    "kvBytes",
    "ddrBytes",
  ];
  if (typeof v.summary !== "string" || !usage || keys.some((k) => typeof usage[k] !== "number")) {
    throw invalidInput(
      "simulate/layout",
      `${path} lacks the layout figures (summary, usage.{${keys.join(", ")}})`,
      {
        at: { file: path, jsonPath: "$.usage" },
        fix: "recompile the model with this pccxc, or remove layout.json (the report then says the layout was not run)",
      },
    );
  }
  return {
    summary: v.summary,
    usage: usage as never,
    ...(v.fit && typeof v.fit === "object" ? { fit: v.fit as never } : {}),
  };
}

/** Reads the compiled directory's program and the optional report inputs. */
export async function readCompiledDir(dir: string): Promise<CompiledDir> {
  const programPath = join(dir, OUT_FILES.program);
  const pf = parseProgramJson(await readText(dir, OUT_FILES.program), { file: programPath });
  const has = (n: string) => existsSync(join(dir, n));
  const out: { -readonly [K in keyof CompiledDir]: CompiledDir[K] } = {
    dir,
    program: pf.program,
    cvoExtensions: pf.cvoExtensions,
  };
  if (has(OUT_FILES.layout)) {
    const p = join(dir, OUT_FILES.layout);
    out.layout = layoutOf(parseJson(await readText(dir, OUT_FILES.layout), p), p);
  }
  if (has(OUT_FILES.ledger)) {
    const p = join(dir, OUT_FILES.ledger);
    out.ledger = ledgerFromJson(parseJson(await readText(dir, OUT_FILES.ledger), p), p);
  }
  if (has(OUT_FILES.weightsManifest)) {
    const w = parseJson(await readText(dir, OUT_FILES.weightsManifest), join(dir, OUT_FILES.weightsManifest));
    if (w.format === WEIGHTS_FORMAT && Array.isArray(w.quantization))
      out.quantization = w.quantization as NonNullable<ReportInputs["quantization"]>;
  }
  if (has(OUT_FILES.manifest)) {
    const m = parseJson(await readText(dir, OUT_FILES.manifest), join(dir, OUT_FILES.manifest));
    const label = (m.model as { label?: unknown } | undefined)?.label;
    if (typeof label === "string") out.modelLabel = label;
  }
  return out;
}

/** weights.bin and its manifest weights.json (for the functional simulation). */
export async function readWeightImage(dir: string): Promise<{ bin: Uint8Array; manifest: WeightManifest }> {
  const path = join(dir, OUT_FILES.weightsManifest);
  const m = parseJson(await readText(dir, OUT_FILES.weightsManifest), path);
  if (m.format !== WEIGHTS_FORMAT || !Array.isArray(m.regions) || !Array.isArray(m.tensors)) {
    throw invalidInput(
      "simulate/weights-manifest",
      `${path} is not a pccxc weight manifest (format "${WEIGHTS_FORMAT}")`,
      {
        at: { file: path, jsonPath: "$.format" },
        fix: "give the output directory of `pccxc compile` with its weights.json",
      },
    );
  }
  const binPath = join(dir, OUT_FILES.weights);
  let bin: Uint8Array;
  try {
    bin = new Uint8Array(await readFile(binPath));
  } catch (e) {
    throw ioError("simulate/read", `cannot read ${binPath}: ${(e as Error).message}`, {
      at: { file: binPath },
      fix: "the functional simulation needs the weight image; compile without --stop-after, or run `pccxc simulate --timing`",
    });
  }
  return { bin, manifest: m as unknown as WeightManifest };
}
