/**
 * Benchmark suite "timing": the timing simulation of one Gemma 3n E4B decode token on kv260-v002,
 * on the program codegen produces from the published config alone (resolve → features → layout →
 * codegen, INT4 KV so that attention streams through the GEMV, the largest context 8192). Target:
 * ≤ 200 ms per token (best of 5, after one warm-up run). Also reported: the program's decode steps
 * and the simulated rate. Needs ../shared/configs; without it the suite reports nothing.
 *
 * Run alone: `npx tsx bench/timing.ts` (or `npm run bench timing` once registered in suites.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { codegen } from "../src/codegen/index.js";
import { prepareConfig, runFeatures } from "../src/features/index.js";
import { foldableNorms, planLayout } from "../src/layout/index.js";
import { parseConfigText } from "../src/parser/config/index.js";
import { resolve } from "../src/resolver/index.js";
import { loadTarget } from "../src/target/index.js";
import { decodeRuns, loadRuns, runTiming } from "../src/validate/timing/index.js";
import type { BenchFigure, BenchSuite } from "./types.js";

const CONFIG = fileURLToPath(
  new URL("../../shared/configs/google__gemma-3n-E4B-it/config.json", import.meta.url),
);
const REPEATS = 5;
const CONTEXT = 8192;

async function run(): Promise<readonly BenchFigure[]> {
  if (!existsSync(CONFIG)) {
    process.stderr.write(`  (skipped: ${CONFIG} not found)\n`);
    return [];
  }
  const target = loadTarget("kv260-v002");
  const parsed = prepareConfig(parseConfigText(readFileSync(CONFIG, "utf8"), CONFIG));
  const f = runFeatures(resolve(parsed).graph, parsed, target);
  const folded = new Set(foldableNorms(f.graph).map((c) => c.norm));
  const plan = planLayout(f.graph, target, { kvDtype: "int4", folded, context: CONTEXT });
  const program = codegen(f.graph, plan, target, {
    segments: ["decode"],
    model: "google/gemma-3n-E4B-it",
  }).program;
  const runs = [...loadRuns(program), ...decodeRuns(program, CONTEXT, 1)];
  const time = () => {
    const t0 = performance.now();
    const out = runTiming(program, target, { runs, maxContext: CONTEXT });
    return { ms: performance.now() - t0, out };
  };
  let last = time(); // warm-up
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < REPEATS; i++) {
    last = time();
    best = Math.min(best, last.ms);
  }
  const decode = last.out.result.runs.find((r) => r.kind === "decode")!;
  return [
    {
      name: "Gemma 3n E4B decode token, timing simulation",
      value: best,
      unit: "ms",
      target: { op: "<=", value: 200 },
      note: `best of ${REPEATS}, context ${CONTEXT}, kv260-v002`,
    },
    { name: "decode steps simulated", value: decode.counts.steps, unit: "steps" },
    {
      name: "simulated decode rate",
      value: decode.tokensPerSecond,
      unit: "tok/s",
      note: `roofline ratio ${decode.roofline.ratio.toFixed(3)}`,
    },
  ];
}

export const timingSuite: BenchSuite = { name: "timing", run };

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const fig of await run())
    process.stdout.write(
      `${fig.name}: ${fig.value.toFixed(3)} ${fig.unit}${fig.note ? ` (${fig.note})` : ""}\n`,
    );
}
