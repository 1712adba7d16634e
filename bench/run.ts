/**
 * `npm run bench [suite...]`: runs the benchmark suites (all by default), prints a table on stderr
 * and the figures as JSON on stdout. Exits 1 when a figure misses its target.
 */

import { suites } from "./suites.js";
import type { BenchFigure, BenchSuite } from "./types.js";

function meets(f: BenchFigure): boolean | undefined {
  if (!f.target) return undefined;
  return f.target.op === ">=" ? f.value >= f.target.value : f.value <= f.target.value;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1e6) return v.toExponential(3);
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

async function runAll(selected: readonly BenchSuite[]): Promise<number> {
  const results: Record<string, BenchFigure[]> = {};
  let missed = 0;
  for (const s of selected) {
    process.stderr.write(`# ${s.name}\n`);
    const figs = [...(await s.run())];
    results[s.name] = figs;
    for (const f of figs) {
      const ok = meets(f);
      if (ok === false) missed++;
      const tgt = f.target ? ` (target ${f.target.op} ${fmt(f.target.value)}: ${ok ? "met" : "MISSED"})` : "";
      process.stderr.write(`  ${f.name}: ${fmt(f.value)} ${f.unit}${tgt}${f.note ? ` — ${f.note}` : ""}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  return missed ? 1 : 0;
}

const wanted = process.argv.slice(2);
const selected = wanted.length ? suites.filter((s) => wanted.includes(s.name)) : suites;
if (wanted.length && selected.length !== wanted.length) {
  process.stderr.write(`unknown suite; available: ${suites.map((s) => s.name).join(", ")}\n`);
  process.exitCode = 1;
} else {
  process.exitCode = await runAll(selected);
}
