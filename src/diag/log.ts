/**
 * Logging and progress as an interface, so library code reports progress without knowing whether
 * it runs under the CLI (stderr, progress bars on a TTY) or in a test (silent).
 */

export interface Progress {
  tick(n?: number): void;
  done(): void;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  /** A progress bar for `total` units of work labelled `label`. */
  progress(label: string, total: number): Progress;
}

const noProgress: Progress = { tick() {}, done() {} };

export const silentLogger: Logger = {
  info() {},
  warn() {},
  debug() {},
  progress: () => noProgress,
};

/** A logger that records messages: for tests that assert what was logged. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(`info: ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn: ${m}`);
  }
  debug(m: string): void {
    this.lines.push(`debug: ${m}`);
  }
  progress(): Progress {
    return noProgress;
  }
}
