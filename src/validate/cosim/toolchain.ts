/**
 * The C toolchain co-simulation needs, found before anything runs: the host compiler, or for the
 * aarch64 run the cross compiler and qemu-user. A missing tool is an `unsupported` error (exit 3)
 * naming the Debian package that provides it; compiling runs with the Makefile's flags.
 */
import { spawnSync } from "node:child_process";
import { ExitCode, PccxError, unsupported } from "../../diag/index.js";
import { C_FLAGS, C_SOURCES } from "../../stubs/index.js";

export interface Toolchain {
  readonly cc: string;
  /** The command prefix that runs a built binary (qemu for the cross build). */
  readonly runner: readonly string[];
}

export const QEMU_SYSROOT = "/usr/aarch64-linux-gnu";

const TOOLS: Readonly<Record<string, string>> = {
  gcc: "gcc",
  "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
  "qemu-aarch64": "qemu-user",
};

/** Whether a command can be run (it exists on PATH). */
export function hasTool(cmd: string): boolean {
  const r = spawnSync(cmd, ["--version"], { stdio: "ignore" });
  return !r.error;
}

function need(cmd: string): void {
  if (hasTool(cmd)) return;
  const pkg = TOOLS[cmd] ?? cmd;
  throw unsupported("cosim/missing-tool", `co-simulation needs ${cmd}, which is not installed`, {
    fix: `install it: apt-get install ${pkg} (Debian package ${pkg})`,
  });
}

export function findToolchain(opts: { qemu?: boolean; cc?: string }): Toolchain {
  if (opts.qemu) {
    const cc = opts.cc ?? "aarch64-linux-gnu-gcc";
    need(cc);
    need("qemu-aarch64");
    return { cc, runner: ["qemu-aarch64", "-L", QEMU_SYSROOT] };
  }
  const cc = opts.cc ?? "gcc";
  need(cc);
  return { cc, runner: [] };
}

/**
 * Compiles the driver in `dir` with one HAL into `output`; throws the compiler's messages.
 * `defines`: extra macros (`PCCX_EXACT` builds the exact co-simulation driver).
 */
export function compileDriver(
  tc: Toolchain,
  dir: string,
  hal: string,
  output: string,
  defines: readonly string[] = [],
): void {
  const args = [
    ...C_FLAGS,
    ...defines.map((d) => `-D${d}`),
    "-o",
    output,
    ...C_SOURCES,
    `pccx_hal_${hal}.c`,
    "-lm",
  ];
  const r = spawnSync(tc.cc, args, { cwd: dir, encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new PccxError(
      "cosim/compile",
      ExitCode.INTERNAL,
      `${tc.cc} failed to build the driver (${hal} HAL) in ${dir}`,
      {
        notes: (r.stderr || String(r.error ?? ""))
          .split("\n")
          .filter((l) => l.trim())
          .slice(0, 12),
        fix: "the generated C must compile warning-free: report this as a bug in src/stubs",
      },
    );
  }
}
