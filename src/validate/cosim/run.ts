/**
 * `runCosim`: generates the driver, builds it with the simulation HAL (gcc, or the aarch64 cross
 * compiler to run under qemu-user), runs load + prefill + N decode steps against the simulator
 * served in this process, and checks (1) the tokens against the functional simulator's own
 * generation and the golden tokens when given, (2) that the driver's and the simulator's event
 * logs are identical, (3) that the log conforms to the program step by step, (4) that the
 * simulator saw no fault.
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
import type { Fault } from "../sim/types.js";
import { type ConformanceResult, checkConformance } from "./conformance.js";
import { CosimExecutor } from "./executor.js";
import { serve } from "./server.js";
import { compileDriver, findToolchain } from "./toolchain.js";

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
  /** The golden reference's tokens for this prompt, when known. */
  readonly golden?: readonly number[];
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

export interface CosimReport {
  readonly ok: boolean;
  readonly platform: "host" | "qemu-aarch64";
  readonly prompt: readonly number[];
  /** What the driver printed: one line per generation (two with --reset-repeat). */
  readonly driverTokens: readonly (readonly number[])[];
  readonly simulatorTokens: readonly number[];
  readonly golden?: readonly number[];
  readonly driverExit: number | null;
  readonly driverStderr: string;
  readonly simulatorFaults: readonly Fault[];
  readonly referenceFaults: readonly Fault[];
  readonly logsEqual: boolean;
  readonly logDifference?: string;
  readonly conformance: ConformanceResult;
  readonly messages: number;
  readonly events: number;
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
    const bin = join(work, o.qemu ? "pccx_run_sim_aarch64" : "pccx_run_sim");
    compileDriver(tc, dir, "sim", bin);
    const weights = join(work, "weights.bin");
    await writeFile(weights, o.image);
    const log = join(work, "driver-events.log");
    const x = new CosimExecutor(o.program, o.target, { busyPolls: o.busyPolls ?? 1 });
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
    const ref = simulateGeneration(o.program, image, o.target, o.prompt, o.tokens, "hardware", {
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
    if (o.golden && first.join(" ") !== o.golden.join(" ")) {
      const why =
        ref.tokens.join(" ") !== o.golden.join(" ")
          ? " (the simulator's hardware numeric mode differs from golden too: not a driver bug)"
          : "";
      failures.push(`driver tokens [${first}] differ from the golden reference's [${o.golden}]${why}`);
    }
    if (x.faultList.length)
      failures.push(`the simulator faulted ${x.faultList.length} time(s): ${x.faultList[0]!.message}`);
    if (ref.faults.length) failures.push(`the reference simulation faulted: ${ref.faults[0]!.message}`);
    if (diff) failures.push(`the driver's and the simulator's event logs differ at ${diff}`);
    if (conformance.problems.length)
      failures.push(`the event log does not follow the program: ${conformance.problems[0]}`);
    return {
      ok: failures.length === 0,
      platform: o.qemu ? "qemu-aarch64" : "host",
      prompt: o.prompt,
      driverTokens,
      simulatorTokens: ref.tokens,
      ...(o.golden ? { golden: o.golden } : {}),
      driverExit: run.code,
      driverStderr: run.stderr,
      simulatorFaults: x.faultList,
      referenceFaults: ref.faults,
      logsEqual: diff === undefined,
      ...(diff ? { logDifference: diff } : {}),
      conformance,
      messages: run.messages,
      events: serverLog.length,
      failures,
    };
  } finally {
    if (!o.workDir) await rm(work, { recursive: true, force: true });
  }
}

/** The log up to a reset (conformance replays one generation; the repeat is checked by tokens). */
function firstRunEnd(lines: readonly string[]): number {
  const i = lines.indexOf("# reset");
  return i < 0 ? lines.length : i;
}
