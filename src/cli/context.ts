/**
 * What a CLI command gets from `main`: where to print (stdout is for results and `--json` only,
 * everything for people goes to stderr), the environment and a logger honouring --quiet/--verbose.
 */
import type { Logger, Progress } from "../diag/log.js";
import { prettyJson } from "../util/json.js";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is an interactive terminal (progress bars are drawn only then). */
  readonly stderrIsTTY: boolean;
}

export interface CliContext {
  readonly io: CliIo;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Set by the command once it knows its --quiet/--verbose flags. */
  logger(opts: { quiet?: boolean; verbose?: boolean }): Logger;
  /** Print a machine-readable result on stdout. */
  json(value: unknown): void;
  /** True once a command has printed its JSON result (an error then adds no second document). */
  readonly jsonWritten: boolean;
}

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  get stderrIsTTY() {
    return Boolean(process.stderr.isTTY);
  },
};

export function makeContext(io: CliIo, env: Record<string, string | undefined>, cwd: string): CliContext {
  let jsonWritten = false;
  return {
    io,
    env,
    cwd,
    get jsonWritten() {
      return jsonWritten;
    },
    json: (v) => {
      jsonWritten = true;
      io.stdout(prettyJson(v));
    },
    logger: (opts) => new StderrLogger(io, opts.quiet ?? false, opts.verbose ?? false),
  };
}

class StderrLogger implements Logger {
  constructor(
    private readonly io: CliIo,
    private readonly quiet: boolean,
    private readonly verbose: boolean,
  ) {}
  info(m: string): void {
    if (!this.quiet) this.io.stderr(`${m}\n`);
  }
  warn(m: string): void {
    this.io.stderr(`warning: ${m}\n`);
  }
  debug(m: string): void {
    if (this.verbose) this.io.stderr(`debug: ${m}\n`);
  }
  progress(label: string, total: number): Progress {
    if (this.quiet || !this.io.stderrIsTTY) return { tick() {}, done() {} };
    return new TtyProgress(this.io, label, total);
  }
}

/** A single-line progress bar redrawn on stderr, at most every 100 ms. */
class TtyProgress implements Progress {
  private n = 0;
  private last = 0;
  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    private readonly total: number,
  ) {}
  tick(k = 1): void {
    this.n += k;
    const now = Date.now();
    if (now - this.last < 100 && this.n < this.total) return;
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, this.n / this.total) : 1;
    const w = 30;
    const fill = Math.round(frac * w);
    this.io.stderr(
      `\r${this.label} [${"#".repeat(fill)}${"-".repeat(w - fill)}] ${(frac * 100).toFixed(0)}%`,
    );
  }
  done(): void {
    this.io.stderr(`\r${this.label} done${" ".repeat(40)}\n`);
  }
}
