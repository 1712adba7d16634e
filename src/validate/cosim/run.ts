/**
 * `runCosim`: generates the driver, builds it with the simulation HAL (gcc, or the aarch64 cross
 * compiler to run under qemu-user), runs load + prefill + N decode steps against the simulator
 * served in this process, and checks, in each numeric pass (the driver as shipped against the
 * hardware mode; the PCCX_EXACT build against the exact mode), (1) the tokens against the
 * functional simulator's own generation in that mode, (2) that the driver's and the simulator's
 * event logs are identical, (3) that the log conforms to the program step by step, (4) that the
 * simulator saw no fault; and (5) the exact pass's tokens against the golden tokens when given.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Program } from "../../codegen/program.js";
import type { WeightManifest } from "../../layout/image/manifest.js";
import type { DriverOptions } from "../../stubs/index.js";
import { generateDriver, writeDriver } from "../../stubs/index.js";
import type { Target } from "../../target/index.js";
import { type KvGeometry, simulateGeneration } from "../sim/generate.js";
import { imageFromBytes, imageFromManifest } from "../sim/run.js";
import type { Fault, NumericMode } from "../sim/types.js";
import { type ConformanceResult, checkConformance } from "./conformance.js";
import { CosimExecutor } from "./executor.js";
import { serve } from "./server.js";
import { compileDriver, findToolchain, type Toolchain } from "./toolchain.js";

/**
 * The numeric passes of a co-simulation (docs/driver.md §5): `hardware` — the driver as shipped
 * against the simulator's hardware numeric mode; `exact` — the driver built with PCCX_EXACT (BF16
 * data crossing DDR kept as float32, KV codes unquantized, formulas' bf16() not rounded) against
 * the exact mode, whose tokens are the golden reference's; `both` (default) runs the two.
 */
export type CosimNumeric = "hardware" | "exact" | "both";

export interface CosimOptions {
  readonly program: Program;
  readonly target: Target;
  /** weights.bin bytes. */
  readonly image: Uint8Array;
  readonly prompt: readonly number[];
  readonly tokens: number;
  /** Build with aarch64-linux-gnu-gcc and run under qemu-aarch64. */
  readonly qemu?: boolean;
  readonly cc?: string;
  readonly vocab?: number;
  readonly layers?: Readonly<Record<number, KvGeometry>>;
  /** The golden reference's tokens for this prompt, when known (checked by the exact pass). */
  readonly golden?: readonly number[];
  /** Which numeric passes to run (default both). */
  readonly numeric?: CosimNumeric;
  /** Directory to build in (default: a temporary one, removed afterwards). */
  readonly workDir?: string;
  readonly busyPolls?: number;
  readonly timeoutMs?: number;
  /** weights.json: region file offsets and the tensors host functions read from the image. */
  readonly manifest?: WeightManifest;
  /** Called on the generated driver directory before it is compiled (tests break the driver on purpose). */
  readonly patchDriver?: (dir: string) => Promise<void>;
  /** Extra arguments for the driver's main (e.g. --reset-repeat). */
  readonly extraArgs?: readonly string[];
}

/** One numeric pass: the driver built for that mode against the simulator in that mode. */
export interface CosimPass {
  readonly numeric: NumericMode;
  /** What the driver printed: one line per generation (two with --reset-repeat). */
  readonly driverTokens: readonly (readonly number[])[];
  /** The functional simulator's own generation in this mode. */
  readonly simulatorTokens: readonly number[];
  readonly driverExit: number | null;
  readonly driverStderr: string;
  readonly simulatorFaults: readonly Fault[];
  readonly referenceFaults: readonly Fault[];
  readonly logsEqual: boolean;
  readonly logDifference?: string;
  readonly conformance: ConformanceResult;
  readonly messages: number;
  readonly events: number;
  /**
   * The logits in the simulator's DDR after the driver's last decode run against the reference's
   * for the last token (in this mode's reading: exact values in the exact pass): elements compared,
   * how many differ bitwise, the largest difference. Informational (host libm may differ in a last
   * bit); absent when the driver failed.
   */
  readonly finalLogits?: {
    readonly compared: number;
    readonly differing: number;
    readonly maxAbsDiff: number;
  };
  /** What does not hold in this pass (each prefixed with the mode in CosimReport.failures). */
  readonly failures: readonly string[];
}

/**
 * The co-simulation report. The top-level run fields are the hardware pass's (the exact pass's
 * when it ran alone); `passes` holds every pass; `failures` lists both passes' failures.
 */
