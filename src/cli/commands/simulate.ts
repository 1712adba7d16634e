/**
 * `pccxc simulate <out-dir> [--timing] [--functional] [--tokens N] [--context N] [--prompt N]
 * [--target NAME|PATH] [--set path=value]... [--json]`: simulates a compiled output directory
 * (docs/simulator.md), prints a summary and writes the report files (report.json, report.md,
 * report.html, layers.csv, roofline.svg, layers.svg, trace.json, trace.pccx) into the directory,
 * each atomically. Without --timing/--functional only the timing simulation runs; --functional
 * alone runs only the functional one; both flags run both.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { usageError } from "../../diag/index.js";
import { loadTarget, type Target } from "../../target/index.js";
import {
  type CompiledDir,
  readCompiledDir,
  type SimulateResult,
  simulateCompiled,
  writeReportFiles,
} from "../../validate/reports/index.js";
import type { CliContext } from "../context.js";

export interface SimulateCliOptions {
  readonly timing?: boolean;
  readonly functional?: boolean;
  readonly tokens?: string;
  readonly context?: string;
  readonly prompt?: string;
  readonly target?: string;
  readonly set?: string[];
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function count(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw usageError("simulate/option", `${flag} ${v}: expected an integer ≥ ${min}`, {
      fix: `e.g. ${flag} ${Math.max(min, 1)}`,
    });
  }
  return n;
}

export function registerSimulate(program: Command, ctx: CliContext): void {
  program
    .command("simulate")
    .description("time a compiled program on its target (and run it functionally), write the reports")
    .argument("<out-dir>", "output directory of `pccxc compile` (holds program.json)")
    .option("--timing", "run the timing simulation (the default)")
    .option(
      "--functional",
      "run the functional simulation on weights.bin (alone unless --timing is given too)",
    )
    .option("--tokens <n>", "decode tokens to simulate", "1")
    .option(
      "--context <n>",
      "KV rows the last decoded token attends to (default: the target's ring capacity)",
    )
    .option("--prompt <n>", "prompt tokens to prefill in the timing (default: one prefill chunk)")
    .option("--target <name|path>", "target to simulate on (default: the one the program was compiled for)")
    .option(
      "--set <path=value>",
      "override a target value (repeatable), e.g. ddr.efficiency=0.85",
      collect,
      [],
    )
    .option("--json", "print report.json on stdout")
    .option("-q, --quiet", "no summary on stderr")
    .option("-v, --verbose", "debug output on stderr")
    .action(async (dir: string, opts: SimulateCliOptions) => runSimulate(dir, opts, ctx));
}

function targetFor(d: CompiledDir, opts: SimulateCliOptions, ctx: CliContext): Target {
  const t = loadTarget(opts.target ?? d.program.target, opts.set ?? [], { cwd: ctx.cwd });
  if (t.fingerprint !== d.program.targetFingerprint) {
    if (!opts.target && !opts.set?.length) {
      throw usageError(
        "simulate/target",
        `program.json was compiled for ${d.program.targetFingerprint}, but the built-in ${d.program.target} is ${t.fingerprint}`,
        { fix: "give the target file it was compiled for with --target PATH (or recompile)" },
      );
    }
    ctx
      .logger(opts)
      .warn(`simulating a program compiled for ${d.program.targetFingerprint} on ${t.fingerprint} (what-if)`);
  }
  return t;
}

function summaryText(r: SimulateResult): string {
  const lines: string[] = [];
  const t = r.report.timing;
  const f3 = (v: number) => v.toFixed(3);
  if (t) {
    lines.push(
      `decode:  ${t.decode ? `${f3(t.decode.tokensPerSecond)} tok/s at context ${t.context}` : "not run"}`,
    );
    lines.push(
      `prefill: ${t.prefill ? `${f3(t.prefill.tokensPerSecond)} tok/s (${t.prefill.tokens} tokens)` : "not run"}`,
    );
    const d = t.detail;
    if (d) {
      const split = Object.entries(d.split)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${((v / d.cycles) * 100).toFixed(1)}%`)
        .join(", ");
      lines.push(`time:    ${split}`);
      lines.push(
        `roofline: ${f3(d.roofline.ratio)} of the ${d.roofline.limit} bound (${f3(d.roofline.bytesPerSecond / 1e9)} GB/s)`,
      );
    }
    for (const p of t.sweep) lines.push(`  context ${p.context}: ${f3(p.tokensPerSecond)} tok/s`);
  }
  const v = r.report.validation;
  if (v)
    lines.push(
      `functional: ${v.verdict}, ${v.faults} fault(s)${r.functional ? `, tokens ${r.functional.tokens.join(" ")}` : ""}`,
    );
  for (const msg of v?.firstFaults ?? []) lines.push(`  ${msg}`);
  return `${lines.join("\n")}\n`;
}

export async function runSimulate(dirArg: string, opts: SimulateCliOptions, ctx: CliContext): Promise<void> {
  const logger = ctx.logger({ quiet: opts.quiet, verbose: opts.verbose });
  const dir = resolve(ctx.cwd, dirArg);
  const functional = opts.functional === true;
  const timing = opts.timing === true || !functional;
  const tokens = count(opts.tokens, "--tokens", 1);
  const context = count(opts.context, "--context", 1);
  const prompt = count(opts.prompt, "--prompt", 0);
  const d = await readCompiledDir(dir);
  const target = targetFor(d, opts, ctx);
  logger.debug(`simulating ${dir} on ${target.fingerprint}`);
  const r = await simulateCompiled(d, target, {
    timing,
    functional,
    ...(tokens !== undefined ? { tokens } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(prompt !== undefined ? { prompt } : {}),
  });
  const written = await writeReportFiles(dir, r.files);
  if (opts.json) ctx.json(r.report);
  logger.info(summaryText(r).trimEnd());
  logger.info(`wrote ${written.join(", ")} in ${dir}`);
}
