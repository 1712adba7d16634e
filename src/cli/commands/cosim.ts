/**
 * `pccxc cosim <out-dir> [--tokens N] [--prompt ids] [--qemu] [--numeric both|hardware|exact]`:
 * builds the output directory's C driver against the simulation HAL, runs load + prefill + N decode
 * steps against the functional simulator (over a pipe), and checks the tokens and every MMIO write /
 * DataMover command against the program, once per numeric pass: the shipped driver against the
 * hardware mode, and the PCCX_EXACT build against the exact mode, whose tokens must equal the golden
 * reference's (docs/driver.md, "Co-simulation"). Exit 0 when everything agrees, 2 when it does not,
 * 3 when a tool (gcc, aarch64 gcc, qemu-user) is missing.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { parseProgramBin } from "../../codegen/artifacts/bin-read.js";
import { readProgramJson } from "../../codegen/artifacts/json-read.js";
import type { Program } from "../../codegen/program.js";
import { ExitCode, ioError, PccxError, usageError } from "../../diag/index.js";
import type { WeightManifest } from "../../layout/image/manifest.js";
import { loadTarget, type Target } from "../../target/index.js";
import { type CosimNumeric, type CosimPass, type CosimReport, runCosim } from "../../validate/cosim/run.js";
import type { CliContext } from "../context.js";

interface CosimCliOptions {
  readonly tokens: string;
  readonly prompt: string;
  readonly qemu?: boolean;
  readonly numeric: string;
  readonly target?: string;
  readonly vocab?: string;
  readonly golden?: string;
  readonly keep?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

function ids(name: string, text: string): number[] {
  const parts = text.split(/[\s,]+/).filter((s) => s.length > 0);
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
    throw usageError("cosim/bad-option", `--${name} expects token ids separated by commas, got "${text}"`, {
      fix: `e.g. --${name} 1,2,3`,
    });
  }
  return parts.map(Number);
}

function count(name: string, text: string): number {
  if (!/^\d+$/.test(text))
    throw usageError("cosim/bad-option", `--${name} expects a non-negative integer, got "${text}"`);
  return Number(text);
}

function readProgram(dir: string): Program {
  const json = join(dir, "program.json");
  const bin = join(dir, "program.bin");
  if (existsSync(json)) return readProgramJson(readFileSync(json, "utf8"), { file: json });
  if (existsSync(bin)) return parseProgramBin(new Uint8Array(readFileSync(bin)), { file: bin }).program;
  throw ioError("cosim/no-program", `${dir} holds neither program.json nor program.bin`, {
    at: { file: dir },
    fix: "give the output directory of pccxc compile",
  });
}

function targetFor(p: Program, opt: string | undefined, cwd: string): Target {
  const t = loadTarget(opt ?? p.target, [], { cwd });
  if (t.fingerprint !== p.targetFingerprint) {
    throw new PccxError(
      "cosim/target-mismatch",
      ExitCode.INVALID_INPUT,
      `the program was compiled for ${p.targetFingerprint}, target ${t.file.name} is ${t.fingerprint}`,
      { fix: "pass --target with the target file the program was compiled with" },
    );
  }
  return t;
}

interface ReportJson {
  readonly model?: { readonly vocabSize?: number };
  readonly validation?: {
    readonly run?: { readonly prompt?: number[]; readonly goldenTokens?: number[] };
  } | null;
}

function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    throw new PccxError("cosim/bad-json", ExitCode.INVALID_INPUT, `${file} is not valid JSON`, {
      at: { file },
    });
  }
}

/**
 * Golden tokens: --golden, else the compile's functional validation (report.json) or golden.json
 * ({ prompt, tokens }) when their prompt is this one and they hold enough tokens.
 */
function goldenFor(
  dir: string,
  prompt: readonly number[],
  n: number,
  opt: string | undefined,
  report: ReportJson | undefined,
): number[] | undefined {
  if (opt !== undefined) return ids("golden", opt);
  const g = readJson<{ prompt?: number[]; tokens?: number[] }>(join(dir, "golden.json"));
  const run = report?.validation?.run;
  for (const c of [{ prompt: run?.prompt, tokens: run?.goldenTokens }, g]) {
    if (c?.prompt?.join(",") === prompt.join(",") && c.tokens && c.tokens.length >= n)
      return c.tokens.slice(0, n);
  }
  return undefined;
}

const NUMERIC: readonly CosimNumeric[] = ["both", "hardware", "exact"];

function numericOption(text: string): CosimNumeric {
  const n = NUMERIC.find((m) => m === text);
  if (!n)
    throw usageError("cosim/bad-option", `--numeric expects one of ${NUMERIC.join(", ")}, got "${text}"`, {
      fix: "e.g. --numeric both (the default)",
    });
  return n;
}

