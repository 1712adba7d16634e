/**
 * Ordering checks (docs/program.md §6): every asynchronous producer records the range it writes
 * (L2 words, constant-cache entries, DDR bytes) and the completion point that ends it: NPU idle for
 * an async instruction, the DataMover command's status for an acp_result transfer. A step that
 * reads (or writes) such a range before the matching `wait` faults. Synchronous steps record
 * nothing: an instruction without async is finished before the next instruction starts, and host
 * steps run to completion on the driver thread.
 */
import { fault } from "./faults.js";

export type Until =
  | { readonly kind: "npu" }
  | { readonly kind: "dma"; readonly channel: string; readonly seq: number };

interface Pending {
  readonly space: string;
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly label: string;
  readonly until: Until;
}

function describe(space: string, start: number, end: number): string {
  const range = `${start}..${end - 1}`;
  if (space === "l2") return `L2 words ${range}`;
  if (space === "const") return `constant-cache entries ${range}`;
  return `bytes ${range} of DDR region "${space.slice(4)}"`;
}

function waitFor(u: Until): string {
  return u.kind === "npu" ? "wait npu-idle" : `wait on ${u.channel}'s DataMover status`;
}

export class Hazards {
  private pending: Pending[] = [];

  add(space: string, start: number, end: number, step: number, label: string, until: Until): void {
    if (end > start) this.pending.push({ space, start, end, step, label, until });
  }

  private find(space: string, start: number, end: number): Pending | undefined {
    for (const p of this.pending) if (p.space === space && p.start < end && start < p.end) return p;
    return undefined;
  }

  checkRead(space: string, start: number, end: number, what: string): void {
    const p = end > start ? this.find(space, start, end) : undefined;
    if (p) {
      throw fault(
        "raw-hazard",
        `${what} reads ${describe(space, Math.max(start, p.start), Math.min(end, p.end))}, which step ` +
          `${p.step} (${p.label}) is still producing: no ${waitFor(p.until)} between them`,
      );
    }
  }

  checkWrite(space: string, start: number, end: number, what: string): void {
    const p = end > start ? this.find(space, start, end) : undefined;
    if (p) {
      throw fault(
        "waw-hazard",
        `${what} writes ${describe(space, Math.max(start, p.start), Math.min(end, p.end))}, which step ` +
          `${p.step} (${p.label}) is still producing: no ${waitFor(p.until)} between them`,
      );
    }
  }

  /** NPU idle: every async instruction has finished. */
  npuIdle(): void {
    this.pending = this.pending.filter((p) => p.until.kind !== "npu");
  }

  /** A DataMover status: the command `seq` and every earlier one on the channel have finished. */
  dmaDone(channel: string, seq: number): void {
    this.pending = this.pending.filter(
      (p) => p.until.kind !== "dma" || p.until.channel !== channel || p.until.seq > seq,
    );
  }

  /** What is still in flight (reported at segment end), then forgotten. */
  drain(): readonly Pending[] {
    const left = this.pending;
    this.pending = [];
    return left;
  }

  static describe = describe;
  static waitFor = waitFor;
}
