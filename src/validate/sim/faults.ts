/**
 * Fault reporting. Step executors throw a `SimFault` (kind + detail) to abort the step; the machine
 * loop catches it, adds the location (segment, step, origin) and either records it or, with
 * `throwOnFault`, rethrows it as a PccxError `sim/<kind>` (exit 2: the program breaks its contract).
 */
import { invalidInput, PccxError } from "../../diag/index.js";
import type { Fault, FaultKind } from "./types.js";

/** Thrown inside a step to abort it with a contract violation. */
export class SimFault extends Error {
  constructor(
    readonly kind: FaultKind,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "SimFault";
  }
}

export function fault(kind: FaultKind, detail: string): SimFault {
  return new SimFault(kind, detail);
}

export interface FaultAt {
  readonly segment: string;
  readonly step: number;
  readonly run: number;
  readonly origin: string;
}

export function formatFault(kind: FaultKind, at: FaultAt, detail: string): Fault {
  const where = at.step >= 0 ? `${at.segment} step ${at.step}` : `end of ${at.segment}`;
  const label = at.origin ? ` (${at.origin})` : "";
  return { kind, ...at, detail, message: `${where}${label}: ${detail}` };
}

/** Collects faults, or throws on the first one. */
export class FaultLog {
  readonly faults: Fault[] = [];

  constructor(
    private readonly throwOnFault: boolean,
    readonly maxFaults: number,
  ) {}

  add(kind: FaultKind, at: FaultAt, detail: string): void {
    const f = formatFault(kind, at, detail);
    if (this.throwOnFault) {
      throw invalidInput(`sim/${kind}`, f.message, {
        fix: "the program breaks the execution contract of docs/program.md: fix the stage that produced it",
      });
    }
    this.faults.push(f);
  }

  get full(): boolean {
    return this.faults.length >= this.maxFaults;
  }
}

/** A SimFault, or a PccxError from a shared module (e.g. the ISA encoder), as a fault kind + detail. */
export function asFault(e: unknown, fallback: FaultKind): SimFault | undefined {
  if (e instanceof SimFault) return e;
  if (e instanceof PccxError) return new SimFault(fallback, e.message);
  return undefined;
}