function passLines(p: CosimPass, golden: readonly number[] | undefined): string[] {
  const fl = p.finalLogits;
  return [
    `  ${p.numeric} pass:`,
    `    driver tokens    ${p.driverTokens.map((t) => `[${t.join(", ")}]`).join(" ")}`,
    `    simulator tokens [${p.simulatorTokens.join(", ")}]${
      golden && p.numeric === "exact"
        ? p.simulatorTokens.join(",") === golden.join(",")
          ? " = golden"
          : " ≠ golden"
        : ""
    }`,
    `    ${p.events} MMIO/DataMover events and notes, ${p.messages} messages; logs ${p.logsEqual ? "identical" : "DIFFER"}`,
    `    conformance: ${p.conformance.runs} segment runs, ${p.conformance.npu} instruction words and ${p.conformance.dma} DataMover commands checked, ${p.conformance.problems.length} problems`,
    `    simulator faults: ${p.simulatorFaults.length}${
      fl ? `; final logits: ${fl.differing} of ${fl.compared} differ (max |Δ| ${fl.maxAbsDiff})` : ""
    }`,
  ];
}

function summary(r: CosimReport): string[] {
  const lines = [
    `cosim (${r.platform}): prompt [${r.prompt.join(", ")}]`,
    ...(r.golden
      ? [
          `  golden tokens    [${r.golden.join(", ")}]${
            r.goldenEqual === undefined ? "" : r.goldenEqual ? " (exact pass equal)" : " (exact pass DIFFERS)"
          }`,
        ]
      : ["  golden tokens    (not given: the simulator's generation is the reference)"]),
    ...r.passes.flatMap((p) => passLines(p, r.golden)),
  ];
  for (const f of r.failures) lines.push(`  FAIL ${f}`);
  lines.push(r.ok ? "cosim: OK" : "cosim: FAILED");
  return lines;
}

export function registerCosim(program: Command, ctx: CliContext): void {
  program
    .command("cosim")
    .description("build the C driver against the simulation HAL and run it against the functional simulator")
    .argument("<out-dir>", "output directory of pccxc compile (program.json or program.bin, weights.bin)")
    .option("--tokens <n>", "decode steps", "8")
    .option("--prompt <ids>", "prompt token ids, comma-separated", "1,2,3")
    .option("--qemu", "build with aarch64-linux-gnu-gcc and run under qemu-aarch64")
    .option(
      "--numeric <mode>",
      "numeric passes: hardware (shipped driver vs hardware mode), exact (PCCX_EXACT build vs exact mode, tokens = golden), or both",
      "both",
    )
    .option("-t, --target <name|path>", "target (default: the one the program names)")
    .option(
      "--vocab <n>",
      "logits to sample from (default: report.json's vocabulary, else the whole logits region)",
    )
    .option(
      "--golden <ids>",
      "the golden reference's tokens for this prompt (default: report.json's validation run or golden.json)",
    )
    .option("--keep <dir>", "build in this directory and keep the driver, binary and logs")
    .option("--json", "print the report as JSON on stdout")
    .option("-q, --quiet", "no summary on stderr")
    .action((dir: string, opts: CosimCliOptions) => runCosimCommand(dir, opts, ctx));
}

async function runCosimCommand(dirArg: string, opts: CosimCliOptions, ctx: CliContext): Promise<void> {
  const dir = resolve(ctx.cwd, dirArg);
  const prompt = ids("prompt", opts.prompt);
  const tokens = count("tokens", opts.tokens);
  const numeric = numericOption(opts.numeric);
  const program = readProgram(dir);
  const target = targetFor(program, opts.target, ctx.cwd);
  const weights = join(dir, "weights.bin");
  if (!existsSync(weights))
    throw ioError("cosim/no-weights", `${weights} does not exist`, {
      at: { file: weights },
      fix: "give the output directory of pccxc compile",
    });
  const report = readJson<ReportJson>(join(dir, "report.json"));
  const golden = goldenFor(dir, prompt, tokens, opts.golden, report);
  const vocab = opts.vocab !== undefined ? count("vocab", opts.vocab) : report?.model?.vocabSize;
  const manifestFile = join(dir, "weights.json");
  const manifest = existsSync(manifestFile)
    ? (JSON.parse(readFileSync(manifestFile, "utf8")) as WeightManifest)
    : undefined;
  const result = await runCosim({
    program,
    target,
    image: new Uint8Array(readFileSync(weights)),
    prompt,
    tokens,
    numeric,
    ...(opts.qemu ? { qemu: true } : {}),
    ...(vocab !== undefined ? { vocab } : {}),
    ...(golden ? { golden } : {}),
    ...(manifest ? { manifest } : {}),
    ...(opts.keep ? { workDir: resolve(ctx.cwd, opts.keep) } : {}),
  });
  if (opts.json) ctx.json(result);
  const log = ctx.logger({ quiet: opts.quiet ?? false });
  for (const l of summary(result)) log.info(l);
  if (!result.ok) {
    throw new PccxError(
      "cosim/mismatch",
      ExitCode.INVALID_INPUT,
      `co-simulation failed: ${result.failures[0]}`,
      {
        notes: result.failures.slice(1, 6),
        fix: "rerun with --keep <dir> and compare driver-events.log with the program (docs/driver.md, Co-simulation)",
      },
    );
  }
}