export interface CosimReport extends Omit<CosimPass, "numeric" | "finalLogits" | "failures"> {
  readonly ok: boolean;
  readonly platform: "host" | "qemu-aarch64";
  readonly prompt: readonly number[];
  readonly golden?: readonly number[];
  /** The exact pass's driver tokens equal the golden tokens (absent: no golden or no exact pass). */
  readonly goldenEqual?: boolean;
  readonly passes: readonly CosimPass[];
  readonly failures: readonly string[];
}

const WRITE_LINE = /^(npu |dm |# )/;

function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: driver "${a[i] ?? "(end)"}", simulator "${b[i] ?? "(end)"}"`;
  }
  return undefined;
}

/** Runs a built driver binary with the simulation HAL on fd 3, serving it from `x` until it exits. */
export function runDriverProcess(cmd: readonly string[], x: CosimExecutor, t: Target, timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; messages: number }>((resolve) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const io = child.stdio[3] as unknown as import("node:stream").Duplex;
    const served = serve(x, t, io, io);
    const timer = setTimeout(() => {
      stderr += `\ncosim: the driver did not finish within ${timeoutMs} ms and was stopped`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", async (code) => {
      clearTimeout(timer);
      const r = await Promise.race([served, Promise.resolve({ messages: 0, bye: false })]);
      io.destroy();
      resolve({ code, stdout, stderr, messages: r.messages });
    });
  });
}

const PASSES: Readonly<Record<CosimNumeric, readonly NumericMode[]>> = {
  hardware: ["hardware"],
  exact: ["exact"],
  both: ["hardware", "exact"],
};

export async function runCosim(o: CosimOptions, driverOpts: DriverOptions = {}): Promise<CosimReport> {
  const tc = findToolchain({ ...(o.qemu ? { qemu: true } : {}), ...(o.cc ? { cc: o.cc } : {}) });
  const work = o.workDir ?? (await mkdtemp(join(tmpdir(), "pccx-cosim-")));
  try {
    const dir = join(work, "driver");
    const opts: DriverOptions = {
      image: o.image,
      ...(o.vocab !== undefined ? { vocab: o.vocab } : {}),
      ...(o.layers ? { layers: o.layers } : {}),
      ...(o.manifest ? { manifest: o.manifest } : {}),
      ...driverOpts,
    };
    await writeDriver(generateDriver(o.program, o.target, opts), dir);
    if (o.patchDriver) await o.patchDriver(dir);
    const weights = join(work, "weights.bin");
    await writeFile(weights, o.image);
    const passes: CosimPass[] = [];
    for (const mode of PASSES[o.numeric ?? "both"]) passes.push(await runPass(o, mode, tc, work, weights));
    const main = passes[0]!;
    const exact = passes.find((p) => p.numeric === "exact");
    const failures = passes.flatMap((p) => p.failures.map((f) => `${p.numeric}: ${f}`));
    let goldenEqual: boolean | undefined;
    if (o.golden && exact) {
      const first = exact.driverTokens[0] ?? [];
      goldenEqual = first.join(" ") === o.golden.join(" ");
      if (!goldenEqual) {
        const why =
          exact.simulatorTokens.join(" ") !== o.golden.join(" ")
            ? " (the exact simulator's differ too: the program, not the driver, departs from the model)"
            : "";
        failures.push(
          `exact: driver tokens [${first}] differ from the golden reference's [${o.golden}]${why}`,
        );
      }
    }
    return {
      ok: failures.length === 0,
      platform: o.qemu ? "qemu-aarch64" : "host",
      prompt: o.prompt,
      driverTokens: main.driverTokens,
      simulatorTokens: main.simulatorTokens,
      ...(o.golden ? { golden: o.golden } : {}),
      ...(goldenEqual !== undefined ? { goldenEqual } : {}),
      driverExit: main.driverExit,
      driverStderr: main.driverStderr,
      simulatorFaults: main.simulatorFaults,
      referenceFaults: main.referenceFaults,
      logsEqual: passes.every((p) => p.logsEqual),
      ...(main.logDifference ? { logDifference: main.logDifference } : {}),
      conformance: main.conformance,
      messages: main.messages,
      events: main.events,
      passes,
      failures,
    };
  } finally {
    if (!o.workDir) await rm(work, { recursive: true, force: true });
  }
}

