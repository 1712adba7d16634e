/**
 * `npm run bench pipeline`: the whole pipeline as users run it.
 * - a full compile of the tiny llama (examples/tiny/llama): every stage, functional validation on;
 * - the config-only plan of Gemma 3n E4B (../shared/configs, else examples/configs' E2B) at the three
 *   default contexts on kv260-v002 — target ≤ 3 s;
 * - the config-only batch over every config of ../shared/configs.
 * Wall-clock times of one run each (the first run includes module loading, as a CLI call does).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { batch } from "../src/pipeline/batch.js";
import { expandInputs } from "../src/pipeline/batch-inputs.js";
import { compile } from "../src/pipeline/compile.js";
import { plan } from "../src/pipeline/plan.js";
import type { BenchFigure, BenchSuite } from "./types.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SHARED = fileURLToPath(new URL("../../shared/configs/", import.meta.url));

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function compileTiny(): Promise<BenchFigure> {
  const dir = await mkdtemp(join(tmpdir(), "pccxc-bench-pipeline-"));
  const name = "compile tiny llama (all stages, validation on)";
  const t0 = performance.now();
  try {
    const r = await compile(join(ROOT, "examples/tiny/llama"), {
      out: join(dir, "out"),
      cwd: ROOT,
      validate: "on",
      offline: true,
    });
    const note = `validation ${r.summary.validation.verdict}, ${r.manifest.outputs.length} files`;
    return { name, value: performance.now() - t0, unit: "ms", note };
  } catch (e) {
    // a failed compile is still timed; the note says why it failed
    const code = (e as { code?: string }).code ?? "internal";
    return {
      name,
      value: performance.now() - t0,
      unit: "ms",
      note: `FAILED ${code}: ${(e as Error).message.split("\n")[0]}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function planGemma(): Promise<BenchFigure> {
  const e4b = join(SHARED, "google__gemma-3n-E4B-it");
  const model = existsSync(e4b) ? e4b : join(ROOT, "examples/configs/google__gemma-3n-E2B-it");
  const { ms, value } = await timed(() => plan(model, { cwd: ROOT, offline: true }));
  const t = value.targets[0]!;
  const rates = (t.performance ?? [])
    .map((p) => `${p.context}: ${p.decodeTokensPerSecond.toFixed(2)}`)
    .join(", ");
  return {
    name: `plan ${value.model} (config only, 3 contexts)`,
    value: ms,
    unit: "ms",
    target: { op: "<=", value: 3000 },
    note: `${t.verdict}; decode tok/s ${rates || "none"}${t.error ? `; ${t.error.code}` : ""}`,
  };
}

async function batchShared(): Promise<BenchFigure[]> {
  if (!existsSync(SHARED))
    return [
      { name: "batch ../shared/configs", value: 0, unit: "ms", note: "skipped: ../shared/configs is absent" },
    ];
  const inputs = await expandInputs([], { shared: SHARED, cwd: ROOT });
  const { ms, value } = await timed(() => batch(inputs, { cwd: ROOT, offline: true }));
  return [
    {
      name: `batch ../shared/configs (${inputs.length} models, config only)`,
      value: ms,
      unit: "ms",
      note: `${value.passed} passed, ${value.failed} failed (exit ${value.exitCode})`,
    },
  ];
}

export const pipelineSuite: BenchSuite = {
  name: "pipeline",
  async run() {
    return [await compileTiny(), await planGemma(), ...(await batchShared())];
  },
};
