/**
 * Diagnostics shared by every stage: a typed error that carries what went wrong, where, how to fix
 * it and which documented exit code the CLI returns. User errors never surface as stack traces.
 */

/** Documented process exit codes (docs/cli.md). */
export const ExitCode = {
  OK: 0,
  USAGE: 1,
  INVALID_INPUT: 2,
  UNSUPPORTED: 3,
  IO: 4,
  INTERNAL: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type Severity = "error" | "warning" | "info";

/** Where a problem is: a file and, inside it, a JSON path, a byte offset or a line. */
export interface SourceLoc {
  readonly file?: string;
  readonly jsonPath?: string;
  readonly byteOffset?: number;
  readonly line?: number;
  readonly column?: number;
}

export interface Diagnostic {
  /** Stable machine id, `<stage>/<what>`, e.g. `isa/field-range`. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly at?: SourceLoc;
  readonly notes?: readonly string[];
  readonly fix?: string;
}

export interface ErrorDetails {
  readonly at?: SourceLoc;
  readonly notes?: readonly string[];
  readonly fix?: string;
}

/** The one error type the pipeline throws for anything a user can cause or fix. */
export class PccxError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly at?: SourceLoc;
  readonly notes: readonly string[];
  readonly fix?: string;

  constructor(code: string, exitCode: ExitCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = "PccxError";
    this.code = code;
    this.exitCode = exitCode;
    this.at = details.at;
    this.notes = details.notes ?? [];
    this.fix = details.fix;
  }

  toDiagnostic(): Diagnostic {
    return {
      code: this.code,
      severity: "error",
      message: this.message,
      ...(this.at ? { at: this.at } : {}),
      ...(this.notes.length ? { notes: this.notes } : {}),
      ...(this.fix ? { fix: this.fix } : {}),
    };
  }
}

export const usageError = (code: string, message: string, d?: ErrorDetails) =>
  new PccxError(code, ExitCode.USAGE, message, d);
export const invalidInput = (code: string, message: string, d?: ErrorDetails) =>
  new PccxError(code, ExitCode.INVALID_INPUT, message, d);
export const unsupported = (code: string, message: string, d?: ErrorDetails) =>
  new PccxError(code, ExitCode.UNSUPPORTED, message, d);
export const ioError = (code: string, message: string, d?: ErrorDetails) =>
  new PccxError(code, ExitCode.IO, message, d);

export function isPccxError(e: unknown): e is PccxError {
  return e instanceof PccxError;
}

export function formatLoc(at: SourceLoc): string {
  let s = at.file ?? "";
  if (at.line !== undefined) s += `:${at.line}${at.column !== undefined ? `:${at.column}` : ""}`;
  if (at.jsonPath !== undefined) s += `${s ? " " : ""}at ${at.jsonPath}`;
  if (at.byteOffset !== undefined) s += `${s ? " " : ""}(byte ${at.byteOffset})`;
  return s;
}

/** Human rendering: `error[code]: message`, then location, notes and the fix on indented lines. */
export function formatDiagnostic(d: Diagnostic): string {
  const lines = [`${d.severity}[${d.code}]: ${d.message}`];
  if (d.at) lines.push(`  --> ${formatLoc(d.at)}`);
  for (const n of d.notes ?? []) lines.push(`  note: ${n}`);
  if (d.fix) lines.push(`  fix: ${d.fix}`);
  return lines.join("\n");
}

/** Collects warnings and infos in a deterministic order (code, then location, then message). */
export class DiagnosticSink {
  private readonly items: Diagnostic[] = [];

  report(d: Diagnostic): void {
    this.items.push(d);
  }

  warn(code: string, message: string, details: ErrorDetails = {}): void {
    this.report({ code, severity: "warning", message, ...details });
  }

  info(code: string, message: string, details: ErrorDetails = {}): void {
    this.report({ code, severity: "info", message, ...details });
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }

  get all(): readonly Diagnostic[] {
    return this.items;
  }

  sorted(): readonly Diagnostic[] {
    const key = (d: Diagnostic) => `${d.code}\u0000${d.at ? formatLoc(d.at) : ""}\u0000${d.message}`;
    return [...this.items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }
}