/** Builds the driver for one numeric mode, runs it against the simulator in that mode, checks it. */
async function runPass(
  o: CosimOptions,
  mode: NumericMode,
  tc: Toolchain,
  work: string,
  weights: string,
): Promise<CosimPass> {
  const exact = mode === "exact";
  const suffix = `${exact ? "_exact" : ""}${o.qemu ? "_aarch64" : ""}`;
  const bin = join(work, `pccx_run_sim${suffix}`);
  compileDriver(tc, join(work, "driver"), "sim", bin, exact ? ["PCCX_EXACT"] : []);
  const log = join(work, `driver-events${exact ? "-exact" : ""}.log`);
  const x = new CosimExecutor(o.program, o.target, { busyPolls: o.busyPolls ?? 1, mode });
  const cmd = [
    ...tc.runner,
    bin,
    "--weights",
    weights,
    "--tokens",
    String(o.tokens),
    "--hal",
    `fds=3,3;log=${log}`,
    ...(o.extraArgs ?? []),
    ...o.prompt.map(String),
  ];
  const run = await runDriverProcess(cmd, x, o.target, o.timeoutMs ?? 120_000);
  const lines = run.stdout.split("\n").filter((l) => l.trim().length > 0);
  const driverTokens = lines.map((l) => l.trim().split(/\s+/).map(Number));
  const image = o.manifest ? imageFromManifest(o.image, o.manifest) : imageFromBytes(o.image);
  const ref = simulateGeneration(o.program, image, o.target, o.prompt, o.tokens, mode, {
    ...(o.vocab !== undefined ? { logits: { vocab: o.vocab } } : {}),
    ...(o.layers ? { layers: o.layers } : {}),
  });
  const driverLog = (await readFile(log, "utf8").catch(() => ""))
    .split("\n")
    .filter((l) => WRITE_LINE.test(l));
  const serverLog = x.events.filter((l) => WRITE_LINE.test(l));
  const diff = firstDifference(driverLog, serverLog);
  const first = driverTokens[0] ?? [];
  const conformance = checkConformance({
    program: o.program,
    target: o.target,
    events: serverLog.slice(0, firstRunEnd(serverLog)),
    buffers: new Map(x.buffers.map((b) => [b.name, b.phys])),
    sequence: [...o.prompt, ...first],
    promptLength: o.prompt.length,
    ...(o.layers ? { layers: o.layers } : {}),
  });
  const failures: string[] = [];
  if (run.code !== 0)
    failures.push(
      `the driver exited with ${run.code}: ${run.stderr.trim().split("\n").slice(-3).join(" | ")}`,
    );
  for (const [i, toks] of driverTokens.entries()) {
    if (toks.join(" ") !== ref.tokens.join(" "))
      failures.push(
        `generation ${i + 1}: driver tokens [${toks}] differ from the simulator's [${ref.tokens}]`,
      );
  }
  if (x.faultList.length)
    failures.push(`the simulator faulted ${x.faultList.length} time(s): ${x.faultList[0]!.message}`);
  if (ref.faults.length) failures.push(`the reference simulation faulted: ${ref.faults[0]!.message}`);
  if (diff) failures.push(`the driver's and the simulator's event logs differ at ${diff}`);
  if (conformance.problems.length)
    failures.push(`the event log does not follow the program: ${conformance.problems[0]}`);
  const finalLogits = run.code === 0 ? compareLogits(o, x, ref.steps[ref.steps.length - 1]) : undefined;
  return {
    numeric: mode,
    driverTokens,
    simulatorTokens: ref.tokens,
    driverExit: run.code,
    driverStderr: run.stderr,
    simulatorFaults: x.faultList,
    referenceFaults: ref.faults,
    logsEqual: diff === undefined,
    ...(diff ? { logDifference: diff } : {}),
    conformance,
    messages: run.messages,
    events: serverLog.length,
    ...(finalLogits ? { finalLogits } : {}),
    failures,
  };
}

/** The executor's logits (read as the driver samples them: f32 when a host step writes them so). */
function compareLogits(
  o: CosimOptions,
  x: CosimExecutor,
  want: ArrayLike<number> | undefined,
): CosimPass["finalLogits"] {
  const region = o.program.ddr.find((r) => r.kind === "logits");
  if (!want || !region) return undefined;
  const f32 = o.program.segments.some((s) =>
    s.steps.some(
      (st) => st.kind === "host" && st.outputs.some((p) => p.region === region.name && p.dtype === "f32"),
    ),
  );
  const got = x.machine.read({ region: region.name, elements: want.length, dtype: f32 ? "f32" : "bf16" });
  let differing = 0;
  let maxAbsDiff = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
    differing++;
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
  }
  return { compared: want.length, differing, maxAbsDiff };
}

/** The log up to a reset (conformance replays one generation; the repeat is checked by tokens). */
function firstRunEnd(lines: readonly string[]): number {
  const i = lines.indexOf("# reset");
  return i < 0 ? lines.length : i;
}
